import accounts.models
from django.db import migrations, models


def language_to_person(apps, schema_editor):
    """The language chosen for notification mails becomes the person's language (every mail uses it)."""
    preference_model = apps.get_model("accounts", "NotificationPreference")
    user_model = apps.get_model("accounts", "User")
    for user_id, language in preference_model.objects.values_list("user_id", "language"):
        user_model.objects.filter(pk=user_id).update(language=language)


def language_to_preference(apps, schema_editor):
    preference_model = apps.get_model("accounts", "NotificationPreference")
    user_model = apps.get_model("accounts", "User")
    for preference in preference_model.objects.all():
        preference.language = user_model.objects.get(pk=preference.user_id).language
        preference.save(update_fields=["language"])


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0004_merge_0003_addressed_mail_limits_0003_notifications'),
    ]

    operations = [
        migrations.AddField(
            model_name='user',
            name='language',
            field=models.CharField(choices=accounts.models.portal_languages, default=accounts.models.default_language, max_length=8, verbose_name='language'),
        ),
        migrations.RunPython(language_to_person, language_to_preference),
        migrations.RemoveField(
            model_name='notificationpreference',
            name='language',
        ),
    ]
