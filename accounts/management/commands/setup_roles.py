from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand

from accounts.roles import ROLE_GROUPS, ROLE_PERMISSIONS


class Command(BaseCommand):
    help = "Create or update the staff role groups and their permissions (idempotent)."

    def handle(self, *args, **options):
        for role, group_name in ROLE_GROUPS.items():
            group, created = Group.objects.get_or_create(name=group_name)
            perms = []
            for dotted in ROLE_PERMISSIONS.get(role, []):
                app_label, codename = dotted.split(".")
                perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
                if perm is None:
                    self.stderr.write(f"unknown permission {dotted}")
                    continue
                perms.append(perm)
            group.permissions.set(perms)
            self.stdout.write(f"{'created' if created else 'updated'} group {group_name} ({len(perms)} permissions)")
