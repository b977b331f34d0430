"""Filter fields shared by the API's list endpoints."""

import datetime

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField

MAX_OFFSET = datetime.timedelta(hours=14)  # the widest offset in use (UTC+14, Line Islands)


class BoundedIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time the database can compare: offsets within +-14:00, years 1900-9999."""

    def clean(self, value):
        result = super().clean(value)
        if result is None:
            return result
        offset = result.utcoffset()
        if offset is not None and abs(offset) > MAX_OFFSET:
            raise forms.ValidationError("The time zone offset must be between -14:00 and +14:00.", code="offset")
        if not 1900 <= result.year <= 9999:
            raise forms.ValidationError("The year must be between 1900 and 9999.", code="year")
        return result


class BoundedIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = BoundedIsoDateTimeField
