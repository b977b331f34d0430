"""VAT and enterprise-number validation with python-stdnum.

Belgian organisations give their enterprise number (10 digits, mod-97 check); other EU member
states their VAT number. Numbers are stored compact with the country prefix (BE0403170701)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum import be
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError

from .countries import EU_COUNTRY_CODES

# Greece uses EL as its VAT prefix; every other member state its ISO 3166 code.
EU_VAT_PREFIX = {code: ("EL" if code == "GR" else code) for code in EU_COUNTRY_CODES}


def normalise_vat(country: str, number: str) -> str:
    """Return the compact, prefixed number or raise ValidationError with a clear message."""
    country = (country or "").upper()
    raw = (number or "").strip()
    if not raw:
        raise ValidationError(_("Enter the VAT or enterprise number."), code="required")
    try:
        if country == "BE":
            compact = be.vat.validate(raw)
            return f"BE{compact}"
        prefix = EU_VAT_PREFIX.get(country)
        if prefix is None:
            raise ValidationError(_("VAT numbers can only be checked for EU member states."), code="country")
        candidate = raw.upper().replace(" ", "")
        if not candidate.startswith(prefix):
            candidate = prefix + candidate
        return eu_vat.validate(candidate)
    except StdnumError as exc:
        if country == "BE":
            message = _("This is not a valid Belgian enterprise number (10 digits with a valid check number).")
        else:
            message = _("This is not a valid VAT number for the selected country.")
        raise ValidationError(message, code="invalid") from exc
