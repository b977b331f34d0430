"""What an uploaded PDF may hold, decided by opening it with a real parser (pypdf), never by its name.

Attachments are opened by reviewers, ethics officers and managers on their own machines. A file that
runs something there (JavaScript, actions run on opening or on an event, launch actions) or that
carries other files inside it is refused; so is one that the parser cannot read (damaged, truncated,
or not a PDF behind a PDF header) and one that is encrypted, whose content could not be checked.

The check walks every object reachable from the trailer (the catalogue, pages, annotations, name
trees, the document information), which is everything a viewer acts on. It knows nothing of Django.
"""

from __future__ import annotations

import enum
from typing import BinaryIO

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

PDF_MAGIC = b"%PDF-"

# Keys that only exist to run something: a JavaScript action or name tree, additional actions (/AA:
# on opening a page, on focus, on printing...). /OpenAction itself may be a harmless "open at page
# 2": its action is caught by its type (/S) below.
ACTIVE_KEYS = frozenset({"/JS", "/JavaScript", "/AA"})
ACTIVE_ACTIONS = frozenset({"/JavaScript", "/Launch"})
# The embedded-files name tree, an embedded file stream in a file specification (/EF), and its type.
EMBEDDED_KEYS = frozenset({"/EmbeddedFiles", "/EF"})
EMBEDDED_TYPES = frozenset({"/EmbeddedFile", "/FileAttachment"})
# A PDF within the attachment size limit has far fewer objects; more is a file built to exhaust the check.
MAX_OBJECTS = 500_000


class PdfProblem(enum.Enum):
    NOT_PDF = "not_pdf"
    UNREADABLE = "unreadable"
    ENCRYPTED = "encrypted"
    ACTIVE_CONTENT = "active_content"
    EMBEDDED_FILES = "embedded_files"


def pdf_problem(stream: BinaryIO) -> PdfProblem | None:
    """Why this file is not accepted as an attachment, or None. Reads from the stream's start."""
    stream.seek(0)
    if stream.read(len(PDF_MAGIC)) != PDF_MAGIC:
        return PdfProblem.NOT_PDF
    stream.seek(0)
    try:
        reader = PdfReader(stream)
        if reader.is_encrypted:
            return PdfProblem.ENCRYPTED
        if len(reader.pages) == 0:
            return PdfProblem.UNREADABLE
        return _scan(reader.trailer)
    # A parser fed hostile input can fail in many ways (its own errors, but also ValueError, KeyError,
    # RecursionError, zlib errors...): whatever the failure, the file is not one we can vouch for.
    except Exception:
        return PdfProblem.UNREADABLE
    finally:
        stream.seek(0)


def _scan(trailer: DictionaryObject) -> PdfProblem | None:
    seen: set[tuple[int, int]] = set()
    stack: list = [trailer]
    visited = 0
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            ref = (obj.idnum, obj.generation)
            if ref in seen:
                continue
            seen.add(ref)
            obj = obj.get_object()
        visited += 1
        if visited > MAX_OBJECTS:
            return PdfProblem.UNREADABLE
        if isinstance(obj, DictionaryObject):  # stream objects too: their dictionary
            for key, value in obj.items():
                if key in EMBEDDED_KEYS:
                    return PdfProblem.EMBEDDED_FILES
                if key in ACTIVE_KEYS:
                    return PdfProblem.ACTIVE_CONTENT
                if key in ("/S", "/Type", "/Subtype") and isinstance(name := value.get_object(), str):
                    if key == "/S" and name in ACTIVE_ACTIONS:
                        return PdfProblem.ACTIVE_CONTENT
                    if name in EMBEDDED_TYPES:
                        return PdfProblem.EMBEDDED_FILES
                stack.append(value)
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)
    return None
