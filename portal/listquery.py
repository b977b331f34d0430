"""Sorting, filtering and searching of staff lists, declared once per list and read from the query string.

A list declares a ``ListSpec``: the form of its filters (a Django form: labels, choices, validation),
the columns it may be sorted by and the default sort. ``list_query`` reads the GET parameters against
it; the HTML view renders the form with its errors beside each field and the sortable headers, and the
API's ``ListSpecFilter`` backend answers 400 with the same errors. Both apply the same selector to the
same cleaned values, so a URL means the same list on the page and in the API:
``?q=...&status=...&sort=-submitted_at&page=2``.

A parameter that does not validate filters nothing: the page says what is wrong next to the field and
shows the unfiltered list, the API refuses the request.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.db import connection
from django.db.models import Q, QuerySet
from django.forms.utils import flatatt
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.html import conditional_escape, escape, format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.forms import LocalDateInput, date_hint, with_any

SORT_PARAM = "sort"
SEARCH_MAX_LENGTH = 100
# Above this many matching organisations, the search joins them in SQL rather than listing their ids.
ORGANISATION_IDS_LIMIT = 500


class ListSelect(forms.Select):
    """A filter's menu, written out in Python: the same HTML as Django's select template, without rendering
    a template per option (a list page draws four menus of up to a dozen options on every request)."""

    def render(self, name, value, attrs=None, renderer=None):
        choices = list(self.choices)  # read once: a menu of callable choices calls them at each reading
        if self.allow_multiple_selected or any(isinstance(label, (list, tuple)) for _v, label in choices):
            return self._render_groups(name, value, attrs)
        # A flat menu (every filter's): each option written at once, not built as a dict of its own first
        # (the audit trail's menu of actions has about ninety).
        chosen = {str(v) for v in self.format_value(value)}
        options = []
        for option_value, label in choices:
            option_value = "" if option_value is None else str(option_value)
            options.append(f'<option value="{escape(option_value)}"{" selected" if option_value in chosen else ""}>'
                           f"{conditional_escape(label)}</option>")
        return format_html('<select name="{}"{}>{}</select>', name, flatatt(self.build_attrs(self.attrs, attrs)),
                           mark_safe("".join(options)))  # noqa: S308 - each value and label is escaped above

    def use_required_attribute(self, initial):
        # Django's reads the first choice to decide, loading the choices of every menu a second time; a
        # filter is never required.
        return self.is_required and super().use_required_attribute(initial)

    def _render_groups(self, name, value, attrs=None):
        widget = self.get_context(name, value, attrs)["widget"]
        options = [format_html('<option value="{}"{}>{}</option>', option["value"], flatatt(option["attrs"]),
                               option["label"])
                   for _group, group, _index in widget["optgroups"] for option in group]
        return format_html('<select name="{}"{}>{}</select>', widget["name"], flatatt(widget["attrs"]),
                           mark_safe("".join(options)))  # noqa: S308 - each option is escaped by format_html


class ListInput(forms.TextInput):
    """A filter's text, date or hidden input, written out in Python: the same HTML as Django's input
    template (``input_type`` is taken from the widget it replaces)."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        value = format_html(' value="{}"', widget["value"]) if widget["value"] is not None else ""
        return format_html('<input type="{}" name="{}"{}{}>', widget["type"], widget["name"], value,
                           flatatt(widget["attrs"]))


def _python_widget(widget: forms.Widget) -> forms.Widget:
    """The same control, rendered without a template."""
    if type(widget) is forms.Select:
        python = ListSelect(attrs=widget.attrs, choices=widget.choices)
    elif type(widget) in (forms.TextInput, forms.DateInput, LocalDateInput, forms.HiddenInput, forms.NumberInput):
        python = ListInput(attrs=widget.attrs)
        python.input_type = widget.input_type
        python.format_value = widget.format_value  # a date's format
    else:
        return widget
    python.is_required = widget.is_required
    return python


