from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.utils import translation

from portal.emails import html_alternative, outbox_add, portal_name, subject_line

from .home import landing_url
from .models import User

ACCOUNT_STAGES = {"allauth.mfa.stages.AuthenticateStage": "accounts.stages.AuthenticateStage"}


class AccountAdapter(DefaultAccountAdapter):
    def get_login_stages(self) -> list[str]:
        """allauth's stages, with the portal's second-factor stage (accounts.stages) in place of allauth's."""
        return [ACCOUNT_STAGES.get(stage, stage) for stage in super().get_login_stages()]

    def get_login_redirect_url(self, request):
        """Staff land on their home with the work waiting for them, applicants on their dashboard. A
        `next` the sign-in form carried still wins (allauth checks it before asking the adapter)."""
        return landing_url(request.user)

    def save_user(self, request, user, form, commit=True):
        """The name asked at sign-up (accounts.forms.SignupForm) is saved with the new user, in one write,
        with the language the person reads the portal in (their browser's, or the one they chose)."""
        name = (form.cleaned_data.get("full_name") or "").strip()
        if name:  # a form without the field (single sign-on) keeps the name the identity provider gave
            user.full_name = name
        user.language = signup_language(request)
        return super().save_user(request, user, form, commit=commit)

    def format_email_subject(self, subject: str) -> str:
        return subject_line(subject)

    def send_mail(self, template_prefix, email, context):
        """Render now, store in the outbox and send from a Celery worker once the transaction commits.

        The mail is written in the language of the person it goes to (an address of nobody yet: the
        language of the page that asked for it, the person's own), names the portal (not the host the
        request came to) and links to the base URL the portal is served on, whatever host the request
        used."""
        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": MailSite()}
        ctx.update(context)
        if request is not None:
            origin = request.build_absolute_uri("/").rstrip("/")
            ctx = {key: on_base_url(value, origin) for key, value in ctx.items()}
        language = (User.objects.filter(email__iexact=email).values_list("language", flat=True).first()
                    or translation.get_language() or settings.LANGUAGE_CODE)
        with translation.override(language):
            message = self.render_mail(template_prefix, email, ctx)
            html = next((content for content, mimetype in getattr(message, "alternatives", [])
                         if mimetype == "text/html"), None)
            if html is None:
                html = html_alternative(message.body, subject=message.subject)
        outbox_add(subject=message.subject, body=message.body, html_body=html, to=list(message.to))


class MailSite:
    """What allauth's mail templates print as the site ("Hello from {{ name }}!", and the domain under
    the signature): the portal's name and the host of its base URL, not the host a request came to."""

    @property
    def name(self) -> str:
        return portal_name()

    @property
    def domain(self) -> str:
        return urlsplit(settings.PORTAL_BASE_URL).netloc


def on_base_url(value, origin: str):
    """A link allauth built on the request's host, moved to the portal's base URL."""
    if isinstance(value, str) and origin and value.startswith(origin + "/"):
        return settings.PORTAL_BASE_URL.rstrip("/") + value[len(origin):]
    return value


def signup_language(request) -> str:
    """The language of the sign-up page (LocaleMiddleware: the person's choice, else their browser's)."""
    language = getattr(request, "LANGUAGE_CODE", None) or translation.get_language() or settings.LANGUAGE_CODE
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def populate_user(self, request, sociallogin, data):
        user = super().populate_user(request, sociallogin, data)
        user.language = signup_language(request)
        name = " ".join(part for part in [data.get("first_name"), data.get("last_name")] if part)
        if name and not user.full_name:
            user.full_name = name
        return user
