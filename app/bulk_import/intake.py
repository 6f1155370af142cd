"""Receiving an upload: stream the multipart body, check it is a flights CSV, store it, queue the job.

The body is never held whole: the ``file`` part is checked as it arrives (UTF-8 text, header,
size) and written to ``bulk_job_chunks`` in 1 MiB pieces inside the transaction that creates the
job, so a rejected upload leaves nothing behind and an accepted one is readable by any worker.
Parsing and checking run in a worker thread, a batch of the body at a time: their cost grows with
what the client sends (python-multipart is pure Python; a body of many tiny parts costs ~10 ms per
64 KiB), and the event loop keeps answering other requests meanwhile. Every check is linear in
the body and the header line is bounded, so no input costs more than its size.
"""

from __future__ import annotations

import codecs
import csv
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.concurrency import run_in_threadpool

from app.bulk_import.rows import parse_header
from app.platform.errors import Invalid, PayloadTooLarge
from app.platform.fields import plain_text

if TYPE_CHECKING:
    from app.context import AppContext

CHUNK_BYTES = 1 << 20
# The longest line taken up to the CSV header (the real header is 74 characters: room for spaces
# and quotes); a longer one is refused as soon as that much of it has arrived.
MAX_HEADER_CHARS = 4 << 10
# Room for the multipart envelope (boundaries, part headers) around the file itself.
ENVELOPE_BYTES = 64 << 10
# Body bytes handed to the parsing thread at once: one thread hop per batch, not per network read.
PARSE_BATCH_BYTES = 256 << 10
FILE_FIELD = "file"