class ListForm(forms.Form):
    """The filters of a list. Subclasses add their fields; ``q`` (search) and ``sort`` are shared. Their
    menus and inputs render in Python (ListSelect, ListInput); ``filter_fields`` writes each visible field
    with its label, help text and errors."""

    q = forms.CharField(label=gettext_lazy("Search"), required=False, max_length=SEARCH_MAX_LENGTH)
    sort = forms.CharField(required=False, widget=forms.HiddenInput, max_length=40)

    sorts: dict[str, Any] = {}  # set per list by ListSpec

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for bound in self.fields.values():
            bound.widget = _python_widget(bound.widget)

    def filter_fields(self) -> list[str]:
        """Each visible field: its label, its control, then the help text and the errors the control's
        aria-describedby names."""
        out = []
        for bound in self.visible_fields():
            help_text = (format_html('<span class="helptext" id="{}_helptext">{}</span>', bound.auto_id,
                                     bound.help_text) if bound.help_text else "")
            errors = (format_html('<div role="alert"><ul class="errorlist" id="{}_error">{}</ul></div>',
                                  bound.auto_id, format_html_join("", "<li>{}</li>", ((e,) for e in bound.errors)))
                      if bound.errors else "")
            out.append(format_html('<div class="{}"><label for="{}">{}</label>{}{}{}</div>',
                                   "field-error" if bound.errors else "", bound.id_for_label, bound.label, bound,
                                   help_text, errors))
        return out

    def clean_sort(self) -> str:
        value = self.cleaned_data.get("sort", "").strip()
        if value and value.lstrip("-") not in self.sorts:
            raise forms.ValidationError(
                _("This list cannot be sorted by “%(key)s”. Sort by one of: %(keys)s.")
                % {"key": value, "keys": ", ".join(sorted(self.sorts))}, code="sort")
        return value

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end of the period comes before its start."))
        return cleaned


class QueryChoiceField(forms.ChoiceField):
    """A filter whose choices come from the database (sites, access modes): read when the menu is drawn
    or a value is checked, once per form, never when the form is built (the API builds it on every list
    request, mostly without this filter)."""

    def __init__(self, *, load: Callable[[], list], **kwargs):
        self.load = load
        super().__init__(required=False, choices=functools.cache(load), **kwargs)

    def __deepcopy__(self, memo):
        copy = super().__deepcopy__(memo)
        copy.choices = functools.cache(self.load)  # a fresh cache per form
        return copy


def choice_filter(label, choices) -> forms.ChoiceField:
    """A menu of fixed choices (an enum's labels), "Any" first."""
    return forms.ChoiceField(label=label, required=False, choices=with_any(choices))


def organisation_filter() -> forms.IntegerField:
    """One organisation's rows (the id, from a link on another page): no visible field."""
    return forms.IntegerField(label=gettext_lazy("Organisation"), required=False, min_value=1, max_value=10**12,
                              widget=forms.HiddenInput)


def date_field(label) -> forms.DateField:
    """A day typed as YYYY-MM-DD in every language, so that a list's URL means the same day to everyone who
    opens it. A text input with the format as help text: a browser's own date input shows the order of the
    browser's locale, month first in a US-English browser."""
    return forms.DateField(label=label, required=False, input_formats=["%Y-%m-%d"],
                           widget=LocalDateInput(format="%Y-%m-%d"),
                           help_text=lazy(lambda: date_hint("%Y-%m-%d"), str)(),
                           error_messages={"invalid": gettext_lazy("Enter a date as YYYY-MM-DD.")})


def day_start(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of ``day`` in the portal's time zone (a date filter's bound)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def within_days(qs: QuerySet, field: str, date_from: datetime.date | None, date_to: datetime.date | None) -> QuerySet:
    """Rows whose ``field`` (a time) falls on ``date_from`` or later and on ``date_to`` or earlier, both days
    whole in the portal's time zone; a missing bound does not filter."""
    if date_from:
        qs = qs.filter(**{f"{field}__gte": day_start(date_from)})
    if date_to:
        qs = qs.filter(**{f"{field}__lt": day_start(date_to + datetime.timedelta(days=1))})
    return qs


@dataclass(frozen=True)
class ListSpec:
    """One list: its filter form, the columns it sorts by (key -> order_by fields, ascending; the
    primary key is added last so pages never overlap) and its default sort (``-key`` descending)."""

    form: type[ListForm]
    sorts: dict[str, tuple[str, ...]]
    default_sort: str
    filter: Callable[..., QuerySet]  # the selector: filter(**cleaned filters) -> queryset

    def __post_init__(self):
        assert self.default_sort.lstrip("-") in self.sorts, self.default_sort


@dataclass
class SortHeader:
    """A sortable column's header cell; ``{{ headers.key }}`` in a template writes the whole ``<th>``."""

    label: str
    url: str
    aria_sort: str  # "ascending", "descending" or "none"
    arrow: str

    def __html__(self) -> str:
        arrow = format_html(' <span aria-hidden="true">{}</span>', self.arrow) if self.arrow else ""
        return format_html('<th scope="col" aria-sort="{}"><a href="{}" class="sort">{}{}</a></th>',
                           self.aria_sort, self.url, self.label, arrow)

    __str__ = __html__


