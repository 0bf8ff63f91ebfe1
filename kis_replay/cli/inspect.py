"""``kis-replay info | cat | verify | slice | merge``: looking into archives from the shell.

Thin shells over :mod:`kis_replay.inspection`: parse options, turn session times into instants, show
progress on a terminal, print. Every failure the user can cause (a missing file, a file that is not an
archive, a bad time) is one ``Error:`` line naming the file, offset or option, with a non-zero exit;
archive damage the reader steps over is printed as warnings on stderr, never lost silently.
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TextIO

import click

from ..archive import (
    ArchiveError,
    ArchiveReader,
    ArchiveWarning,
    RecordKind,
    session_window,
)
from ..codec import get_spec
from ..inspection import (
    CsvExport,
    ExportFormat,
    FrameDecoder,
    JsonlExport,
    RawExport,
    RecordExport,
    iso_clock,
    key_acks_before,
    merge_archives,
    slice_archive,
    summarize,
    verify_archive,
)
from .shell import fail, isatty

__all__ = ["cat", "info", "merge", "slice_", "verify"]

_KINDS = [k.name.lower() for k in RecordKind]
_TIME_HELP = "session time HH:MM:SS[.fff] in the archive's timezone (KST)"


class Progress:
    """A one-line progress display on stderr, only when stderr is a terminal (quiet in pipes and logs)."""

    def __init__(self, label: str, total_bytes: int, stream: TextIO | None = None, interval: float = 0.2) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = isatty(self.stream)
        self.label = label
        self.total = max(total_bytes, 1)
        self.interval = interval
        self._last = 0.0
        self._width = 0

    def update(self, done_bytes: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < self.interval:
            return
        self._last = now
        line = f"{self.label}: {min(100.0, 100.0 * done_bytes / self.total):5.1f}% " \
               f"({done_bytes / 2**20:.1f} of {self.total / 2**20:.1f} MiB)"
        self._width = max(self._width, len(line))
        self.stream.write("\r" + line.ljust(self._width))
        self.stream.flush()

    def reader_hook(self) -> Callable[[ArchiveReader], None]:
        return lambda reader: self.update(reader.stats.compressed_bytes_read)

    def close(self) -> None:
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()


@contextmanager
def _archive_errors(exit_code: int = 1) -> Iterator[None]:
    """Turn what the user can get wrong into one ``Error:`` line (never a traceback) and quiet the
    reader's Python warnings (each command reports archive damage itself)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArchiveWarning)
        try:
            yield
        except ArchiveError as exc:
            raise fail(str(exc), exit_code) from None
        except OSError as exc:
            if isinstance(exc, BrokenPipeError):
                raise
            where = f"{exc.filename}: " if exc.filename else ""
            raise fail(f"{where}{exc.strerror or exc}", exit_code) from None


def _closed_pipe(exit_code: int = 0) -> None:
    """The reader of our output stopped (``| head``): not an error. stdout goes to /dev/null so the
    interpreter's final flush does not complain either."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(exit_code)


def _print(text: str) -> None:
    try:
        click.echo(text)
        sys.stdout.flush()
    except BrokenPipeError:
        _closed_pipe()


def _check_time(start: str | None, end: str | None) -> None:
    """Reject a malformed time before any file is opened (``--from 25:00`` names the option)."""
    _window(None, start, end)


def _window(reader: ArchiveReader | None, start: str | None, end: str | None) -> tuple[int | None, int | None]:
    """``--from``/``--to`` as UTC ns on the archive's session clock (from inclusive, to exclusive)."""
    first, tz = (None, "Asia/Seoul") if reader is None else (reader.first_wall_ns, reader.header.timezone)
    try:
        return session_window(first, start, end, tz, names=("--from", "--to"))
    except ValueError as exc:
        raise fail(str(exc)) from None


def _report_warnings(found: Sequence[ArchiveWarning], command: str) -> None:
    """Damage the reader stepped over (a missing index costs nothing, so it is not reported)."""
    for w in found:
        if w.kind != "index":
            click.echo(f"kis-replay {command}: warning: {w.message}", err=True)


