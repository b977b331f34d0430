"""Text that exists in English only, shown on a French or Dutch page, sits inside an element marked
``lang="en"`` (WCAG 3.1.2, language of parts); an English page carries no such mark in its content.

The cases: an AI Act result stored as evaluated (its rule set no longer here), with the AI Act trigger of
the ethics review taken from it, on the ethics officer's and the applicant's pages; terms of use given in
English only; Slurm's error on the provisioning page; a compute warning stored before warnings carried
their figures."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.template import Context, Template
from django.utils import translation
from django.utils.translation import gettext

from compliance.ai_act import engine
from compliance.models import AUTO_CLEARANCE_RULE, EthicsReview, EthicsStatus, RiskAssessment
from tests import factories as f

pytestmark = pytest.mark.django_db

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
SLURM_ERROR = "sacctmgr: connection refused"
DUAL_USE = "The applicant declared a possible dual use."


class _Texts(HTMLParser):
    """Each text node of the page's <main> with the language it is in (its nearest ``lang``)."""

    def __init__(self):
        super().__init__()
        self.stack: list[tuple[str, str | None]] = []
        self.texts: list[tuple[str, str]] = []
        self.in_main = 0

    def handle_starttag(self, tag, attrs):
        if tag == "main":
            self.in_main += 1
        if tag not in VOID:
            self.stack.append((tag, dict(attrs).get("lang")))

    def handle_endtag(self, tag):
        while self.stack:
            open_tag, _lang = self.stack.pop()
            if open_tag == tag:
                break
        if tag == "main":
            self.in_main -= 1

    def handle_data(self, data):
        if self.in_main and data.strip():
            lang = next((lang for _tag, lang in reversed(self.stack) if lang), "")
            self.texts.append((" ".join(data.split()), lang))


def languages_of(html: str, text: str) -> list[str]:
    """The language of each text node of <main> that holds ``text`` (the page's, unless an element marks it)."""
    parser = _Texts()
    parser.feed(html)
    return [lang for node, lang in parser.texts if text in node]


def marked_in_main(html: str) -> list[str]:
    """The text nodes of <main> that sit inside an element with a lang attribute of its own."""
    parser = _Texts()
    parser.feed(html)
    page = html.split('<html lang="', 1)[1].split('"', 1)[0]
    return [node for node, lang in parser.texts if lang and lang != page]


def get(client, url: str, language: str) -> str:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


@pytest.fixture
def record():
    """A decided application whose AI Act assessment was made with a rule set that is no longer here."""
    record = f.full_dossier(provision=False)
    app = record["application"]
    RiskAssessment.objects.filter(application=app).update(ruleset_version="2023-retired")
    assessment = RiskAssessment.objects.get(application=app)
    record["title"] = assessment.result["conclusions"][0]["title"]  # stored in English
    review = EthicsReview.objects.get(application=app)
    review.triggers.append({"code": "dual_use", "rule": "Horizon Europe ethics issues table: dual use",
                            "text": DUAL_USE})  # as an English-speaking submitter's request stored it
    review.save(update_fields=["triggers"])
    return record


@pytest.mark.parametrize("language", ["fr", "nl"])
def test_english_only_values_are_marked_on_french_and_dutch_pages(client, record, language):
    app = record["application"]
    title = record["title"]

    # The ethics officer's page: the AI Act trigger (stored English title), the conclusions of the stored
    # result; the other triggers are worded again in the page's language, unmarked.
    client.force_login(f.EthicsOfficerFactory(totp=True))
    html = get(client, f"/staff/ethics/{app.reference}/", language)
    assert languages_of(html, title) and set(languages_of(html, title)) == {"en"}, languages_of(html, title)
    with translation.override(language):
        dual_use = gettext(DUAL_USE)
    assert dual_use != DUAL_USE and languages_of(html, dual_use) == [language]
    assert DUAL_USE not in html
    EthicsReview.objects.filter(application=app).update(status=EthicsStatus.PENDING)  # in the queue
    html = get(client, "/staff/ethics/", language)
    assert set(languages_of(html, title)) == {"en"}

    # The applicant's page of the application: the result as it was stored.
    client.force_login(record["applicant"])
    html = get(client, f"/applications/{app.reference}/", language)
    assert languages_of(html, title) and set(languages_of(html, title)) == {"en"}

    # Terms of use given in English only, and Slurm's error, on the operator's pages.
    version = f.terms_version(title="House rules in English", title_fr="Règlement", title_nl="Huisregels")
    english_only = f.terms_version(title="Cluster rules")
    operator = f.OperatorFactory(totp=True)
    client.force_login(operator)
    html = get(client, "/staff/terms/", language)
    assert set(languages_of(html, english_only.title_en)) == {"en"}
    assert languages_of(html, {"fr": "Règlement", "nl": "Huisregels"}[language]) == [language]
    assert not languages_of(html, version.title_en)
    f.sync_failure(record["allocation"], error=SLURM_ERROR)
    html = get(client, "/staff/provisioning/", language)
    assert languages_of(html, SLURM_ERROR) and set(languages_of(html, SLURM_ERROR)) == {"en"}


