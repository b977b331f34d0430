from __future__ import annotations

from typing import Any

from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from portal.listquery import SORT_PARAM, ListSpec, list_query


def combine(name: str, *views: type[APIView]) -> type[APIView]:
    """One URL, several operations: each operation stays its own class (one method each), and this
    builds the class that routes the URL's methods to them. The classes must share their
    permission, filter and pagination settings (asserted)."""
    methods: dict[str, type[APIView]] = {}
    for view in views:
        for method in view.http_method_names:
            if method not in ("options", "head") and hasattr(view, method):
                if method in methods:
                    raise TypeError(f"{name}: {method} is defined by {methods[method]} and {view}")
                methods[method] = view
    first = views[0]
    for view in views[1:]:
        if view.permission_classes != first.permission_classes:
            raise TypeError(f"{name}: {view.__name__} and {first.__name__} need the same permission_classes")
    return type(name, views, {"__module__": first.__module__})


def validated(serializer_class: type[Serializer], request: Request, **kwargs: Any) -> Any:
    """The request body as ``serializer_class`` validates it (``validated_data``); a body it
    refuses is a 400 with the fields. ``kwargs`` go to the serializer (``partial=True``...)."""
    data = serializer_class(data=request.data, **kwargs)
    data.is_valid(raise_exception=True)
    return data.validated_data


class ListSpecMixin:
    """A list endpoint filtered, searched and sorted by its ``list_spec`` (portal.listquery), with the
    parameters of the page that shows the same list. A value that does not validate is a 400 naming
    the field; ``ordering`` is read as ``sort`` for the clients written before ``sort`` existed."""

    list_spec: ListSpec
    filter_backends: list = []  # the spec filters and sorts

    def list_queryset(self, **scope):
        params = self.request.query_params.copy()
        if "ordering" in params and SORT_PARAM not in params:
            params[SORT_PARAM] = params["ordering"]
        query = list_query(self.list_spec, params)
        if not query.is_valid:
            raise ValidationError({name: [str(e) for e in errors] for name, errors in query.form.errors.items()})
        return query.queryset(**scope)


def list_parameters(spec: ListSpec) -> list[OpenApiParameter]:
    """The OpenAPI query parameters of a ``ListSpec`` (for ``extend_schema(parameters=...)``)."""
    out = []
    for name, field in spec.form.base_fields.items():
        kind = (OpenApiTypes.DATE if isinstance(field, forms.DateField) else
                OpenApiTypes.INT if isinstance(field, forms.IntegerField) else OpenApiTypes.STR)
        if name == SORT_PARAM:
            keys = sorted(spec.sorts)
            out.append(OpenApiParameter(name, OpenApiTypes.STR, enum=[*keys, *(f"-{k}" for k in keys)],
                                        description=f"Sort by a column, '-' first for descending "
                                                    f"(default {spec.default_sort})."))
            continue
        description = str(field.help_text or field.label or name)
        if name == "q":
            description = "Search: the reference starts with it, or the title or organisation name contains it."
        out.append(OpenApiParameter(name, kind, description=description))
    return out