# -- info -------------------------------------------------------------------------------------------------


@click.command()
@click.argument("archive")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
def info(archive: str, as_json: bool) -> None:
    """What ARCHIVE holds: header, time span, frames per TR and instrument, peak rates, gaps, compression,
    index and damage."""
    progress = Progress("reading", _size(archive))
    with _archive_errors():
        try:
            summary = summarize(archive, progress=progress.reader_hook())
        finally:
            progress.close()
    _print(json.dumps(summary.to_json(), ensure_ascii=False, indent=2) if as_json else summary.render())


# -- cat --------------------------------------------------------------------------------------------------


@click.command()
@click.argument("archive")
@click.option("--format", "fmt", type=click.Choice([f.value for f in ExportFormat]), default="raw",
              show_default=True, help="raw: payloads as received; jsonl: one JSON object a record; "
              "csv: one row per decoded record of one TR (needs a single --tr).")
@click.option("--tr", "tr_ids", multiple=True, metavar="TR_ID", help="Only frames and control messages of this TR "
              "(repeatable).")
@click.option("--key", "tr_keys", multiple=True, metavar="TR_KEY", help="Only this instrument (repeatable).")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(_KINDS), help="Only records of this kind "
              "(repeatable), e.g. --kind data.")
@click.option("--from", "start", metavar="TIME", help=f"First record at or after this {_TIME_HELP}.")
@click.option("--to", "end", metavar="TIME", help=f"Records before (not at) this {_TIME_HELP}.")
@click.option("--decode", is_flag=True, help="jsonl: data frames as named fields (encrypted ones decrypted with "
              "the recorded ack's key), control messages as JSON.")
def cat(archive: str, fmt: str, tr_ids: tuple[str, ...], tr_keys: tuple[str, ...], kinds: tuple[str, ...],
        start: str | None, end: str | None, decode: bool) -> None:
    """Print the records of ARCHIVE, streaming (safe to pipe into head)."""
    _check_time(start, end)
    spec = None
    if fmt == ExportFormat.CSV:
        if len(tr_ids) != 1:
            raise fail(f"--format csv needs exactly one --tr (its fields are the columns), got {len(tr_ids)}")
        spec = get_spec(tr_ids[0])
        if spec is None:
            raise fail(f"--tr {tr_ids[0]}: the codec has no table for this TR, so it has no field names "
                        "for csv columns; use --format jsonl --decode")
        decode = True
    try:
        with _archive_errors(), ArchiveReader(archive) as reader:
            start_ns, end_ns = _window(reader, start, end)
            try:
                clock = iso_clock(reader.header.timezone)
            except ValueError as exc:
                if fmt != ExportFormat.RAW:  # raw prints no times: it still reads such an archive
                    raise fail(f"{archive}: header: {exc}") from None
                clock = str
            decoder = FrameDecoder() if decode else None
            exporter: RecordExport
            if spec is not None:
                assert decoder is not None
                exporter = CsvExport(clock, decoder, spec)
            elif fmt == ExportFormat.JSONL:
                exporter = JsonlExport(clock, decoder)
            else:
                exporter = RawExport(clock, decoder)
            if decoder is not None and start_ns is not None:
                for ack in key_acks_before(reader, start_ns):  # keys handed out before the window
                    decoder.observe(ack)
            wanted = frozenset(RecordKind[k.upper()] for k in kinds) if kinds else None
            _stream(exporter, reader.records(start_ns=start_ns, end_ns=end_ns, tr_ids=tr_ids or None,
                                             tr_keys=tr_keys or None), decoder, wanted)
            sys.stdout.flush()
            _report_warnings(reader.warnings, "cat")
            if exporter.problems:
                click.echo(f"kis-replay cat: {exporter.problems} record(s) could not be decoded "
                           f"(last: {exporter.last_problem})", err=True)
    except BrokenPipeError:
        _closed_pipe()


