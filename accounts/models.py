import collections
import datetime
import hashlib
import hmac
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from portal.vocabulary import choice_label, choices_class

from .countries import EU_COUNTRIES
from .sme import SMEClass, sme_class
from .validators import plain_name_validator


def portal_languages():
    return settings.LANGUAGES


def default_language():
    return settings.LANGUAGE_CODE


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. E-mail is the login; there is no username."""

    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    is_staff = models.BooleanField(_("Django admin access"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The language the portal writes to the person in (every mail, whoever's action sent it): taken from
    # the browser at sign-up, changed on the account page.
    language = models.CharField(_("language"), max_length=8, choices=portal_languages, default=default_language)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.full_name or self.email

    def get_full_name(self):
        return self.display_name

    def get_short_name(self):
        return self.display_name


class OrganisationType(models.TextChoices):
    SME = "sme", _("SME")
    STARTUP = "startup", _("Start-up")
    RESEARCH = "research", _("Research organisation")
    PUBLIC_BODY = "public_body", _("Public body")
    LARGE_ENTERPRISE = "large_enterprise", _("Large enterprise")


class Sector(models.TextChoices):
    HEALTH = "health", _("Health")
    SECURITY = "security", _("Security")
    SPACE = "space", _("Space")
    DEFENCE = "defence", _("Defence")
    PUBLIC_SERVICES = "public_services", _("Public services")
    MANUFACTURING = "manufacturing", _("Manufacturing")
    RESEARCH = "research", _("Research")
    OTHER = "other", _("Other")


# Sectors whose applications always go to an ethics officer and to restricted reviewer pools.
SENSITIVE_SECTORS = frozenset({Sector.DEFENCE, Sector.SECURITY})


class OrganisationQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user).distinct()


class Organisation(models.Model):
    legal_name = models.CharField(_("legal name"), max_length=200, validators=[plain_name_validator])
    country = models.CharField(_("country"), max_length=2, choices=EU_COUNTRIES)
    org_type = models.CharField(_("organisation type"), max_length=20, choices=OrganisationType.choices)
    vat_number = models.CharField(_("VAT or enterprise number"), max_length=20, unique=True)
    headcount = models.PositiveIntegerField(_("staff headcount (annual work units)"))
    annual_turnover = models.DecimalField(_("annual turnover (EUR)"), max_digits=15, decimal_places=2,
                                          validators=[MinValueValidator(Decimal("0"))])
    balance_sheet_total = models.DecimalField(_("balance-sheet total (EUR)"), max_digits=15, decimal_places=2,
                                              validators=[MinValueValidator(Decimal("0"))])
    sectors = models.JSONField(_("sectors"), default=list, blank=True)
    sme_class = models.CharField(_("EU SME class"), max_length=10, choices=SMEClass.choices, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    erased = models.BooleanField(default=False, editable=False)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        ordering = ["legal_name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [
            models.CheckConstraint(condition=models.Q(annual_turnover__gte=0), name="org_turnover_non_negative"),
            models.CheckConstraint(condition=models.Q(balance_sheet_total__gte=0), name="org_balance_non_negative"),
        ]

    def __str__(self):
        return self.legal_name

    def save(self, *args, **kwargs):
        # The SME class is derived, never typed: recompute whenever the figures are saved.
        self.sme_class = self.compute_sme_class()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = set(update_fields) | {"sme_class"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("accounts:organisation_detail", args=[self.pk])

    def compute_sme_class(self) -> str:
        return sme_class(
            headcount=self.headcount or 0,
            turnover=Decimal(self.annual_turnover or 0),
            balance_sheet=Decimal(self.balance_sheet_total or 0),
            public_body=self.org_type == OrganisationType.PUBLIC_BODY,
        )

    def get_sectors_display(self) -> list[str]:
        labels = dict(Sector.choices)
        return [str(labels.get(code, code)) for code in self.sectors]


class MembershipRole(models.TextChoices):
    OWNER = "owner", _("Owner")
    MEMBER = "member", _("Member")


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=MembershipRole.choices, default=MembershipRole.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation"], name="membership_unique"),
            models.CheckConstraint(condition=models.Q(role__in=MembershipRole.values), name="membership_role_valid"),
        ]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self):
        return f"{self.user} @ {self.organisation} ({self.role})"


class Invitation(models.Model):
    """An e-mailed invitation to join an organisation. Only the token's hash is stored."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("e-mail address"))
    role = models.CharField(max_length=10, choices=MembershipRole.choices, default=MembershipRole.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self):
        return f"{self.email} -> {self.organisation}"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class AddressedMailKind(models.TextChoices):
    INVITATION = "invitation", _("Invitation to an organisation")
    TEAM_CONFIRMATION = "team_confirmation", _("Team confirmation")


