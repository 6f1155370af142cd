"""Bytes of a CSV file, fed piece by piece, to records with their line numbers.

Only whole records reach the ``csv`` module: a newline ends a record only when the quotes seen
since the record began are balanced, so a quoted field may span lines and pieces may cut anywhere.
Memory holds one piece plus the unfinished record at its end.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass


@dataclass(slots=True)
class Record:
    line: int  # line number in the file where the record starts (the header is line 1)
    fields: list[str]
    error: str | None = None


class RecordSplitter:
    def __init__(self) -> None:
        # utf-8-sig drops a leading BOM; the upload was checked to be valid UTF-8 already.
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self._tail = ""
        self._lines_done = 0

    def feed(self, data: bytes, *, final: bool = False) -> list[Record]:
        text = self._tail + self._decoder.decode(data, final)
        cut = len(text) if final else _last_record_end(text)
        self._tail = text[cut:]
        return self._parse(text[:cut])

    def _parse(self, text: str) -> list[Record]:
        if not text:
            return []
        reader = csv.reader(io.StringIO(text, newline=""))
        records: list[Record] = []
        base = self._lines_done
        while True:
            start = base + reader.line_num + 1
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                records.append(Record(start, [], f"unreadable CSV: {exc}"))
                continue
            if fields and (len(fields) > 1 or fields[0].strip()):
                records.append(Record(start, fields))
        self._lines_done = base + reader.line_num
        return records


def _last_record_end(text: str) -> int:
    """Index just past the last newline that ends a record (0 if none)."""
    if '"' not in text:
        return text.rfind("\n") + 1
    end = 0
    quotes = 0
    start = 0
    while (newline := text.find("\n", start)) >= 0:
        quotes += text.count('"', start, newline)
        start = newline + 1
        if quotes % 2 == 0:
            end = start
    return end
