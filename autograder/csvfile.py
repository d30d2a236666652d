"""Every CSV the course writes (``grades.csv``, the LMSs' grade import files): UTF-8 with a
byte-order mark (Excel on Korean Windows then reads the Korean text; pandas and ``csv`` read it
with ``encoding="utf-8-sig"``) and no cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import re
from pathlib import Path

#: What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection":
#: https://owasp.org/www-community/attacks/CSV_Injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def neutralize(value):
    """``value`` as a spreadsheet shows it as text, never as a formula, by the rule of OWASP's
    "CSV Injection" (https://owasp.org/www-community/attacks/CSV_Injection): a text starting with
    ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'`` (Excel shows the
    rest as text). Numbers stay numbers: an ``int``/``float`` or a text that is one decimal
    number (``-3.00``, a late penalty) is returned as it is, and so is a lone ``-`` (Moodle's
    "no date", no formula); ``None`` and every other value are returned unchanged."""
    if (isinstance(value, str) and value.startswith(FORMULA_START)
            and value != "-" and not NUMBER.fullmatch(value)):
        return "'" + value
    return value


def write_csv(dest: Path, header: list[str], rows: list[dict], quote_all: bool = False) -> Path:
    """Write ``rows`` (dicts; keys outside ``header`` ignored, missing ones empty) under
    ``header`` to ``dest`` in UTF-8 with BOM, every cell through :func:`neutralize`; RFC 4180
    quoting (a cell with a comma, quote or line break is quoted, ``"`` doubled; every cell with
    ``quote_all``). Returns ``dest``."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with dest.open("w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, extrasaction="ignore",
                                quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
        writer.writerow({name: neutralize(name) for name in header})
        writer.writerows({k: neutralize(v) for k, v in row.items()} for row in rows)
    return dest
