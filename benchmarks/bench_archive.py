"""Archive write/scan speed and size against a gzip-JSONL baseline, measured in the same run.

    .venv/bin/python benchmarks/bench_archive.py [--frames 1000000] [--levels 1,3,6] [--repeat 2]

A synthetic session of H0ZFASP0 quotes (the documented frame's 68-field layout, prices walking, sizes
random, three instruments, 5 ms apart) is written once through :class:`ArchiveWriter` and once as gzip-6
JSON lines (one object per frame, the obvious alternative); then each file is read back in full. Speeds
are best of ``--repeat`` runs; the ratio is wire bytes / file bytes. The last rows read one minute from
the end through the seek index, against the same minute found by scanning.

Targets (issue): scan >= 1 M records/s, write >= 200 k frames/s, ratio >= gzip-6's at far higher speed.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from kis_replay.archive import ArchiveHeader, ArchiveReader, ArchiveWriter, RecordKind

T0 = 1_735_776_000_000_000_000  # 09:00 KST
STEP_NS = 5_000_000
KEYS = ("111V06", "111V09", "101W09")


def session(n: int, seed: int = 1) -> list[tuple[int, str]]:
    """``n`` realistic-looking (wall_ns, frame text) pairs, quickly.

    Each instrument keeps a book (the documented frame's 68-field layout); a quote moves the price now
    and then and changes a few levels' counts and sizes, as a real book does between snapshots.
    """
    rng = random.Random(seed)
    random_, randrange = rng.random, rng.randrange
    books = {}
    for key in KEYS:
        mid = 79_700
        prices = [str(mid + 100 * k) for k in range(1, 11)] + [str(mid - 100 * k) for k in range(10)]
        counts = [str(randrange(1, 20)) for _ in range(20)]
        sizes = [str(randrange(1, 2000)) for _ in range(20)]
        books[key] = [mid, prices, counts, sizes]
    out = []
    append = out.append
    for i in range(n):
        key = KEYS[i % 3]
        book = books[key]
        if random_() < 0.05:
            mid = book[0] = book[0] + (100 if random_() < 0.5 else -100)
            book[1] = [str(mid + 100 * k) for k in range(1, 11)] + [str(mid - 100 * k) for k in range(10)]
        counts, sizes = book[2], book[3]
        for _ in range(3):
            level = randrange(20)
            counts[level] = str(randrange(1, 20))
            sizes[level] = str(randrange(1, 2000))
        seconds = 32_400 + i * STEP_NS // 1_000_000_000
        hhmmss = f"{seconds // 3600:02d}{seconds // 60 % 60:02d}{seconds % 60:02d}"
        text = (f"0|H0ZFASP0|001|{key}^{hhmmss}^{'^'.join(book[1])}^{'^'.join(counts)}^{'^'.join(sizes)}"
                f"^{randrange(900, 1000)}^{randrange(4000, 4200)}^{randrange(9000, 20000)}"
                f"^{randrange(9000, 20000)}^{randrange(0, 999)}^0")
        append((T0 + i * STEP_NS + randrange(1_000_000), text))
    return out


def write_archive(path: Path, frames: list[tuple[int, str]], level: int) -> None:
    with ArchiveWriter(path, ArchiveHeader(), level=level) as writer:
        write = writer.write
        data = RecordKind.DATA
        for wall, text in frames:
            write(data, text, wall_ns=wall, mono_ns=wall - T0 + (wall & 0xFF), conn=1)


def scan_archive(path: Path) -> int:
    n = 0
    for _ in ArchiveReader(path):
        n += 1
    return n


def write_jsonl(path: Path, frames: list[tuple[int, str]]) -> None:
    with gzip.open(path, "wt", compresslevel=6, encoding="utf-8") as f:
        dumps = json.dumps
        for wall, text in frames:
            f.write(dumps({"wall_ns": wall, "mono_ns": wall - T0 + (wall & 0xFF), "dir": 0, "conn": 1, "kind": 1,
                           "payload": text}))
            f.write("\n")


def scan_jsonl(path: Path) -> int:
    n = 0
    with gzip.open(path, "rt", encoding="utf-8") as f:
        loads = json.loads
        for line in f:
            loads(line)
            n += 1
    return n


def _decompressed_size(path: Path) -> int:
    reader = ArchiveReader(path)
    for _ in reader:
        pass
    return reader.stats.bytes_decompressed


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=1_000_000)
    parser.add_argument("--levels", default="3", help="zstd levels to compare, e.g. 1,3,6 (default: 3)")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    t = time.perf_counter()
    frames = session(args.frames)
    wire = sum(len(text) for _, text in frames)
    print(f"session: {len(frames):,} frames, {wire / 1e6:.1f} MB on the wire, generated in "
          f"{time.perf_counter() - t:.1f} s")

    with tempfile.TemporaryDirectory() as tmp:
        jsonl = Path(tmp, "s.jsonl.gz")
        levels = [int(x) for x in args.levels.split(",")]
        runs: list[tuple[str, Path, Callable[[], object], Callable[[], int]]] = [
            (f"kisrec zstd-{level}", Path(tmp, f"s{level}.kisrec.zst"),
             lambda level=level: write_archive(Path(tmp, f"s{level}.kisrec.zst"), frames, level),
             lambda level=level: scan_archive(Path(tmp, f"s{level}.kisrec.zst")))
            for level in levels
        ]
        runs.append(("gzip-6 JSONL (baseline)", jsonl, lambda: write_jsonl(jsonl, frames), lambda: scan_jsonl(jsonl)))
        rows = []
        for name, path, write, scan in runs:
            write_s = best_of(args.repeat, write)
            scan_s = best_of(args.repeat, scan)
            assert scan() == len(frames)
            rows.append((name, len(frames) / write_s, len(frames) / scan_s, wire / os.path.getsize(path),
                         os.path.getsize(path), write_s, scan_s))

        print(f"\n{'format':<26}{'write frames/s':>16}{'scan records/s':>16}{'ratio':>8}{'file MB':>9}"
              f"{'write s':>9}{'scan s':>8}")
        for name, wps, sps, ratio, size, ws, ss in rows:
            print(f"{name:<26}{wps:>16,.0f}{sps:>16,.0f}{ratio:>8.2f}{size / 1e6:>9.1f}{ws:>9.2f}{ss:>8.2f}")
        _, bw, bsc, br, *_ = rows[-1]
        for name, aw, asc, ar, *_ in rows[:-1]:
            print(f"{name + ' / baseline':<26}{aw / bw:>15.1f}x{asc / bsc:>15.1f}x{ar / br:>7.2f}x")

        archive = Path(tmp, f"s{levels[0]}.kisrec.zst")
        reader = ArchiveReader(archive)
        last = reader.last_wall_ns
        assert last is not None
        start_ns = last - 60 * 1_000_000_000
        seek_s = best_of(args.repeat, lambda: sum(1 for _ in ArchiveReader(archive).records(start_ns=start_ns)))
        scan_s = best_of(args.repeat, lambda: sum(1 for r in ArchiveReader(archive) if r.wall_ns >= start_ns))
        seeker = ArchiveReader(archive)
        n = sum(1 for _ in seeker.records(start_ns=start_ns))
        tracemalloc.start()
        scan_archive(archive)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        decompressed = _decompressed_size(archive)
        print(f"\nfull scan peak memory (tracemalloc): {peak / 1e6:.1f} MB, for {decompressed / 1e6:.0f} MB of "
              f"decompressed records (one frame at a time)")
        print(f"last minute ({n:,} records): seek {seek_s * 1e3:.1f} ms, {seeker.stats.frames_decompressed} of "
              f"{len(reader.index)} frames decompressed; full scan {scan_s * 1e3:.0f} ms "
              f"({scan_s / seek_s:.0f}x slower)")


if __name__ == "__main__":
    main()
