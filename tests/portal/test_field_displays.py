"""``get_FOO_display`` reads each field's labels once (portal.vocabulary.install_field_displays) and still
answers what Django's own reading answers: the label of the active language, the value itself when no
choice has it."""

from __future__ import annotations

import functools

import pytest
from django.apps import apps
from django.db import models
from django.utils import translation

from allocations.applications.models import Application, ApplicationStatus
from portal.models import AuditEvent
from portal.vocabulary import _field_display


def _fields_with_choices():
    return [(model, field) for model in apps.get_models() for field in model._meta.concrete_fields
            if field.choices is not None]


def test_every_generated_display_of_the_portal_reads_the_labels_once():
    fields = _fields_with_choices()
    generated = [(model, field, model.__dict__[f"get_{field.name}_display"]) for model, field in fields
                 if isinstance(model.__dict__.get(f"get_{field.name}_display"), functools.partialmethod)]
    assert len(generated) > 40
    for model, field, method in generated:
        assert method.func is _field_display, (model, field.name)


@pytest.mark.parametrize("language", ["en", "fr", "nl"])
def test_each_label_is_the_one_django_reads_in_each_language(language):
    with translation.override(language):
        for model, field in _fields_with_choices():
            display = getattr(model, f"get_{field.name}_display")
            for value, _label in field.flatchoices:
                instance = model(**{field.attname: value})
                assert display(instance) == models.Model._get_FIELD_display(instance, field), (model, value)


def test_the_language_is_read_at_each_call_and_an_unknown_value_is_shown_as_it_is():
    app = Application(status=ApplicationStatus.IN_REVIEW)
    with translation.override("en"):
        english = app.get_status_display()
    with translation.override("fr"):
        french = app.get_status_display()
    assert english == str(ApplicationStatus.IN_REVIEW.label) and french != english
    with translation.override("fr"):
        assert french == str(ApplicationStatus.IN_REVIEW.label)
    assert Application(status="retired_state").get_status_display() == "retired_state"
    assert AuditEvent(action="").get_action_display() == ""


def test_a_field_whose_choices_cannot_be_keys_is_read_as_django_reads_it():
    field = models.JSONField(choices=[([1, 2], "A pair"), ([3], "One")])
    field.set_attributes_from_name("pair")

    class Row:
        pair = [1, 2]

    assert _field_display(Row(), field) == "A pair" == models.Model._get_FIELD_display(Row(), field)
    Row.pair = [9]
    assert _field_display(Row(), field) == "[9]" == models.Model._get_FIELD_display(Row(), field)
