"""Speed and memory of the inspection commands against the floors they stand on, measured in the same run.

    .venv/bin/python benchmarks/bench_inspect.py [--frames 300000] [--repeat 2]

The session is bench_archive's (H0ZFASP0 quotes of three instruments, 5 ms apart), written once. Two
baselines: a bare :class:`ArchiveReader` scan (what reading costs), and the scan plus ``parse_frame`` of
every data frame (what any decoding command costs at least). Each command runs in-process, output to
``os.devnull``; times are best of ``--repeat``. "x scan" and "x parse" are how many times slower than the
baselines. The memory rows are tracemalloc peaks of ``info`` and ``verify`` on the session and on a
session twice as long (same rate): constant memory means the two peaks are about equal. What bounds them
is the reader's one decompressed frame (the writer caps frames at 10 s / 8 MiB) and, for info, one
counter per second of session.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path

from bench_archive import best_of, session, write_archive

from kis_replay.archive import ArchiveReader, ArchiveWarning, RecordKind
from kis_replay.codec import get_spec, parse_frame
from kis_replay.inspection import (
    CsvExport,
    FrameDecoder,
    JsonlExport,
    RawExport,
    RecordExport,
    iso_clock,
    merge_archives,
    slice_archive,
    summarize,
    verify_archive,
)


def scan(path: Path) -> int:
    return sum(1 for _ in ArchiveReader(path))


def scan_parse(path: Path) -> int:
    n = 0
    for record in ArchiveReader(path):
        if record.kind == RecordKind.DATA:
            parse_frame(record.payload)
        n += 1
    return n


def export(path: Path, make: Callable[[FrameDecoder | None], RecordExport], decode: bool) -> int:
    """What ``kis-replay cat`` does per record, written to /dev/null in 64 KiB batches."""
    decoder = FrameDecoder() if decode else None
    exporter = make(decoder)
    n = 0
    with open(os.devnull, "wb") as out:
        pending: list[bytes] = [line.encode() + b"\n" for line in exporter.header()]
        for record in ArchiveReader(path):
            if decoder is not None:
                decoder.observe(record)
            for line in exporter.lines(record):
                pending.append(line.encode() + b"\n")
            n += 1
            if len(pending) >= 512:
                out.write(b"".join(pending))
                pending.clear()
        out.write(b"".join(pending))
    return n


def peak_kib(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    warnings.simplefilter("ignore", ArchiveWarning)
    frames = session(args.frames)
    n = len(frames)
    clock = iso_clock("Asia/Seoul")
    spec = get_spec("H0ZFASP0")
    assert spec is not None
    with tempfile.TemporaryDirectory() as tmp:
        archive, double = Path(tmp, "s.kisrec.zst"), Path(tmp, "d.kisrec.zst")
        write_archive(archive, frames, 3)
        size = os.path.getsize(archive)
        middle = frames[n // 2][0]
        first_half, second_half = Path(tmp, "a.kisrec.zst"), Path(tmp, "b.kisrec.zst")
        slice_archive(archive, first_half, None, middle)
        slice_archive(archive, second_half, middle, None)
        print(f"session: {n:,} frames, archive {size / 1e6:.1f} MB")

        rows: list[tuple[str, float]] = []
        cases: list[tuple[str, Callable[[], object]]] = [
            ("baseline: reader scan", lambda: scan(archive)),
            ("baseline: scan + parse_frame", lambda: scan_parse(archive)),
            ("info (summarize)", lambda: summarize(archive)),
            ("verify", lambda: verify_archive(archive)),
            ("cat raw", lambda: export(archive, lambda d: RawExport(clock, d), False)),
            ("cat jsonl", lambda: export(archive, lambda d: JsonlExport(clock, d), False)),
            ("cat jsonl --decode", lambda: export(archive, lambda d: JsonlExport(clock, d), True)),
            ("cat csv --tr H0ZFASP0", lambda: export(archive, lambda d: CsvExport(clock, d or FrameDecoder(),
                                                                                  spec), True)),
            ("slice (whole window)", lambda: slice_archive(archive, Path(tmp, "o.kisrec.zst"), None, None)),
            ("merge (two halves)", lambda: merge_archives([first_half, second_half], Path(tmp, "m.kisrec.zst"))),
        ]
        for name, fn in cases:
            rows.append((name, best_of(args.repeat, fn)))
        floor_scan, floor_parse = rows[0][1], rows[1][1]
        print(f"\n{'command':<32}{'seconds':>9}{'records/s':>13}{'x scan':>8}{'x parse':>9}")
        for name, seconds in rows:
            print(f"{name:<32}{seconds:>9.2f}{n / seconds:>13,.0f}{seconds / floor_scan:>8.1f}"
                  f"{seconds / floor_parse:>9.2f}")

        write_archive(double, session(2 * n, seed=2), 3)
        print(f"\n{'memory (tracemalloc peak)':<32}{f'{n:,} rec':>14}{f'{2 * n:,} rec':>14}")
        for name, fn in (("info", summarize), ("verify", verify_archive)):
            one = peak_kib(lambda fn=fn: fn(archive))  # type: ignore[misc]
            two = peak_kib(lambda fn=fn: fn(double))  # type: ignore[misc]
            print(f"{name:<32}{one:>11,.0f} KiB{two:>10,.0f} KiB")


if __name__ == "__main__":
    main()
