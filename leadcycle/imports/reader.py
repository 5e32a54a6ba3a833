"""Reading an import file as a stream of rows: CSV (delimiter and encoding detected: UTF-8
with or without BOM, else Windows-1252 / Latin-1) or XLSX (the first sheet). Nothing holds the
whole file in memory."""

import csv
import io
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import ValidationError

SAMPLE_BYTES = 64 * 1024
DELIMITERS = ",;\t|"
MAX_COLUMNS = 200
MAX_CELL = 10_000


@dataclass(frozen=True)
class FileInfo:
    file_format: str
    encoding: str
    delimiter: str
    headers: list[str]
    sample: list[list[str]]
    rows_total: int


def _error(message: str, code: str = "unreadable_file") -> ValidationError:
    return ValidationError({"file": ValidationError(message, code=code)})


def detect_format(name: str, head: bytes) -> str:
    if head.startswith(b"PK\x03\x04"):
        if not name.lower().endswith((".xlsx", ".xlsm")):
            raise _error("This is a zip archive; upload a CSV or an XLSX workbook.")
        return "xlsx"
    if name.lower().endswith((".xls",)) or head.startswith(b"\xd0\xcf\x11\xe0"):
        raise _error("Old Excel (.xls) files are not supported; save as XLSX or CSV.")
    if b"\x00" in head[:4096]:
        raise _error("This is not a text (CSV) file; upload a CSV or an XLSX workbook.")
    return "csv"


def _encoding(path: Path) -> str:
    """UTF-8 (with BOM or without) when the whole file decodes as UTF-8, else Windows-1252
    (what Excel writes on Western Windows; a superset of Latin-1's printable characters), else
    Latin-1, which decodes anything."""
    with path.open("rb") as raw:
        head = raw.read(3)
    candidates = ["utf-8-sig" if head == b"\xef\xbb\xbf" else "utf-8", "cp1252"]
    for encoding in candidates:
        try:
            with path.open(encoding=encoding, newline="") as text:
                while text.read(1 << 20):
                    pass
            return encoding
        except UnicodeDecodeError:
            continue
    return "latin-1"


def _delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        # One column, or a sample the sniffer cannot judge: the most frequent candidate on
        # the first line, comma when there is none.
        first = sample.splitlines()[0] if sample else ""
        counts = {d: first.count(d) for d in DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def inspect(path: Path, name: str) -> FileInfo:
    """Format, encoding, delimiter, headers, the first rows and the row count of a file, or a
    ``ValidationError`` on ``file`` saying why it cannot be read."""
    with path.open("rb") as raw:
        head = raw.read(SAMPLE_BYTES)
    if not head.strip():
        raise _error("The file is empty.", "empty_file")
    file_format = detect_format(name, head)
    if file_format == "xlsx":
        encoding, delimiter = "", ""
    else:
        encoding = _encoding(path)
        sample = head.decode(encoding, errors="ignore")
        delimiter = _delimiter(sample)
    rows = rows_of(path, file_format, encoding, delimiter)
    try:
        headers = [h.strip() for h in next(rows)]
    except StopIteration:
        raise _error("The file is empty.", "empty_file") from None
    if not any(headers):
        raise _error("The first row must name the columns.", "no_headers")
    if len(headers) > MAX_COLUMNS:
        raise _error(f"At most {MAX_COLUMNS} columns.", "too_many_columns")
    sample_rows = list(itertools.islice(rows, 5))
    total = len(sample_rows) + sum(1 for _ in rows)
    return FileInfo(file_format, encoding, delimiter, headers, sample_rows, total)


def rows_of(path: Path, file_format: str, encoding: str, delimiter: str) -> Iterator[list[str]]:
    """Every row of the file (the header first) as text cells; blank rows skipped."""
    if file_format == "xlsx":
        yield from _xlsx_rows(path)
        return
    csv.field_size_limit(1 << 20)
    with path.open(encoding=encoding or "utf-8", newline="") as text:
        try:
            for row in csv.reader(text, delimiter=delimiter or ","):
                if any(map(str.strip, row)):
                    yield row
        except csv.Error as exc:
            raise _error(f"The CSV cannot be read: {exc}.") from None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _xlsx_rows(path: Path) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise _error(f"The workbook cannot be read ({type(exc).__name__}).") from None
    try:
        sheet = book.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            row = [_cell(v) for v in values]
            while row and row[-1] == "":
                row.pop()
            if row:
                yield row
    finally:
        book.close()


def write_csv(out: IO[str], rows: Iterator[list[str]]) -> None:
    writer = csv.writer(out)
    for row in rows:
        writer.writerow(row)


def text_stream() -> io.StringIO:
    return io.StringIO()
