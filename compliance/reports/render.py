"""HTML to PDF with WeasyPrint, offline.

The report templates are plain Django templates rendered inside `translation.override`; WeasyPrint lays
them out (A4, running header and footer, repeated table headers, bookmarks from h1/h2) and takes the PDF
metadata from the HTML head (<title>, <meta name=author|description|keywords|dcterms.created>).
Fonts come from the system (Debian's DejaVu through fontconfig). Nothing is fetched from the network:
the URL fetcher refuses every URL that is not a local file under an allowed directory."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from weasyprint import HTML
from weasyprint.document import Document
from weasyprint.urls import URLFetcher

logger = logging.getLogger(__name__)

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)


class LocalFileFetcher(URLFetcher):
    """Fetch file: URLs under the given directories; refuse everything else (http, https, ftp, data...)."""

    def __init__(self, roots):
        super().__init__(allowed_protocols={"file"}, allow_redirects=False)
        self.roots = [Path(root).resolve() for root in roots]

    def fetch(self, url, headers=None):
        parsed = urlparse(url)
        if parsed.scheme.lower() != "file":
            logger.warning("report rendering refused a non-local URL: %s", url[:200])
            raise ValueError(f"refused non-local URL {url[:200]!r}")
        path = Path(url2pathname(parsed.path)).resolve()
        if not any(path.is_relative_to(root) for root in self.roots):
            logger.warning("report rendering refused a file outside the allowed directories: %s", path)
            raise ValueError(f"refused file outside the allowed directories: {path}")
        return super().fetch(url, headers)


def url_fetcher() -> LocalFileFetcher:
    return LocalFileFetcher([Path(settings.BASE_DIR) / "static", *FONT_DIRS])


def render_html(template: str, context: dict, *, language: str) -> str:
    with translation.override(language):
        return render_to_string(template, context)


def layout(html: str) -> Document:
    """Parse and paginate (the slow half of the work)."""
    base = (Path(settings.BASE_DIR) / "static").as_uri() + "/"
    return HTML(string=html, base_url=base, url_fetcher=url_fetcher()).render()


# PDF/UA-1: a tagged PDF (headings, tables, lists and paragraphs in the structure tree, the reading
# order of the HTML), the document's title shown instead of its file name, and the language of the
# report (from <html lang>) declared, as EN 301 549 asks of documents a public service issues.
PDF_VARIANT = "pdf/ua-1"


def write_pdf(document: Document) -> bytes:
    return document.write_pdf(pdf_variant=PDF_VARIANT)


def html_to_pdf(html: str) -> bytes:
    return write_pdf(layout(html))


def css_string(text: str) -> str:
    """A CSS string literal (with quotes) for generated content."""
    escaped = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ")
    return f'"{escaped}"'


def css_page_counter(template: str) -> str:
    """'Page %(page)s of %(pages)s' (translated) -> "Page " counter(page) " of " counter(pages).

    Keeps the translator's word order: each placeholder becomes the matching CSS counter."""
    parts: list[str] = []
    rest = str(template)
    while rest:
        positions = {name: rest.find(f"%({name})s") for name in ("page", "pages")}
        found = {name: pos for name, pos in positions.items() if pos >= 0}
        if not found:
            parts.append(css_string(rest))
            break
        name = min(found, key=found.get)
        pos = found[name]
        if pos:
            parts.append(css_string(rest[:pos]))
        parts.append(f"counter({name})")
        rest = rest[pos + len(f"%({name})s"):]
    return " ".join(parts)