@dataclass
class ListQuery:
    spec: ListSpec
    form: ListForm
    params: Any
    filters: dict[str, Any] = field(default_factory=dict)
    sort: str = ""

    @property
    def is_valid(self) -> bool:
        return not self.form.errors

    @property
    def hidden_errors(self) -> list[str]:
        """The errors of the parameters that have no visible field (sort, organisation), named."""
        out = []
        for bound in self.form.hidden_fields():
            for error in bound.errors:
                out.append(error if bound.name == SORT_PARAM else f"{bound.label}: {error}")
        return out

    @property
    def ordering(self) -> list[str]:
        descending = self.sort.startswith("-")
        fields = self.spec.sorts[self.sort.lstrip("-")]
        flip = (lambda f: f[1:] if f.startswith("-") else f"-{f}") if descending else (lambda f: f)
        return [flip(f) for f in fields] + ["-pk" if descending else "pk"]

    def queryset(self, **scope) -> QuerySet:
        """The rows, filtered and sorted; ``scope`` goes to the selector as it is (whose rows: the
        reviewer of a reviewer's own list), never from the query string."""
        return self.spec.filter(**scope, **self.filters).order_by(*self.ordering)

    def header(self, key: str, label) -> SortHeader:
        """A column header that sorts by ``key``: ascending first, then the other way; the filters stay."""
        current = self.sort.lstrip("-") == key
        descending = current and self.sort.startswith("-")
        target = key if (not current or descending) else f"-{key}"
        params = self.params.copy()
        params.pop("page", None)
        params[SORT_PARAM] = target
        return SortHeader(label=str(label), url=f"?{params.urlencode()}",
                          aria_sort=("descending" if descending else "ascending") if current else "none",
                          arrow=("▼" if descending else "▲") if current else "")

    def headers(self, columns: Sequence[tuple[str, Any]]) -> dict[str, SortHeader]:
        return {key: self.header(key, label) for key, label in columns}


def list_query(spec: ListSpec, params, **form_kwargs) -> ListQuery:
    """Read ``params`` (request.GET or request.query_params) against the list's spec."""
    form = spec.form(params, **form_kwargs)
    form.sorts = spec.sorts
    query = ListQuery(spec=spec, form=form, params=params, sort=spec.default_sort)
    if form.is_valid():
        data = dict(form.cleaned_data)
        query.sort = data.pop("sort") or spec.default_sort
        query.filters = {k: v for k, v in data.items() if v not in (None, "", [])}
    return query


def search(qs: QuerySet, text: str, *, reference: str, fields: Sequence[str] = (),
           organisation: tuple[str, str] | None = None, also: Q | None = None, narrow: bool = False) -> QuerySet:
    """Rows whose reference starts with ``text``, or one of whose ``fields`` contains it, or whose
    organisation's name (``organisation``: the path of the foreign key, ``application__organisation``
    works, and the name field) contains it, or that match ``also`` (a condition the list builds from
    the same text); case insensitive.

    On PostgreSQL, trigram indexes on ``UPPER(column)`` serve each of these (the migrations
    ``allocations.0011_search_indexes`` and ``accounts.0005_organisation_name_trigram``): the matching
    organisations are looked up first (one query on their index) and their ids go into the OR, so the
    planner can combine three index scans instead of scanning the join. SQLite scans (development).

    A ``narrow`` list (one person's own rows, a few hundred at most: a reviewer's assignments) is searched
    through the join instead: its own filter comes first and each of its rows is checked, where a list of
    organisation ids made PostgreSQL scan every application (98 ms for a reviewer's 329 assignments)."""
    text = text.strip()
    if not text:
        return qs
    match = Q(**{f"{reference}__istartswith": text})
    for name in fields:
        match |= Q(**{f"{name}__icontains": text})
    if also is not None:
        match |= also
    if organisation and narrow:
        key, name = organisation
        return qs.filter(match | Q(**{f"{key}__{name}__icontains": text}))
    if organisation:
        key, name = organisation
        related = _related_model(qs.model, key)
        matching = related._default_manager.filter(**{f"{name}__icontains": text}).values("pk")
        if connection.vendor == "postgresql":
            ids = list(matching.values_list("pk", flat=True)[:ORGANISATION_IDS_LIMIT + 1])
            if len(ids) <= ORGANISATION_IDS_LIMIT:
                if ids:
                    match |= Q(**{f"{key}_id__in": ids})
                return qs.filter(match)
        match |= Q(**{f"{key}__in": matching})
    return qs.filter(match)


def _related_model(model, path: str):
    for name in path.split("__"):
        model = model._meta.get_field(name).related_model
    return model
