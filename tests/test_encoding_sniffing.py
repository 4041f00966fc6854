"""html5lib's charset-sniffing cases through the crawler's decode_html: every page comes out as
the text the HTML standard's sniffing gives it.

The comparison is on text, not on the label: most cases are ASCII, where any ASCII-compatible
choice shows the same page. What must never happen is a choice that changes the text: a page
read as UTF-16 because its <meta> says so, or a declaration past the first 4 KB ignored while
non-ASCII bytes depend on it. Where nothing valid is declared, the standard falls back to the
locale's default (windows-1252 in these cases); ours is UTF-8, on purpose (see decode_html).
"""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from crawlers.extract import decode_html
from tests.conftest import shared_path

CASE_FILES = ["tests1.dat", "tests2.dat", "test-yahoo-jp.dat"]  # scripted/ needs a script engine


def _cases(path: Path) -> list[tuple[bytes, str]]:
    cases = []
    for block in path.read_bytes().split(b"#data\n")[1:]:
        data, _, rest = block.partition(b"\n#encoding\n")
        cases.append((data, rest.split(b"\n", 1)[0].decode("ascii").strip()))
    return cases


def _standard_text(data: bytes, label: str) -> str:
    """The WHATWG decode: a BOM wins and is dropped, otherwise the sniffed encoding."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    return data.decode(label, errors="replace")


@pytest.mark.parametrize("name", CASE_FILES)
def test_each_case_decodes_to_the_standard_text(name):
    cases = _cases(shared_path("fixtures/html-encoding-sniffing") / name)
    assert cases
    wrong = [
        f"case {number} ({label}): {data[:60]!r}"
        for number, (data, label) in enumerate(cases)
        if decode_html(data) != _standard_text(data, label)
    ]
    assert not wrong, "\n".join(wrong)


def test_the_cases_that_matter_are_in_the_corpus():
    """The corpus holds the traps the text comparison is there for; it is not all ASCII."""
    folder = shared_path("fixtures/html-encoding-sniffing")
    cases = [case for name in CASE_FILES for case in _cases(folder / name)]
    labels = {codecs.lookup(label).name for _data, label in cases}
    assert {"cp1252", "iso8859-2", "euc_jp", "utf-8"} <= labels
    non_ascii = [data for data, _label in cases if any(byte > 0x7F for byte in data)]
    assert len(non_ascii) >= 5
    assert any(b'charset="UTF-16' in data for data, _label in cases)
    assert any(len(data) > 8192 and b"<meta charset" in data[4096:] for data, _label in cases)


def test_meta_declaring_utf16_reads_as_utf8_but_a_utf16_body_keeps_its_bom():
    page = '<meta charset="UTF-16"><p>Lâm Đồng</p>'
    assert decode_html(page.encode("utf-8")) == page
    assert decode_html(codecs.BOM_UTF16_LE + page.encode("utf-16-le")) == page
    assert decode_html(page.encode("utf-16-be"), "text/html; charset=utf-16be") == page


# windows-1258 writes Vietnamese as base letters plus combining tone marks: "Lâm Đồng, Đà Lạt".
CP1258_TEXT = "Lâm Đô\u0300ng, Đa\u0300 La\u0323t"


def test_a_declaration_deep_in_the_page_is_honoured():
    filler = "<!-- " + "x" * 9000 + " -->"
    page = f"<html><head><title>{CP1258_TEXT}</title>{filler}<meta charset=windows-1258></head>"
    assert decode_html(page.encode("cp1258")) == page
    bogus_then_real = f'<meta charset="khong-co"><meta charset="windows-1258"><p>{CP1258_TEXT}'
    assert decode_html(bogus_then_real.encode("cp1258")) == bogus_then_real
