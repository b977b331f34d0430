"""Report tests: reports are written to a per-test private directory; the project catalogues
(locale/*/LC_MESSAGES/django.po) are compiled once so that fr and nl reports really are translated."""

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.conftest import require_service

LOCALE = Path(__file__).resolve().parents[2] / "locale"


@pytest.fixture(scope="session", autouse=True)
def compiled_report_catalogues():
    """*.mo files are not committed (make messages builds them); build ours if missing or stale."""
    for po in LOCALE.glob("*/LC_MESSAGES/django.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        if not shutil.which("msgfmt"):
            require_service("msgfmt", "GNU gettext compiles the translation catalogues (apt-get install gettext)")
        subprocess.run(["msgfmt", "--check-format", "-o", str(mo), str(po)], check=True)
    from django.utils.translation import trans_real

    trans_real._translations = {}
    trans_real._default = None


@pytest.fixture
def private_reports(private_media):
    return private_media / "reports"


def pdftotext(path_or_bytes, *, layout: bool = False) -> str:
    """The PDF's text as poppler's pdftotext reads it; whitespace runs are folded to one space unless
    `layout` is asked for (then lines keep their columns, for line-based checks)."""
    args = ["pdftotext", *(["-layout"] if layout else []), "-", "-"]
    if isinstance(path_or_bytes, bytes | bytearray):
        data = bytes(path_or_bytes)
    else:
        data = Path(path_or_bytes).read_bytes()
    text = subprocess.run(args, input=data, capture_output=True, check=True).stdout.decode("utf-8")
    return text if layout else " ".join(text.split())


def pdfinfo(data: bytes) -> dict[str, str]:
    """poppler's pdfinfo fields ("Tagged", "Title", "PDF version"...) of a PDF given as bytes."""
    result = subprocess.run(["pdfinfo", "-"], input=bytes(data), capture_output=True, check=True)
    fields = {}
    for line in result.stdout.decode("utf-8").splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def assert_accessible_pdf(data: bytes, *, title: str, language: str) -> None:
    """A tagged PDF (PDF/UA-1) that shows its title and declares its language."""
    info = pdfinfo(data)
    assert info["Tagged"] == "yes", info
    assert info["Title"] == title
    root = PdfReader(io.BytesIO(bytes(data))).trailer["/Root"]
    assert root["/Lang"] == language
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    assert "/StructTreeRoot" in root
