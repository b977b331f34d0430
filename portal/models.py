from django.db import models
from django.utils.translation import gettext_lazy as _


class OutgoingEmail(models.Model):
    """One message of the outbox: written in the transaction of the change it reports, so it exists
    exactly when the change was committed, and sent by a worker. A message the broker lost (Redis
    restarted, unreachable at commit time) is sent by the sweeper (portal.emails.send_pending)."""

    subject = models.CharField(_("subject"), max_length=998)
    body = models.TextField(_("body"), blank=True, help_text=_("Cleared once the message is sent."))
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
