"""One vocabulary: no page, PDF or CSV a person reads shows an internal code where a label exists.

Every value of every ``models.Choices`` enum of the project (roles, sectors, organisation kinds, AI Act
classes, statuses, audit actions, ...) is a code with a translated label. The scanner reads the *visible*
text only (HTML without tags, attributes, scripts and styles; a PDF's text; a CSV's cells), so a code in a
URL, a form value or a CSS class is not counted. The rule for a hit:

- a code holding ``_`` or ``.`` (``allocation_manager``, ``out_of_scope``, ``review.submitted``) is never an
  English word: it is a hit wherever it stands as a whole token of the text;
- any other code that differs from its label (``sme``, ``startup``, ``transparency``, ``operator``) may be an
  English word in a sentence, so it is a hit only where it *is* a value: the whole text of an element or of a
  PDF or CSV cell (after a "Name: " prefix), or one item of a comma-separated list there made at least half
  of the same enum's codes and labels ("open to: sme, startup, Research organisation" holds two; "data,
  technical and legal review" holds none). A PDF wraps labels and sentences over the lines of its cells
  ("Review" above "submitted", "... solely for" above "scientific"), so a word alone on a line of a PDF cannot
  be told from a printed value: in PDFs only the codes of the first kind count;
- a code equal to its label (``Approved``) is what a person should read, never a hit.

Numbers and dates are held to the same standard: a count of five digits or more without a thousands
separator, a month written before the day ("Oct. 20, 2026", "10/20/2026") and a Python dict or list are hits.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import subprocess
from collections.abc import Iterable
from html.parser import HTMLParser

import pytest
from django.db import models
from django.utils import timezone

from compliance.models import ReportAudience
from compliance.reports import services as report_services
from tests import factories as f
from tests.accounts.test_erasure_end_to_end import _links, _seeds
from tests.portal.test_i18n import INFORMAL_DUTCH, visible_text

pytestmark = pytest.mark.django_db

PROJECT_APPS = ("accounts", "allocations", "compliance", "portal")


def _enums() -> list[type[models.Choices]]:
    found, todo = [], list(models.Choices.__subclasses__())
    while todo:
        enum = todo.pop()
        todo.extend(enum.__subclasses__())
        if enum.__module__.split(".")[0] in PROJECT_APPS:
            found.append(enum)
    return found


@functools.cache
def vocabulary() -> tuple[dict[str, str], dict[str, str], dict[str, set[str]]]:
    """({code: enum} of codes that are never words, {code: enum} of codes that are words only in a sentence,
    {enum: its codes and labels})."""
    tokens, values, words = {}, {}, {}
    for enum in _enums():
        where = f"{enum.__module__}.{enum.__name__}"
        words[where] = {str(m.value) for m in enum} | {str(m.label) for m in enum}
        for member in enum:
            code, label = str(member.value), str(member.label)
            if code == label:
                continue
            if "_" in code or "." in code:
                tokens[code] = where
            else:
                values[code] = where
    return tokens, values, words


class _Visible(HTMLParser):
    """The text a person sees, one piece per element (attributes, scripts, styles and hidden parts left out)."""

    # Scripts and styles are not read; <code>, <kbd>, <samp> and <pre> show literal machine text on purpose
    # (a Slurm command, a setting as sacctmgr holds it), which a label would falsify.
    HIDDEN = {"script", "style", "template", "noscript", "head", "code", "kbd", "samp", "pre"}

    def __init__(self):
        super().__init__()
        self.pieces: list[str] = []
        self._skip = 0
        self._current: list[str] = []

    def handle_starttag(self, tag, attrs):
        self._flush()
        if tag in self.HIDDEN:
            self._skip += 1

    def handle_endtag(self, tag):
        self._flush()
        if tag in self.HIDDEN and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self._current.append(data)

    def _flush(self):
        text = " ".join("".join(self._current).split())
        if text:
            self.pieces.append(text)
        self._current = []


def visible_pieces(content_type: str, text: str) -> list[str]:
    if content_type.startswith("text/html"):
        parser = _Visible()
        parser.feed(text)
        parser.close()
        parser._flush()
        return parser.pieces
    if content_type.startswith("text/csv"):
        return [cell.strip() for row in csv.reader(io.StringIO(text)) for cell in row if cell.strip()]
    # PDF text (pdftotext -layout): cells are separated by two spaces or more.
    return [cell.strip() for line in text.splitlines() for cell in re.split(r"\s{2,}", line) if cell.strip()]


# A month written before the day; in English, any date with slashes (10/12/2026 reads both ways: English pages
# use ISO dates), while French writes the day first with slashes by its own locale (04/12/2026).
US_DATE = re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|June?|July?|Aug|Sept?|Oct|Nov|Dec)[a-z]*\.? \d{1,2}, \d{4}\b")
SLASH_DATE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{4}\b")
# Five digits or more with no separator; not part of a reference, a hash, a version, a time or a Slurm setting
# written as the cluster reads it ("gres/gpu=24000").
BARE_NUMBER = re.compile(r"(?<![\w.,\-/:#=])\d{5,}(?![\w.\-/:]|,\d)")
PYTHON_REPR = re.compile(r"\{'[^']*': |\['[^']*', '")


HEX_PIECE = re.compile(r"[0-9a-f]+")


def raw_values(content_type: str, text: str, language: str = "en", hashes: Iterable[str] = ()) -> list[str]:
    """Every internal code, bare number, US-ordered date or Python repr a person would read.

    ``hashes``: the hashes the document prints (an audit event's, an attachment's SHA-256). A hash is cut
    where its cell wraps, or shortened with "…": a piece made of a part of one is not a number, even when
    that part happens to hold digits only (one 16-character prefix in about 1,800 does)."""
    tokens, values, words = vocabulary()
    pdf = content_type.startswith("application/pdf")
    hashes = [h.lower() for h in hashes]
    hits = []
    for piece in visible_pieces(content_type, text):
        bare = piece.rstrip("…")
        if hashes and HEX_PIECE.fullmatch(bare) and any(bare in h for h in hashes):
            continue
        for word in re.findall(r"[A-Za-z0-9][\w.]*[A-Za-z0-9]|\w", piece):
            if word in tokens:
                hits.append(f"{word!r} ({tokens[word]}) in {piece[:90]!r}")
        items = [item.strip(" ()[]") for item in re.split(r"\s*[,;]\s*", piece.rsplit(": ", 1)[-1])]
        for item in items:
            if pdf:
                break  # words wrap inside a PDF's cells and paragraphs: see the rule above
            if item in values and sum(it in words[values[item]] for it in items) * 2 >= len(items):
                hits.append(f"{item!r} ({values[item]}) in {piece[:90]!r}")
        checks = [(US_DATE, "month before day"), (BARE_NUMBER, "number without separators"),
                  (PYTHON_REPR, "Python repr")] + ([(SLASH_DATE, "month before day")] if language == "en" else [])
        for pattern, what in checks:
            if match := pattern.search(piece):
                hits.append(f"{what} {match.group(0)!r} in {piece[:90]!r}")
    return hits


def pdf_text(body: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=body, capture_output=True,
                          check=True).stdout.decode()


def test_the_scanner_finds_what_it_must_and_nothing_else():
    html = ("<main><p>Your roles: allocation_manager</p><dd>sme, startup, Research organisation</dd>"
            "<td>transparency</td><p>The transparency obligations apply.</p><a href='/x/?status=in_review'>Open</a>"
            "<p>in_sync: 1</p><p>7000000000 GPU-minutes, 7,000,000 CPU</p><p>Oct. 20, 2026</p>"
            "<p>{'gpu': 1}</p><p>20 October 2026, AIF-2026-70001</p><p>10/12/2026</p></main>")
    hits = raw_values("text/html", html)
    assert [h.split(" in ")[0] for h in hits] == [
        "'allocation_manager' (accounts.roles.Role)",
        "'sme' (accounts.models.OrganisationType)", "'startup' (accounts.models.OrganisationType)",
        "'transparency' (compliance.ai_act.risk.RiskClass)",
        "'in_sync' (allocations.grants.models.SyncState)",
        "number without separators '7000000000'",
        "month before day 'Oct. 20, 2026'",
        "Python repr \"{'gpu': \"",
        "month before day '10/12/2026'",
    ]
    assert raw_values("text/html", "<p>10/12/2026</p>", "fr") == []
    pdf = "Classification     high_risk\nsolely for\nscientific\n"
    assert [h.split(" in ")[0] for h in raw_values("application/pdf", pdf)] == [
        "'high_risk' (compliance.ai_act.risk.RiskClass)"]
    # a digits-only part of a hash the document prints is no number; the same digits elsewhere are
    digest = "8841976521257267" + "ab" * 24
    pdf = "Hash\n8841976521257267…\n88419765\n"
    assert raw_values("application/pdf", pdf, hashes=[digest]) == []
    assert [h.split(" in ")[0] for h in raw_values("application/pdf", pdf)] == [
        "number without separators '8841976521257267'", "number without separators '88419765'"]
    assert raw_values("application/pdf", "7000000000\n", hashes=[digest]) != []
    assert raw_values("text/csv", "status,label\nin_review,x\n") == [
        "'in_review' (allocations.applications.models.ApplicationStatus) in 'in_review'"]


# The administration and the API speak codes on purpose (the API documents them; the admin is the
# operator's view of the rows); the data export (/me/privacy/export/) is JSON for programs.
SKIP = ("/admin/", "/api/", "/me/privacy/export/")


def crawl(client, seeds: list[str], limit: int = 1500) -> dict[str, tuple[str, str]]:
    """GET every seed and every same-site link found, once: {url: (content type, text)} of the 200s."""
    seen: set[str] = set()
    queue = list(seeds)
    pages = {}
    while queue:
        url = queue.pop(0)
        if url in seen or url.startswith(SKIP):
            continue
        seen.add(url)
        assert len(seen) < limit, "the walk did not finish: raise the limit"
        response = client.get(url)
        if response.status_code in (301, 302) and response.url.startswith("/"):
            queue.append(response.url)
            continue
        if response.status_code != 200:
            continue
        content_type = response.get("Content-Type", "")
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = pdf_text(body) if content_type.startswith("application/pdf") else body.decode("utf-8", "replace")
        pages[url] = (content_type, text)
        queue.extend(_links(text, content_type))
    return pages


def _scan(pages, language: str = "en") -> dict[str, list[str]]:
    found = {}
    for url, (content_type, text) in pages.items():
        if url.startswith(SKIP):
            continue
        if hits := raw_values(content_type, text, language):
            found[url] = hits
    return found


@pytest.fixture
def decided_record(run_on_commit):
    """A decided, provisioned application with a staff dossier, an applicant dossier and a period report."""
    record = f.full_dossier()
    admin = f.AdminFactory(totp=True)
    with run_on_commit():
        for audience, person in ((ReportAudience.STAFF, admin), (ReportAudience.APPLICANT, record["applicant"])):
            report_services.report_request_dossier(actor=person, application=record["application"],
                                                   audience=audience, language="en")
        report_services.report_request_period(actor=admin, date_from=timezone.localdate(),
                                              date_to=timezone.localdate(), language="en")
    return record, admin


@pytest.mark.parametrize("language", ["en", "fr", "nl"])
@pytest.mark.parametrize("who", ["staff", "applicant"])
def test_no_page_pdf_or_csv_shows_a_raw_code(client, decided_record, settings, who, language):
    """Every page, PDF and CSV the person reaches from the URL patterns and the links, in each language:
    the administrator (every staff role) and the applicant of the decided application. In Dutch, no page or
    PDF addresses its reader with the informal "je"/"jij"."""
    record, admin = decided_record
    client.force_login(admin if who == "staff" else record["applicant"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    pages = crawl(client, _seeds(record["application"].reference))
    kinds = {content_type.split(";")[0] for content_type, _ in pages.values()}
    assert {"text/html", "application/pdf"} <= kinds, kinds
    if who == "staff":
        assert "text/csv" in kinds and len(pages) > 40
        assert any("Cleared with conditions" in text or "Levée avec conditions" in text or "conditions" in text
                   for _, text in pages.values())
    assert _scan(pages, language) == {}
    if language == "nl":  # one form of address: the formal "u", on every page and in every PDF
        informal = {url: sorted({m.group(0) for m in INFORMAL_DUTCH.finditer(
            visible_text(text) if content_type.startswith("text/html") else text)})
            for url, (content_type, text) in pages.items() if not content_type.startswith("text/csv")}
        assert {url: words for url, words in informal.items() if words} == {}
