from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.contrib.sites.shortcuts import get_current_site

from portal.emails import outbox_add

from .home import landing_url

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
        """The name asked at sign-up (accounts.forms.SignupForm) is saved with the new user, in one write."""
        name = (form.cleaned_data.get("full_name") or "").strip()
        if name:  # a form without the field (single sign-on) keeps the name the identity provider gave
            user.full_name = name
        return super().save_user(request, user, form, commit=commit)

    def send_mail(self, template_prefix, email, context):
        """Render now, store in the outbox and send from a Celery worker once the transaction commits.

        The context gets what allauth's own send_mail adds (the request, the address and the
        site, whose name and domain the mail templates print) before the caller's context."""
        request = allauth_context.request
        ctx = {"request": request, "email": email}
        if request is not None:
            ctx["current_site"] = get_current_site(request)
        ctx.update(context)
        message = self.render_mail(template_prefix, email, ctx)
        outbox_add(subject=message.subject, body=message.body, to=list(message.to))


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def populate_user(self, request, sociallogin, data):
        user = super().populate_user(request, sociallogin, data)
        name = " ".join(part for part in [data.get("first_name"), data.get("last_name")] if part)
        if name and not user.full_name:
            user.full_name = name
        return user