class AddressedMail(models.Model):
    """A message the portal sent on an organisation's behalf to an address one of its members typed (an
    invitation, a team confirmation): what the daily limit counts and the cool-down looks up
    (accounts.services.addressed_mail_record). The address is kept as a keyed hash, and a row only as
    long as a limit reads it."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=AddressedMailKind.choices)
    # What the message is about ("accounts.organisation:12", "allocations.application:34"): the cool-down
    # is per address and subject, so that a colleague can be invited and added to a team in the same hour.
    about = models.CharField(max_length=100)
    address_hash = models.CharField(max_length=64)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["organisation", "sent_at"], name="addressed_mail_org_idx"),
                   models.Index(fields=["address_hash", "about", "sent_at"], name="addressed_mail_address_idx"),
                   models.Index(fields=["sent_at"], name="addressed_mail_sent_idx")]

    @staticmethod
    def hash_address(email: str) -> str:
        return hmac.new(settings.SECRET_KEY.encode(), email.strip().lower().encode(), hashlib.sha256).hexdigest()


class ApiTokenScope(models.TextChoices):
    READ = "read", _("Read")
    WRITE = "write", _("Write")


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        now = timezone.now()
        return self.filter(revoked_at=None).filter(models.Q(expires_at=None) | models.Q(expires_at__gt=now))


class ApiToken(models.Model):
    """A personal token for programs calling the API (header ``Authorization: Token <secret>``).

    Only the SHA-256 of the secret is stored; the secret is shown once, when the token is created.
    ``prefix`` is the public part of the secret, used to find the row before comparing hashes."""

    PREFIX_LENGTH = 8

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    token_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(_("scopes"), default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_secret(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])

    @property
    def can_write(self) -> bool:
        return self.has_scope(ApiTokenScope.WRITE)


# --- notifications ---------------------------------------------------------------------------------


class NotificationKind(models.TextChoices):
    """What a notification tells; the label is the mail's subject (with the application's reference)."""

    REVIEWER_ASSIGNED = "reviewer_assigned", _("Review assigned to you")
    ETHICS_QUEUED = "ethics_queued", _("Waiting for an ethics review")
    REVIEW_SUBMITTED = "review_submitted", _("Review submitted")
    CONFLICT_DECLARED = "conflict_declared", _("Conflict of interest declared")
    READY_FOR_DECISION = "ready_for_decision", _("Ready for a decision")
    FINAL_REPORT_DUE_SOON = "final_report_due_soon", _("Final report due soon")
    FINAL_REPORT_DUE_TODAY = "final_report_due_today", _("Final report due today")
    FINAL_REPORT_SUBMITTED = "final_report_submitted", _("Final report submitted")
    FINAL_REPORT_MORE_ASKED = "final_report_more_asked", _("More asked on a final report")
    FINAL_REPORT_ACCEPTED = "final_report_accepted", _("Final report accepted")
    EVIDENCE_SUBMITTED = "evidence_submitted", _("Evidence for an ethics condition")
    EVIDENCE_DECIDED = "evidence_decided", _("Your evidence was examined")


# The sentence of each kind, filled from the notification's params when it is read (so in the reader's
# language). A kind with a due date has a second sentence for the rare case without one.
NOTIFICATION_TEXTS = {
    NotificationKind.REVIEWER_ASSIGNED: (
        _("The access committee asks you to review %(reference)s (%(organisation)s), due %(due)s. Kind of "
          "review: %(review_kind)s. Declare any conflict of interest before you read the application."),
        _("The access committee asks you to review %(reference)s (%(organisation)s). Kind of review: "
          "%(review_kind)s. Declare any conflict of interest before you read the application.")),
    NotificationKind.ETHICS_QUEUED: (
        _("%(reference)s (%(organisation)s) waits for an ethics review; the decision on the application is due "
          "%(due)s."),
        _("%(reference)s (%(organisation)s) waits for an ethics review.")),
    NotificationKind.REVIEW_SUBMITTED: (
        _("%(reviewer)s submitted their review of %(reference)s (%(organisation)s). Kind of review: "
          "%(review_kind)s."),) * 2,
    NotificationKind.CONFLICT_DECLARED: (
        _("%(reviewer)s declared a conflict of interest on %(reference)s (%(organisation)s): \"%(statement)s\". "
          "Another reviewer is needed."),) * 2,
    NotificationKind.READY_FOR_DECISION: (
        _("%(reference)s (%(organisation)s) has all its reviews and its ethics clearance: it is ready for a "
          "decision, due %(due)s."),
        _("%(reference)s (%(organisation)s) has all its reviews and its ethics clearance: it is ready for a "
          "decision.")),
    NotificationKind.FINAL_REPORT_DUE_SOON: (
        _("The final report of %(reference)s (%(organisation)s) is due %(due)s."),) * 2,
    NotificationKind.FINAL_REPORT_DUE_TODAY: (
        _("The final report of %(reference)s (%(organisation)s) is due today, %(due)s. An overdue report may "
          "block the organisation's new applications."),) * 2,
    NotificationKind.FINAL_REPORT_SUBMITTED: (
        _("%(organisation)s submitted the final report of %(reference)s: it waits for your review."),) * 2,
    NotificationKind.FINAL_REPORT_MORE_ASKED: (
        _("The allocation managers ask for more in the final report of %(reference)s (%(organisation)s), "
          "due %(due)s: \"%(comment)s\""),) * 2,
    NotificationKind.FINAL_REPORT_ACCEPTED: (
        _("The allocation managers accepted the final report of %(reference)s (%(organisation)s)."),) * 2,
}

NOTIFICATION_TEXTS.update({
    NotificationKind.EVIDENCE_SUBMITTED: (
        _("%(organisation)s uploaded evidence for an ethics condition of %(reference)s: \"%(condition)s\". Accept "
          "it or say what is missing."),) * 2,
    NotificationKind.EVIDENCE_DECIDED: (
        _("The ethics officer examined the evidence for a condition of %(reference)s (\"%(condition)s\"): "
          "%(evidence_status)s. %(comment)s"),) * 2,
})

# Params stored as codes of an enum, labelled when read. Named by dotted path: the enums belong to the
# domains built on accounts, which accounts does not import.
NOTIFICATION_PARAM_ENUMS = {"review_kind": "allocations.review.models.ReviewKind",
                            "evidence_status": "compliance.models.EvidenceStatus"}


class NotificationDelivery(models.TextChoices):
    IMMEDIATE = "immediate", _("An e-mail for each notification, as it arrives")
    DAILY_DIGEST = "daily_digest", _("One e-mail a day listing the new notifications")


class NotificationPreference(models.Model):
    """How a person wants to be mailed about notifications. Without a row: an e-mail for each one. The
    language of every mail is the person's own (User.language)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="notification_preference")
    delivery = models.CharField(_("e-mails about notifications"), max_length=12,
                                choices=NotificationDelivery.choices, default=NotificationDelivery.IMMEDIATE)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.CheckConstraint(condition=models.Q(delivery__in=NotificationDelivery.values),
                                   name="notification_delivery_valid"),
        ]

    def __str__(self):
        return f"{self.user_id}: {self.delivery}"