def test_english_pages_carry_no_redundant_mark(client, record):
    app = record["application"]
    f.sync_failure(record["allocation"], error=SLURM_ERROR)
    f.terms_version(title="Cluster rules")
    for person, url in ((f.EthicsOfficerFactory(totp=True), f"/staff/ethics/{app.reference}/"),
                        (record["applicant"], f"/applications/{app.reference}/"),
                        (f.OperatorFactory(totp=True), "/staff/provisioning/"),
                        (f.OperatorFactory(totp=True), "/staff/terms/")):
        client.force_login(person)
        html = get(client, url, "en")
        assert 'lang="en"' not in html.split("<main", 1)[1], url
        assert marked_in_main(html) == [], url


def test_the_ethics_page_words_the_triggers_and_the_automatic_clearance_in_the_readers_language(client, record):
    """Triggers are worded from their codes when shown (the stored text is in the submitter's language),
    an AI Act rule's title from the rule set the assessment was made with."""
    app = record["application"]
    RiskAssessment.objects.filter(application=app).update(ruleset_version=engine.DEFAULT_RULESET)
    ruleset = engine.load_ruleset(engine.DEFAULT_RULESET)
    review = EthicsReview.objects.get(application=app)
    review.triggers = [{**t, "text": "Double usage possible"} if t["code"] == "dual_use" else t
                       for t in review.triggers]  # as a French-speaking submitter's request stored it
    review.save(update_fields=["triggers"])
    code = next(t["code"] for t in review.triggers if t["code"].startswith("ai_act:")).split(":", 1)[1]
    dutch_title = next(r for r in ruleset.rules if r.code == code).title["nl"]
    client.force_login(f.EthicsOfficerFactory(totp=True))
    html = get(client, f"/staff/ethics/{app.reference}/", "nl")
    assert set(languages_of(html, dutch_title)) == {"nl"}, dutch_title
    with translation.override("nl"):
        dual_use = gettext(DUAL_USE)
    assert "Double usage" not in html and languages_of(html, dual_use) == ["nl"]

    review.reasons = AUTO_CLEARANCE_RULE
    for language in ("fr", "nl"):
        with translation.override(language):
            assert review.reasons_text != AUTO_CLEARANCE_RULE
    with translation.override("en"):
        assert review.reasons_text == AUTO_CLEARANCE_RULE


@pytest.mark.parametrize("language, marked", [("en", False), ("fr", True), ("nl", True)])
def test_a_stored_compute_warning_is_marked_english(language, marked):
    template = Template("{% load report_tags %}{{ w|compute_warning }}")
    stored = {"code": "gpai_threshold", "message": "Estimated compute is above the threshold."}
    worded = {"code": "gpai_threshold", "message": "x", "figure": 2e25, "threshold": 1e23}
    with translation.override(language):
        html = template.render(Context({"w": stored}))
        assert ('<span lang="en">' in html) is marked and "Estimated compute is above the threshold." in html
        assert "lang=" not in template.render(Context({"w": worded}))


@pytest.mark.parametrize("value, language, page, expected", [
    ("Cluster rules", "en", "fr", '<span lang="en">Cluster rules</span>'),
    ("Cluster rules", "en", "en", "Cluster rules"),
    ("Règlement", "fr", "fr", "Règlement"),
    ("<b>x</b>", "en", "nl", '<span lang="en">&lt;b&gt;x&lt;/b&gt;</span>'),
    ("", "en", "fr", ""),
    ("Texte", "", "nl", "Texte"),
])
def test_in_language_filter(value, language, page, expected):
    template = Template("{% load text_language %}{{ value|in_language:language }}")
    with translation.override(page):
        assert template.render(Context({"value": value, "language": language})) == expected


def test_lang_attr_tag():
    template = Template("{% load text_language %}<pre{% lang_attr %}>x</pre>")
    with translation.override("fr"):
        assert template.render(Context()) == '<pre lang="en">x</pre>'
    with translation.override("en"):
        assert template.render(Context()) == "<pre>x</pre>"