class _MultipartFile:
    """Push parser for a multipart body that hands back the bytes of the ``file`` part."""

    def __init__(self, content_type: str) -> None:
        kind, options = parse_options_header(content_type)
        boundary = options.get(b"boundary")
        if kind != b"multipart/form-data" or not boundary:
            raise Invalid("Send the CSV as multipart/form-data with a field named 'file'")
        self._pieces: list[bytes] = []
        self._header_name = b""
        self._header_value = b""
        self._in_file = False
        self.seen_file = False
        # Set by the closing boundary: without it the body was cut short, and so maybe the file.
        self.complete = False
        self.filename: str | None = None
        try:  # python-multipart refuses a boundary over 256 bytes here
            self._parser = MultipartParser(
                boundary,
                callbacks={
                    "on_part_begin": self._part_begin,
                    "on_header_field": self._header_field,
                    "on_header_value": self._header_value_cb,
                    "on_header_end": self._header_end,
                    "on_part_data": self._part_data,
                    "on_part_end": self._part_end,
                    "on_end": self._end,
                },
            )
        except FormParserError as exc:
            raise Invalid(f"Malformed multipart body: {exc}") from None

    def feed(self, data: bytes) -> list[bytes]:
        try:
            self._parser.write(data)
        except FormParserError as exc:
            raise Invalid(f"Malformed multipart body: {exc}") from None
        pieces, self._pieces = self._pieces, []
        return pieces

    def _end(self) -> None:
        self.complete = True

    def _part_begin(self) -> None:
        self._in_file = False

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_cb(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        if self._header_name.strip().lower() == b"content-disposition":
            _, options = parse_options_header(self._header_value)
            if options.get(b"name") == FILE_FIELD.encode() and not self.seen_file:
                self._in_file = self.seen_file = True
                raw_name = options.get(b"filename")
                if raw_name:
                    try:
                        self.filename = plain_text(raw_name.decode("utf-8", "replace")[:255])
                    except ValueError as exc:
                        raise Invalid(f"The file name {exc}") from None
        self._header_name = self._header_value = b""

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self._pieces.append(data[start:end])

    def _part_end(self) -> None:
        self._in_file = False


class _CsvFileSink:
    """Checks the file as it streams by and stores it in chunks under the job."""

    def __init__(self, connection: AsyncConnection, job_id: uuid.UUID, max_bytes: int, max_rows: int) -> None:
        self._connection = connection
        self._job_id = job_id
        self._max_bytes = max_bytes
        self._max_rows = max_rows
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self._buffer = bytearray()
        # The line received so far while looking for the header (at most MAX_HEADER_CHARS).
        self._head = ""
        self.header_checked = False
        self.has_rows = False
        self.size = 0
        self.newlines = 0
        self.chunks = 0
        self.ends_with_newline = False

    @property
    def estimated_rows(self) -> int:
        """Lines after the header; the worker replaces it with the exact count of records."""
        return max(self.newlines - (1 if self.ends_with_newline else 0), 0)

    def check(self, data: bytes) -> None:
        """Check the next piece of the file and keep it for ``store`` (CPU only: any thread)."""
        self.size += len(data)
        if self.size > self._max_bytes:
            raise PayloadTooLarge(too_large(self._max_bytes))
        self.newlines += data.count(b"\n")
        self.ends_with_newline = data.endswith(b"\n")
        if self.newlines > self._max_rows + 1:
            raise PayloadTooLarge(f"The file has more than {self._max_rows} rows")
        self._check_text(self._decode(data))
        self._buffer += data

    def check_end(self) -> None:
        self._check_text(self._decode(b"", final=True))
        if not self.header_checked:
            if not self._head.strip():
                raise Invalid("The file is empty")
            self._check_header(self._head)
        if not self.has_rows:
            raise Invalid("The file has a header but no rows")

    async def store(self) -> None:
        """Write the whole chunks checked so far."""
        while len(self._buffer) >= CHUNK_BYTES:
            await self._flush(CHUNK_BYTES)

    async def close(self) -> None:
        self.check_end()
        await self.store()
        if self._buffer:
            await self._flush()

    def _decode(self, data: bytes, final: bool = False) -> str:
        try:
            decoded = self._decoder.decode(data, final)
        except UnicodeDecodeError:
            raise Invalid("The file is not UTF-8 text (is it a CSV file?)") from None
        if "\x00" in decoded:
            raise Invalid("The file is binary, not CSV text")
        return decoded

    def _check_text(self, decoded: str) -> None:
        if self.header_checked:
            if not self.has_rows and decoded.strip():
                self.has_rows = True
            return
        # Linear: each character is looked at once, and what is carried over is one bounded line.
        text, start = self._head + decoded, 0
        while (newline := text.find("\n", start)) >= 0:
            line = text[start:newline]
            if len(line) > MAX_HEADER_CHARS:
                raise Invalid(_LONG_HEADER)
            if line.strip():
                self._check_header(line)
                self.has_rows = bool(text[newline + 1 :].strip())
                self._head = ""
                return
            start = newline + 1  # blank lines before the header are skipped, as the worker does
        self._head = text[start:]
        if len(self._head) > MAX_HEADER_CHARS:
            raise Invalid(_LONG_HEADER)

    def _check_header(self, line: str) -> None:
        fields = next(csv.reader([line]), [])
        try:
            parse_header(fields)
        except ValueError as exc:
            raise Invalid(str(exc)) from None
        self.header_checked = True

    async def _flush(self, size: int | None = None) -> None:
        size = len(self._buffer) if size is None else size
        await self._connection.execute(
            text("INSERT INTO bulk_job_chunks (job_id, seq, data) VALUES (:job_id, :seq, :data)"),
            {"job_id": self._job_id, "seq": self.chunks, "data": bytes(self._buffer[:size])},
        )
        self.chunks += 1
        del self._buffer[:size]


_LONG_HEADER = f"A line up to the CSV header is over {MAX_HEADER_CHARS} characters: not a flights CSV"


def too_large(max_bytes: int) -> str:
    return f"The file is larger than MAX_UPLOAD_MB ({max_bytes / (1 << 20):g} MB)"


async def receive_upload(
    context: AppContext,
    body: AsyncIterator[bytes],
    *,
    content_type: str,
    content_length: int | None,
    user_id: uuid.UUID,
) -> uuid.UUID:
    """Store the uploaded CSV as a PENDING job and return its id (not yet queued)."""
    settings = context.settings
    max_bytes = int(settings.max_upload_mb * (1 << 20))
    if content_length is not None and content_length > max_bytes + ENVELOPE_BYTES:
        raise PayloadTooLarge(too_large(max_bytes))
    multipart = _MultipartFile(content_type)
    job_id = uuid.uuid4()
    received = 0
    async with context.engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO bulk_jobs (id, status, created_by) VALUES (:id, 'PENDING', :user)"),
            {"id": job_id, "user": user_id},
        )
        sink = _CsvFileSink(connection, job_id, max_bytes, settings.max_upload_rows)
        batch = bytearray()
        async for data in body:
            received += len(data)
            if received > max_bytes + ENVELOPE_BYTES:
                raise PayloadTooLarge(too_large(max_bytes))
            batch += data
            if len(batch) >= PARSE_BATCH_BYTES:
                await run_in_threadpool(_parse, multipart, sink, bytes(batch))
                batch.clear()
                await sink.store()
        if batch:
            await run_in_threadpool(_parse, multipart, sink, bytes(batch))
        if not multipart.complete:
            raise Invalid("The multipart body ends before its closing boundary: was the upload cut short?")
        if not multipart.seen_file:
            raise Invalid("No file: send the CSV in a multipart field named 'file'")
        await sink.close()
        await connection.execute(
            text("UPDATE bulk_jobs SET filename = :name, total_rows = :rows WHERE id = :id"),
            {"id": job_id, "name": multipart.filename, "rows": sink.estimated_rows},
        )
    return job_id


def _parse(multipart: _MultipartFile, sink: _CsvFileSink, data: bytes) -> None:
    for piece in multipart.feed(data):
        sink.check(piece)


async def store_csv(context: AppContext, data: bytes, *, filename: str) -> uuid.UUID:
    """Store a CSV made by the application itself (demo data) as a PENDING job."""
    job_id = uuid.uuid4()
    async with context.engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO bulk_jobs (id, status, filename) VALUES (:id, 'PENDING', :name)"),
            {"id": job_id, "name": filename},
        )
        sink = _CsvFileSink(connection, job_id, len(data), context.settings.max_upload_rows)
        sink.check(data)
        await sink.close()
    return job_id