class NotificationDigest(models.Model):
    """One daily digest sent to one person: the unique (recipient, day) makes the digest task idempotent."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    notifications = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["recipient", "day"], name="notification_digest_daily")]

    def __str__(self):
        return f"{self.recipient_id} {self.day}"


class Notification(models.Model):
    """Work that arrived for a person: listed in the portal until read, and mailed at once or in the
    day's digest. `params` holds what the sentence is built from (references, names, ISO dates, codes)."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=24, choices=NotificationKind.choices)
    params = models.JSONField(default=dict, blank=True)
    link = models.CharField(max_length=300, help_text=_("A path in the portal."))
    created_at = models.DateTimeField(_("received on"), auto_now_add=True)
    read_at = models.DateTimeField(_("read on"), null=True, blank=True)
    # Set when the notification was mailed on its own, or went into a digest (or needed no mail).
    mailed_at = models.DateTimeField(null=True, blank=True)
    digest = models.ForeignKey(NotificationDigest, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="items")

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [models.CheckConstraint(condition=models.Q(kind__in=NotificationKind.values),
                                              name="notification_kind_valid")]
        indexes = [
            # The list of a person's notifications, newest first, and the header's unread count.
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_recipient_idx"),
            models.Index(fields=["recipient"], name="notification_unread_idx", condition=models.Q(read_at=None)),
            # The digest task's pending notifications.
            models.Index(fields=["recipient", "created_at"], name="notification_unmailed_idx",
                         condition=models.Q(mailed_at=None)),
        ]

    def __str__(self):
        return f"{self.recipient_id}: {self.kind}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    @property
    def text(self) -> str:
        """The sentence in the active language, with dates in its format and codes as labels."""
        values = dict(self.params or {})
        for key, path in NOTIFICATION_PARAM_ENUMS.items():
            if key in values:
                values[key] = choice_label(choices_class(path), values[key])
        due = values.get("due")
        if due:
            values["due"] = date_format(datetime.date.fromisoformat(due), "DATE_FORMAT")
        with_due, without_due = NOTIFICATION_TEXTS[self.kind]
        template = with_due if due else without_due
        return str(template) % collections.defaultdict(str, values)


class SshPublicKey(models.Model):
    """A public key the person uploaded for the clusters (accounts.sshkeys checks it); the directory
    entries the portal binds to the person carry these keys."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ssh_keys")
    key_type = models.CharField(_("type"), max_length=40)
    body = models.TextField()
    comment = models.CharField(_("comment"), max_length=100, blank=True)
    fingerprint = models.CharField(_("fingerprint"), max_length=60)
    added_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        ordering = ["added_at", "pk"]
        verbose_name = _("SSH public key")
        verbose_name_plural = _("SSH public keys")
        constraints = [models.UniqueConstraint(fields=["user", "fingerprint"], name="ssh_key_unique_per_user")]

    def __str__(self):
        return f"{self.key_type} {self.fingerprint}"

    @property
    def line(self) -> str:
        return f"{self.key_type} {self.body} {self.comment}".strip()
