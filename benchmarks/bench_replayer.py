"""Replayer throughput, memory and schedule drift, each against a baseline measured in the same run.

    .venv/bin/python benchmarks/bench_replayer.py [--records 200000]

Rows:
- timeline (filter off / 0.2 s) vs. the bare archive read it is built on (records → text);
- QuoteFilter alone vs. a pass-through loop over the same in-memory events;
- peak traced memory of a timeline over N and 4 N records (flat memory: ratio ≈ 1);
- ReplayClock's absolute deadlines vs. sleeping each frame's gap: how late the last frame goes out.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterable
from pathlib import Path

from kis_replay.archive import ArchiveHeader, ArchiveReader, ArchiveWriter, Direction, RecordKind
from kis_replay.codec import get_spec
from kis_replay.replayer import QuoteFilter, ReplayClock, ReplayOptions, TimelineEvent, build_timeline

MS = 1_000_000
T0 = 1_700_000_000_000 * MS
_QUOTE = "^".join(["79700"] * 66)
_TRADE_FIELDS = get_spec("H0IOCNT0").field_count  # type: ignore[union-attr]


def write_archive(path: Path, records: int) -> None:
    """``records`` frames: 20 futures quoting every ~2 ms in turn, a trade every 7th frame."""
    with ArchiveWriter(path, ArchiveHeader(filtered=False), fsync=False) as w:
        for i in range(records):
            wall = T0 + i * MS // 2
            if i % 7 == 0:
                text = "0|H0IOCNT0|001|201S11305^090000^" + "^".join(["1"] * (_TRADE_FIELDS - 2))
            else:
                text = f"0|H0ZFASP0|001|1{i % 20:02d}V06^090000^{_QUOTE}"
            w.write(RecordKind.DATA, text, wall_ns=wall, mono_ns=wall)


def timed(fn: Callable[[], int]) -> tuple[float, int]:
    best, count = float("inf"), 0
    for _ in range(3):
        start = time.perf_counter()
        count = fn()
        best = min(best, time.perf_counter() - start)
    return best, count


def drain(events: Iterable[object]) -> int:
    n = 0
    for _ in events:
        n += 1
    return n


def bare_read(path: Path) -> int:
    with ArchiveReader(path) as reader:
        return drain(r.text for r in reader.records(kinds=(RecordKind.DATA,), directions=(Direction.SERVER_TO_CLIENT,)))


def timeline(path: Path, mode: str) -> int:
    with ArchiveReader(path) as reader:
        return drain(build_timeline(reader, ReplayOptions(filter=mode)))


def peak_memory(path: Path) -> int:
    tracemalloc.start()
    timeline(path, "0.2")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


async def lateness(frames: int, gap_ns: int, speed: float, absolute: bool) -> float:
    """How late (ms) the last frame goes out, with per-frame work of ~20 µs as a server would do."""
    loop = asyncio.get_running_loop()
    clock = ReplayClock(speed)
    clock.start(loop.time())
    for i in range(frames):
        if absolute:
            await clock.wait(i * gap_ns)
        else:
            await asyncio.sleep(gap_ns / 1e9 / speed if i else 0)
        spin = time.perf_counter() + 20e-6
        while time.perf_counter() < spin:
            pass
    return (loop.time() - clock.deadline((frames - 1) * gap_ns)) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    args = parser.parse_args()
    n = args.records
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        big, small = Path(tmp) / "big.kisrec.zst", Path(tmp) / "small.kisrec.zst"
        write_archive(big, n)
        write_archive(small, n // 4)
        base, count = timed(lambda: bare_read(big))
        rows.append(("archive read (baseline)", f"{count / base:,.0f} rec/s", "1.00", ""))
        for mode in ("off", "0.2"):
            t, out = timed(lambda mode=mode: timeline(big, mode))
            rows.append((f"build_timeline filter={mode}", f"{count / t:,.0f} rec/s", f"{t / base:.2f}",
                         f"{out:,} events out of {count:,}"))
        events = [TimelineEvent(i * MS // 2, T0 + i * MS // 2, "H0ZFASP0", f"1{i % 20:02d}V06", "x")
                  for i in range(n)]
        plain, _ = timed(lambda: drain(iter(events)))

        def run_filter() -> int:
            qf = QuoteFilter()
            out = 0
            for e in events:
                out += len(qf.feed(e))
            return out + len(qf.flush())

        t, _ = timed(run_filter)
        rows.append(("iterate events (baseline)", f"{n / plain:,.0f} ev/s", "1.00", ""))
        rows.append(("QuoteFilter.feed", f"{n / t:,.0f} ev/s", f"{t / plain:.2f}", "20 instruments"))
        peak_small, peak_big = peak_memory(small), peak_memory(big)
        rows.append((f"peak memory, {n // 4:,} records (baseline)", f"{peak_small / 2**20:.1f} MiB", "1.00", ""))
        rows.append((f"peak memory, {n:,} records", f"{peak_big / 2**20:.1f} MiB", f"{peak_big / peak_small:.2f}",
                     "flat: one zstd frame + one quote per instrument"))
    frames, gap = 2_000, 10 * MS  # 20 s of session at speed 100: 0.2 s
    late_sleep = asyncio.run(lateness(frames, gap, 100.0, absolute=False))
    late_clock = asyncio.run(lateness(frames, gap, 100.0, absolute=True))
    rows.append(("sleep each gap: last frame late by (baseline)", f"{late_sleep:.2f} ms", "1.00", f"{frames} frames"))
    rows.append(("ReplayClock.wait: last frame late by", f"{late_clock:.2f} ms", f"{late_clock / late_sleep:.3f}",
                 "absolute deadlines"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    header = ("what", "rate / size", "ratio", "note")
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
    for row in (header, *rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


if __name__ == "__main__":
    main()
