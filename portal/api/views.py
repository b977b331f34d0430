from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.serializers import Serializer
from rest_framework.views import APIView


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
