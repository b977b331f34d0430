from django.utils.translation import gettext_lazy as _

EU_COUNTRIES = [
    ("AT", _("Austria")), ("BE", _("Belgium")), ("BG", _("Bulgaria")), ("HR", _("Croatia")),
    ("CY", _("Cyprus")), ("CZ", _("Czechia")), ("DK", _("Denmark")), ("EE", _("Estonia")),
    ("FI", _("Finland")), ("FR", _("France")), ("DE", _("Germany")), ("GR", _("Greece")),
    ("HU", _("Hungary")), ("IE", _("Ireland")), ("IT", _("Italy")), ("LV", _("Latvia")),
    ("LT", _("Lithuania")), ("LU", _("Luxembourg")), ("MT", _("Malta")), ("NL", _("Netherlands")),
    ("PL", _("Poland")), ("PT", _("Portugal")), ("RO", _("Romania")), ("SK", _("Slovakia")),
    ("SI", _("Slovenia")), ("ES", _("Spain")), ("SE", _("Sweden")),
]
EU_COUNTRY_CODES = {code for code, _label in EU_COUNTRIES}
