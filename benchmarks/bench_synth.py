"""Synthetic-session generation speed, against the codec's own cost of building the same frames.

    .venv/bin/python benchmarks/bench_synth.py [--seconds 60] [--repeat 3]

Every synthetic frame goes through ``Record.from_values`` → ``DataFrame.from_records`` (the codec checks
each field's type), so the codec sets a floor: the *baseline* row of each TR builds one fixed record of
that TR over and over through the same two calls, measured in the same run. ``synth`` is
:func:`kis_replay.synth.generate` of a ``--seconds`` session from the open (books, tapes, pacing,
pricing and the codec); ``archive`` adds :func:`~kis_replay.synth.recording.write_archive`. The ratio is
synth's records/s over the baseline's: 1.0 would mean the simulation itself costs nothing (a trade frame
carries several records, so records, not frames, are what the codec pays for).

Target (issue): >= 50 k frames/s "would be nice".
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from kis_replay.codec import DataFrame, parse_frame
from kis_replay.synth import SynthSession, generate
from kis_replay.synth.recording import write_archive

TRS = ("H0ZFASP0", "H0EUASP0", "H0IOCNT0")


def best(fn, repeat: int) -> tuple[float, int]:
    """(seconds, items) of the fastest of ``repeat`` runs."""
    times, items = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        items = fn()
        times.append(time.perf_counter() - start)
    return min(times), items


def session_of(tr_id: str, seconds: float) -> SynthSession:
    return SynthSession.create([tr_id], duration_s=seconds, seed=1)


def baseline(tr_id: str, n: int) -> int:
    """Build one realistic record of ``tr_id`` ``n`` times through the codec, as the generator does."""
    text = next(t for _, t in generate(session_of(tr_id, 5)) if t[:1] == "0")
    record = parse_frame(text).records[0]
    values = record.typed()
    spec = record.spec
    for _ in range(n):
        DataFrame.from_records([type(record).from_values(spec, values)]).text  # noqa: B018
    return n


def count(session: SynthSession) -> int:
    """Records generated (the count field of every data frame)."""
    return sum(int(t.split("|", 3)[2]) for _, t in generate(session) if t[:1] == "0")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'TR':10} {'what':9} {'frames':>8} {'records':>8} {'seconds':>8} {'frames/s':>10} {'records/s':>10}"
          f" {'vs baseline':>12}")
    with tempfile.TemporaryDirectory() as tmp:
        for tr_id in TRS:
            session = session_of(tr_id, args.seconds)
            frames = sum(1 for _, t in generate(session) if t[:1] == "0")
            synth_s, records = best(lambda s=session: count(s), args.repeat)
            base_s, _ = best(lambda tr=tr_id, n=records: baseline(tr, n), args.repeat)
            path = Path(tmp) / f"{tr_id}.kisrec.zst"
            archive_s, _ = best(lambda s=session, p=path: write_archive(s, p).frames, args.repeat)
            base_rate = records / base_s
            rows = (("baseline", records, base_s), ("synth", frames, synth_s), ("archive", frames, archive_s))
            for what, n_frames, secs in rows:
                rate = records / secs
                print(f"{tr_id:10} {what:9} {n_frames:8d} {records:8d} {secs:8.3f} {n_frames / secs:10,.0f}"
                      f" {rate:10,.0f} {rate / base_rate:12.2f}")


if __name__ == "__main__":
    main()
