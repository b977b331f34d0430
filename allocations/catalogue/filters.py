"""The filters every staff list shares (portal.listquery): site, access mode, sector. One builder each,
so the lists offer the same menus with the same labels."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Sector
from allocations.catalogue.models import AccessMode, Site
from portal.forms import with_any
from portal.listquery import QueryChoiceField, choice_filter


def _site_choices():
    return with_any(list(Site.objects.values_list("code", "name")))


def _mode_choices():
    return with_any(list(AccessMode.objects.values_list("code", "name")))


def site_filter() -> forms.ChoiceField:
    return QueryChoiceField(label=_("Site"), load=_site_choices)


def mode_filter() -> forms.ChoiceField:
    return QueryChoiceField(label=_("Access mode"), load=_mode_choices)


def sector_filter() -> forms.ChoiceField:
    return choice_filter(_("Sector"), Sector.choices)
