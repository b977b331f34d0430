"""Helpers for the tests of the staff lists (portal.listquery): the references a page's table and an API
list show, in their order."""

from __future__ import annotations

import re

REFERENCE = re.compile(r"AIF-\d{4}-\d{4,6}")


def page_refs(client, url, params) -> list[str]:
    response = client.get(url, params)
    assert response.status_code == 200
    body = response.content.decode()
    tbody = body[body.index("<tbody>"):body.index("</tbody>")]
    refs = []
    for ref in REFERENCE.findall(tbody):  # each row names its reference once or twice (links): keep the order
        if ref not in refs:
            refs.append(ref)
    return refs


def api_rows(client, url, params) -> list[dict]:
    response = client.get(url, params)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def api_refs(client, url, params, key: str = "reference") -> list[str]:
    return [row[key] for row in api_rows(client, url, params)]


def assert_refused(client, page, api, params, field, message, api_client=None) -> None:
    """A bad parameter: the page says what is wrong (200), the API answers 400 naming the field."""
    response = client.get(page, params)
    assert response.status_code == 200
    assert message in response.content.decode()
    response = (api_client or client).get(api, params)
    assert response.status_code == 400, response.content
    fields = response.json()["error"]["fields"]
    assert field in fields and message in " ".join(fields[field])
