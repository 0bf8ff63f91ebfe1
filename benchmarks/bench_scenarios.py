"""Cost of scenario steps on a client's stream, against iterating the bare timeline in the same run.

    .venv/bin/python benchmarks/bench_scenarios.py [--frames 300000] [--repeat 3]

A timeline of H0ZFASP0 quotes (the documented 68-field frame, two instruments, 1 ms apart) is built in
memory once; each row pulls it through one step (or a built-in scenario) with ``ScenarioRun.transform``
and counts the items. "x bare" is how many times slower than the bare iteration: the scenario machinery
runs once per frame per client on the server's event loop, so it must stay a small multiple of the
cheapest possible loop. Steps that move frames in time (latency, burst, reorder, stall) build a new
frozen ``TimelineEvent`` per moved frame, which is most of their cost. Targets: every single step
≥ 100 k frames/s and flaky-network (five stacked steps) ≥ 50 k frames/s per client: KIS's busiest minutes
are about 10 k frames/s.
"""

from __future__ import annotations

import argparse
import time

from kis_replay.replayer import TimelineEvent
from kis_replay.scenarios import (
    Burst,
    Drop,
    Duplicate,
    Latency,
    Reorder,
    Scenario,
    ScenarioRun,
    Stall,
    load_builtin,
)

DOC = ("0|H0ZFASP0|001|111V06^092304^79700^79800^79900^80000^80200^80300^80500^81100^84900^85900^79500^79400^"
       "79300^79200^79100^79000^78900^78800^78700^78600^1^18^6^2^2^1^3^1^1^1^8^6^4^8^4^8^7^11^11^3^950^4148^"
       "988^6^9^1^3^15^5^10^4404^2277^1321^3440^330^2237^1835^362^83^15^36^97^6135^16509^950^0")
T0 = 1_795_996_800_000_000_000
MS = 1_000_000
S = 1_000_000_000


def timeline(n: int) -> list[TimelineEvent]:
    keys = ("111V06", "112V06")
    texts = [DOC, DOC.replace("111V06", "112V06", 1)]
    return [TimelineEvent(i * MS, T0 + i * MS, "H0ZFASP0", keys[i % 2], texts[i % 2]) for i in range(n)]


def best_of(repeat: int, fn) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    best, count = float("inf"), 0
    for _ in range(repeat):
        start = time.perf_counter()
        count = fn()
        best = min(best, time.perf_counter() - start)
    return best, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    events = timeline(args.frames)
    span = args.frames * MS

    def bare() -> int:
        return sum(1 for _ in iter(events))

    rows = {
        "drop 1%": Scenario("b", (Drop(probability=0.01),)),
        "duplicate 1%": Scenario("b", (Duplicate(probability=0.01),)),
        "reorder 1%": Scenario("b", (Reorder(probability=0.01, depth=3),)),
        "latency 30±20 ms": Scenario("b", (Latency(delay=30 * MS, jitter=20 * MS),)),
        "burst (a third, in 300 ms)": Scenario("b", (Burst(after=span // 3, window=span // 3, within=300 * MS),)),
        "stall (a third, flush)": Scenario("b", (Stall(after=span // 3, duration=span // 3, backlog="flush"),)),
        "built-in flaky-network": load_builtin("flaky-network"),
    }
    base, count = best_of(args.repeat, bare)
    print(f"{args.frames:,} frames, best of {args.repeat}")
    print(f"{'stream':<28} {'frames/s':>12} {'x bare':>8} {'items':>9}")
    print(f"{'bare timeline':<28} {count / base:>12,.0f} {1.0:>8.1f} {count:>9,}")
    for name, scenario in rows.items():
        run = ScenarioRun(scenario, seed=1)
        seconds, items = best_of(args.repeat, lambda run=run: sum(1 for _ in run.transform(events, 1)))
        print(f"{name:<28} {args.frames / seconds:>12,.0f} {seconds / base:>8.1f} {items:>9,}")


if __name__ == "__main__":
    main()
