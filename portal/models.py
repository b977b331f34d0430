from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .audit_actions import AuditAction


class OutgoingEmail(models.Model):
    """One message of the outbox: written in the transaction of the change it reports, so it exists
    exactly when the change was committed, and sent by a worker. A message the broker lost (Redis
    restarted, unreachable at commit time) is sent by the sweeper (portal.emails.send_pending)."""

    subject = models.CharField(_("subject"), max_length=998)
    body = models.TextField(_("body"), blank=True, help_text=_("Cleared once the message is sent."))
    # The same message as HTML, sent as the alternative of the plain text.
    html_body = models.TextField(_("HTML body"), blank=True, help_text=_("Cleared once the message is sent."))
    recipients = models.TextField(_("recipients"), help_text=_("One address per line."))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # A worker that takes the message holds it until then; another worker (or the sweeper) waits.
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        indexes = [models.Index(fields=["created_at"], name="outbox_unsent_idx",
                                condition=models.Q(sent_at__isnull=True))]

    def __str__(self):
        return self.subject

    @property
    def to(self) -> list[str]:
        return [line for line in self.recipients.splitlines() if line]


class AuditChainHead(models.Model):
    """The single row that serialises appends to the audit chain.

    Appending locks this row (SELECT ... FOR UPDATE), so two concurrent writers can never
    both link to the same previous event and fork the chain."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    head_hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        # The audit tables keep the names they had when the trail lived in compliance: the models moved,
        # the rows (and the PostgreSQL append-only trigger on compliance_auditevent) did not.
        db_table = "compliance_auditchainhead"
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audit_chain_head_singleton")]


class AuditEvent(models.Model):
    """An append-only, hash-chained record of a state change.

    The hashed payload holds no personal details: the actor is referenced by id and names are
    resolved when displayed, so erasing a person leaves the chain verifiable. The client address
    lives in AuditEventContext, which may be erased."""

    seq = models.BigIntegerField(unique=True)
    created_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    action = models.CharField(max_length=80, db_index=True, choices=AuditAction.choices)
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=64)
    changes = models.JSONField(default=dict)
    request_id = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        db_table = "compliance_auditevent"
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "seq"], name="audit_object_idx"),
            models.Index(fields=["created_at"], name="audit_created_idx"),
            # The trail searched by an object's id alone (compliance.selectors.audit_event_overview): without
            # it PostgreSQL read the 500,000 events backwards by number (1.6 s; 1.7 ms with it).
            models.Index(fields=["object_id"], name="audit_object_id_idx"),
        ]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self):
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"


class AuditEventContext(models.Model):
    """Personal request context of an audit event, kept outside the hashed, immutable row."""

    event = models.OneToOneField(AuditEvent, on_delete=models.DO_NOTHING, db_constraint=False,
                                 primary_key=True, related_name="context")
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        db_table = "compliance_auditeventcontext"