def _stream(exporter: RecordExport, records: Iterator[Any], decoder: FrameDecoder | None,
            kinds: frozenset[RecordKind] | None) -> None:
    out = sys.stdout.buffer
    pending: list[bytes] = []
    size = 0
    for line in exporter.header():
        pending.append(line.encode("utf-8") + b"\n")
    for record in records:
        if decoder is not None:
            decoder.observe(record)
        if kinds is not None and record.kind not in kinds:
            continue
        for line in exporter.lines(record):
            data = line.encode("utf-8", "surrogateescape") + b"\n"
            pending.append(data)
            size += len(data)
        if size >= 1 << 16:
            out.write(b"".join(pending))
            pending.clear()
            size = 0
    out.write(b"".join(pending))
    out.flush()


# -- verify -----------------------------------------------------------------------------------------------


@click.command()
@click.argument("archive")
@click.option("--salvage", metavar="OUT", help="Also write every record that could be read to a new archive OUT.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
def verify(archive: str, salvage: str | None, as_json: bool) -> None:
    """Check ARCHIVE: checksums, seek index, every frame against its TR table.

    Exit status: 0 no problems, 1 problems found (listed with offsets, record numbers, TR, field),
    2 not readable as an archive.
    """
    progress = Progress("verifying", _size(archive))
    with _archive_errors(exit_code=2):
        try:
            report = verify_archive(archive, salvage=salvage, progress=progress.reader_hook())
        finally:
            progress.close()
    _print(json.dumps(report.to_json(), ensure_ascii=False, indent=2) if as_json else report.render())
    sys.exit(0 if report.ok else 1)


# -- slice ------------------------------------------------------------------------------------------------


@click.command("slice")
@click.argument("archive")
@click.option("--from", "start", metavar="TIME", help=f"Start, inclusive: {_TIME_HELP}.")
@click.option("--to", "end", metavar="TIME", help=f"End, exclusive: {_TIME_HELP}.")
@click.option("-o", "--output", required=True, metavar="OUT", help="The new archive to write.")
def slice_(archive: str, start: str | None, end: str | None, output: str) -> None:
    """Write the records of ARCHIVE received from --from (inclusive) to --to (exclusive) to a new archive.

    Slices cut at the same time tile the archive: `slice --to T` and `slice --from T` hold every record
    once. Subscribe acks that carry an AES key before the window are kept, so encrypted frames stay
    readable.
    """
    _check_time(start, end)
    progress = Progress("slicing", _size(archive))
    with _archive_errors():
        with ArchiveReader(archive) as reader:
            start_ns, end_ns = _window(reader, start, end)
        try:
            result = slice_archive(archive, output, start_ns, end_ns, progress=progress.reader_hook())
        finally:
            progress.close()
    _report_warnings(result.warnings, "slice")
    click.echo(f"{result.path}: {result.records} records"
               + (f" (+{result.carried_acks} key acks from before the window)" if result.carried_acks else ""))


# -- merge ------------------------------------------------------------------------------------------------


@click.command()
@click.argument("archives", nargs=-1, required=True)
@click.option("-o", "--output", required=True, metavar="OUT", help="The new archive to write.")
def merge(archives: tuple[str, ...], output: str) -> None:
    """Merge ARCHIVES (two or more) into one, ordered by receive time, connections kept apart.

    The parts of one rotated recording (`kis-replay record --rotate`) are joined back into that recording:
    connection numbers as recorded, and the subscribe acks repeated at the start of each part dropped.
    """
    if len(archives) < 2:
        raise fail(f"merge needs at least two archives, got {len(archives)}")
    progress = Progress("merging", sum(_size(a) for a in archives))
    with _archive_errors():
        try:
            result = merge_archives(
                list(archives), output,
                progress=lambda readers: progress.update(sum(r.stats.compressed_bytes_read for r in readers)))
        finally:
            progress.close()
    _report_warnings(result.warnings, "merge")
    click.echo(f"{result.path}: {result.records} records from {result.inputs} archives, "
               f"{result.connections} connections")


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0
