"""Citations of the AI Act in the reader's language.

A rule set cites the Regulation in English ("Art. 6(3), third subparagraph", "Annex III, point 5(b)",
"recital 109"), and a published rule set is never edited in place. The reader of a French or Dutch page or
report sees the citation as the Official Journal's language versions write it: "article 6, paragraphe 3,
troisième alinéa" / "artikel 6, lid 3, derde alinea". The English text is parsed into parts (article with
paragraph and point, annex with point or section, recital, a known phrase) and each part is written in the
language asked for. A part the parser does not know is kept as written, so a new form of citation in a rule
set never breaks a page: it shows in English until it is taught here (a test runs every citation of every
rule set through the parser and fails on a part left in English).

Article 3 is the list of definitions: its numbers are points, not paragraphs ("article 3, point 63)")."""

from __future__ import annotations

import re
from dataclasses import dataclass

ORDINALS = {
    "first": ("premier", "eerste"), "second": ("deuxième", "tweede"), "third": ("troisième", "derde"),
    "fourth": ("quatrième", "vierde"), "fifth": ("cinquième", "vijfde"),
}

#: Phrases written after a citation in the rule sets, with their French and Dutch.
PHRASES = {
    "as amended by the Digital Omnibus on AI": (
        "tel que modifié par l'omnibus numérique sur l'IA", "zoals gewijzigd bij de digitale omnibus inzake AI"),
    "transitional period of the Digital Omnibus on AI": (
        "période transitoire de l'omnibus numérique sur l'IA", "overgangsperiode van de digitale omnibus inzake AI"),
}

#: Other sources the ethics review cites (stored with each trigger), as a whole.
OTHER_SOURCES = {
    "Reg. (EU) 2021/1173 Art. 16": ("règlement (UE) 2021/1173, article 16", "verordening (EU) 2021/1173, artikel 16"),
    "Horizon Europe ethics issues table": ("tableau des questions éthiques d'Horizon Europe",
                                           "tabel van ethische kwesties van Horizon Europe"),
    "Horizon Europe ethics issues table: dual use": (
        "tableau des questions éthiques d'Horizon Europe : double usage",
        "tabel van ethische kwesties van Horizon Europe: tweeërlei gebruik"),
}

_ARTICLE = re.compile(r"^Art\. (?P<number>\d+)(?:-(?P<last>\d+))?"
                      r"(?:\((?P<paragraph>\d+)\)(?:-\((?P<paragraph_last>\d+)\))?)?(?:\((?P<point>[a-z])\))?$")
_ANNEX = re.compile(r"^Annex (?P<number>[IVXL]+)$")
_POINT = re.compile(r"^(?P<number>\d+)(?:\((?P<letter>[a-z])\))?$")
_POINTS_LEAD = re.compile(r"^points? (?P<rest>.+)$")
_SECTION = re.compile(r"^Section (?P<letter>[A-Z])$")
_RECITAL = re.compile(r"^recital (?P<number>\d+)$")
_SUBPARAGRAPH = re.compile(r"^(?P<ordinal>\w+) subparagraph$")


@dataclass
class _Article:
    number: str
    last: str | None = None
    paragraph: str | None = None
    paragraph_last: str | None = None
    point: str | None = None
    subparagraph: str | None = None


@dataclass
class _Annex:
    number: str
    points: list[tuple[str, str | None]] | None = None
    section: str | None = None


@dataclass
class _Recital:
    number: str


@dataclass
class _Text:
    text: str
    known: bool


Part = _Article | _Annex | _Recital | _Text


