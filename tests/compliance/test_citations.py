"""AI Act citations in the reader's language, from the English citations of the rule sets."""

from pathlib import Path

import pytest
import yaml
from django.template import Context, Template
from django.utils import translation

from compliance.ai_act.citations import format_citation, unknown_parts

RULESETS = Path(__file__).resolve().parents[2] / "compliance" / "ai_act" / "rulesets"


def every_citation() -> set[str]:
    found: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "article" and isinstance(value, str):
                    found.add(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for path in RULESETS.glob("*.yaml"):
        walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return found


@pytest.mark.parametrize("english, french, dutch", [
    ("Art. 6(3)", "article 6, paragraphe 3", "artikel 6, lid 3"),
    ("Art. 6(3), third subparagraph", "article 6, paragraphe 3, troisième alinéa", "artikel 6, lid 3, derde alinea"),
    ("Art. 5(1)(a)", "article 5, paragraphe 1, point a)", "artikel 5, lid 1, punt a)"),
    ("Art. 3(63), Art. 51", "article 3, point 63), article 51", "artikel 3, punt 63, artikel 51"),
    ("Art. 3(3)-(7), Art. 25", "article 3, points 3) à 7), article 25", "artikel 3, punten 3 tot en met 7, artikel 25"),
    ("Art. 16, Art. 8-17", "article 16, articles 8 à 17", "artikel 16, artikelen 8 tot en met 17"),
    ("Art. 6(2), Annex III, point 5(b)", "article 6, paragraphe 2, annexe III, point 5 b)",
     "artikel 6, lid 2, bijlage III, punt 5 b)"),
    ("Art. 6(1), Annex I, Section A", "article 6, paragraphe 1, annexe I, section A",
     "artikel 6, lid 1, bijlage I, afdeling A"),
    ("Annex III, points 1(a), 5(b), 7(d) and 8(b), recital 55",
     "annexe III, points 1 a), 5 b), 7 d) et 8 b), considérant 55",
     "bijlage III, punten 1 a), 5 b), 7 d) en 8 b), overweging 55"),
    ("Art. 3(3), recital 109", "article 3, point 3), considérant 109", "artikel 3, punt 3, overweging 109"),
    ("Art. 4, as amended by the Digital Omnibus on AI",
     "article 4, tel que modifié par l'omnibus numérique sur l'IA",
     "artikel 4, zoals gewijzigd bij de digitale omnibus inzake AI"),
])
def test_citations_as_the_language_versions_write_them(english, french, dutch):
    assert format_citation(english, "en") == english
    assert format_citation(english, "fr") == french
    assert format_citation(english, "nl") == dutch
    assert format_citation(english, "nl-be") == dutch


def test_every_citation_of_every_rule_set_is_understood():
    citations = every_citation()
    assert len(citations) > 50
    problems = {citation: unknown_parts(citation) for citation in citations if unknown_parts(citation)}
    assert not problems, problems
    for citation in citations:
        for language in ("fr", "nl"):
            written = format_citation(citation, language)
            for english in ("Art.", "Annex", "recital", "subparagraph", "point ", " and "):
                assert english not in written or language == "fr" and english == "point ", (citation, written)


def test_an_unknown_part_is_kept_as_written():
    assert format_citation("Art. 6(3), Protocol 7", "fr") == "article 6, paragraphe 3, Protocol 7"
    assert unknown_parts("Art. 6(3), Protocol 7") == ["Protocol 7"]


def test_the_template_filter_follows_the_active_language():
    template = Template("{% load ai_act %}{{ article|citation }}")
    with translation.override("nl"):
        assert template.render(Context({"article": "Art. 50(4), second subparagraph"})) == \
            "artikel 50, lid 4, tweede alinea"
    with translation.override("fr"):
        assert template.render(Context({"article": "recital 96"})) == "considérant 96"


def test_the_other_sources_of_the_ethics_triggers():
    assert format_citation("Reg. (EU) 2021/1173 Art. 16", "fr") == "règlement (UE) 2021/1173, article 16"
    assert format_citation("Horizon Europe ethics issues table", "nl") == \
        "tabel van ethische kwesties van Horizon Europe"