def parse(citation: str) -> list[Part]:
    """The parts of an English citation, in order; an unknown segment becomes an unknown _Text."""
    parts: list[Part] = []
    for segment in citation.split(", "):
        segment = segment.strip()
        previous = parts[-1] if parts else None
        if match := _ARTICLE.match(segment):
            parts.append(_Article(**match.groupdict()))
        elif match := _ANNEX.match(segment):
            parts.append(_Annex(number=match["number"]))
        elif isinstance(previous, _Annex) and (match := _POINTS_LEAD.match(segment)):
            points = _points(match["rest"])
            if points is None:
                parts.append(_Text(segment, known=False))
            else:
                previous.points = points
        elif isinstance(previous, _Annex) and previous.points and (points := _points(segment)) is not None:
            previous.points.extend(points)
        elif isinstance(previous, _Annex) and (match := _SECTION.match(segment)):
            previous.section = match["letter"]
        elif isinstance(previous, _Article) and (match := _SUBPARAGRAPH.match(segment)) \
                and match["ordinal"] in ORDINALS:
            previous.subparagraph = match["ordinal"]
        elif match := _RECITAL.match(segment):
            parts.append(_Recital(number=match["number"]))
        else:
            parts.append(_Text(segment, known=segment in PHRASES))
    return parts


def _points(text: str) -> list[tuple[str, str | None]] | None:
    """'1(a)', '5(b) and 8(b)' -> [('1', 'a'), ...]; None when a piece is not a point."""
    found = []
    for piece in re.split(r" and ", text):
        match = _POINT.match(piece.strip())
        if not match:
            return None
        found.append((match["number"], match["letter"]))
    return found


def unknown_parts(citation: str) -> list[str]:
    return [part.text for part in parse(citation) if isinstance(part, _Text) and not part.known]


# --------------------------------------------------------------------------------------------- writing


def format_citation(citation: str, language: str) -> str:
    """The citation as the language version of the Regulation writes it; English is returned unchanged."""
    language = (language or "en").split("-")[0].lower()
    if language not in ("fr", "nl") or not citation:
        return citation
    index = 0 if language == "fr" else 1
    if citation in OTHER_SOURCES:
        return OTHER_SOURCES[citation][index]
    return ", ".join(_write(part, language, index) for part in parse(citation))


def _write(part: Part, language: str, index: int) -> str:
    if isinstance(part, _Article):
        return _write_article(part, language, index)
    if isinstance(part, _Annex):
        return _write_annex(part, language)
    if isinstance(part, _Recital):
        return ("considérant " if language == "fr" else "overweging ") + part.number
    return PHRASES[part.text][index] if part.known else part.text


def _range(first: str, last: str, language: str) -> str:
    return f"{first} à {last}" if language == "fr" else f"{first} tot en met {last}"


def _write_article(article: _Article, language: str, index: int) -> str:
    fr = language == "fr"
    if article.last:
        return ("articles " if fr else "artikelen ") + _range(article.number, article.last, language)
    words = [("article " if fr else "artikel ") + article.number]
    definitions = article.number == "3"  # Article 3 numbers its definitions as points
    if article.paragraph and article.paragraph_last:
        if definitions:
            words.append(f"points {article.paragraph}) à {article.paragraph_last})" if fr
                         else f"punten {article.paragraph} tot en met {article.paragraph_last}")
        else:
            words.append(("paragraphes " if fr else "leden ") + _range(article.paragraph, article.paragraph_last,
                                                                       language))
    elif article.paragraph:
        if definitions:
            words.append(f"point {article.paragraph})" if fr else f"punt {article.paragraph}")
        else:
            words.append(("paragraphe " if fr else "lid ") + article.paragraph)
    if article.point:
        words.append(f"point {article.point})" if fr else f"punt {article.point})")
    if article.subparagraph:
        words.append(ORDINALS[article.subparagraph][index] + (" alinéa" if fr else " alinea"))
    return ", ".join(words)


def _write_annex(annex: _Annex, language: str) -> str:
    fr = language == "fr"
    words = [("annexe " if fr else "bijlage ") + annex.number]
    if annex.section:
        words.append(("section " if fr else "afdeling ") + annex.section)
    if annex.points:
        points = [f"{number} {letter})" if letter else number for number, letter in annex.points]
        joined = points[0] if len(points) == 1 else (
            ", ".join(points[:-1]) + (" et " if fr else " en ") + points[-1])
        label = ("point " if fr else "punt ") if len(points) == 1 else ("points " if fr else "punten ")
        words.append(label + joined)
    return ", ".join(words)
