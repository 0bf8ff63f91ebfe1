"""Recorder throughput: frames/s written and CPU, receiving from a local server at full speed.

    .venv/bin/python benchmarks/bench_recorder.py [--frames 200000] [--runs 3]

A separate server process (this script with ``--serve``) acks the subscriptions through the codec, then
writes pre-encoded WebSocket frames straight to its transport, so the sender costs next to nothing and the
client is what is measured. Two clients run against it in the same run, each ``--runs`` times (best kept):

- baseline: a bare ``websockets`` client that receives every message and discards it (the floor: what
  receiving alone costs in Python);
- recorder: :class:`kis_replay.recorder.client.Recorder` writing a real archive (fsync on every flush).

The target: the busiest realistic KIS session, times 50. A session holds at most 41 registrations. Quote
TRs (…ASP0) are filtered by the service to one update per 0.2 s per instrument (≤ 5 frames/s each); trade
TRs (…CNT0) are not, and the most active futures/options trade at the open at tens of prints a second,
batched several to a frame. Taking all 41 registrations as trade TRs at 25 frames/s each gives ~1,000
frames/s, above any real mix (41 quotes alone are ≤ 205 frames/s). 50× that is 50,000 frames/s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.frames import Frame, Opcode

from kis_replay.archive import ArchiveReader, RecordKind
from kis_replay.codec import build_reply, parse_request
from kis_replay.recorder.backoff import Backoff
from kis_replay.recorder.client import Recorder, RecorderSettings, recording_header
from kis_replay.recorder.credentials import Credentials
from kis_replay.recorder.rolling import OutputTarget, RollingArchive
from kis_replay.recorder.subscriptions import Subscription

BUSIEST_KIS_FPS = 1_000
TARGET_FPS = 50 * BUSIEST_KIS_FPS
KEY = "approval-bench-0000-1111-2222-333344445555"
FUT = (
    "0|H0ZFASP0|001|{key}^{t}^79700^79800^79900^80000^80200^80300^80500^81100^84900^85900^79500^79400"
    "^79300^79200^79100^79000^78900^78800^78700^78600^1^18^6^2^2^1^3^1^1^1^8^6^4^8^4^8^7^11^11^3^950^4148"
    "^988^6^9^1^3^15^5^10^4404^2277^1321^3440^330^2237^1835^362^83^15^36^97^6135^16509^950^0"
)
OPT = (
    "0|H0EUASP0|001|{key}^{t}^2.98^2.99^3.00^0.00^0.00^2.97^2.96^2.95^0.00^0.00^0^0^0^0^0^0^0^0^0^0^1^3^12"
    "^0^0^9^21^16^0^0^0^0^16^46^5^0"
)
SUBS = [Subscription("H0ZFASP0", f"111V{i:02d}") for i in range(21)] + [
    Subscription("H0EUASP0", f"301V06{i:03d}") for i in range(20)
]


def make_frames(n: int) -> list[str]:
    """``n`` data frames spread over the 41 registrations (realistic sizes: ~330 and ~150 bytes)."""
    out = []
    for i in range(n):
        sub = SUBS[i % len(SUBS)]
        template = FUT if sub.tr_id == "H0ZFASP0" else OPT
        out.append(template.format(key=sub.tr_key, t=f"{(90000 + i // 41) % 1_000_000:06d}"))
    return out


# -- the server process ------------------------------------------------------------------------------------

async def _serve(n: int) -> None:
    blob = b"".join(Frame(Opcode.TEXT, text.encode()).serialize(mask=False) for text in make_frames(n))

    async def handler(ws):
        for _ in range(len(SUBS)):
            request = parse_request(await ws.recv())
            await ws.send(build_reply("OPSP0000", tr_id=request.tr_id, tr_key=request.tr_key).to_json())
        transport = ws.transport
        for start in range(0, len(blob), 1 << 20):
            transport.write(blob[start : start + (1 << 20)])
            await ws.drain()
        await ws.wait_closed()

    async with serve(handler, "127.0.0.1", 0, max_size=None) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the parent closes it


# -- the clients -------------------------------------------------------------------------------------------

async def baseline(url: str, n: int) -> tuple[float, float]:
    """A bare websockets client: subscribe, receive ``n`` data frames, discard them."""
    wall, cpu = time.perf_counter(), time.process_time()
    async with connect(url, compression=None, max_size=None) as ws:
        for sub in SUBS:
            await ws.send(sub.request(KEY).to_json())
        got = 0
        while got < n:
            message = await ws.recv()
            if message[:1] in ("0", "1"):
                got += 1
    return time.perf_counter() - wall, time.process_time() - cpu


async def recorder(url: str, n: int, folder: Path) -> tuple[float, float]:
    """The recorder writing a real archive, stopped once it has written ``n`` data frames."""
    settings = RecorderSettings(url=url, subscriptions=tuple(SUBS), flush_interval=1.0, ping_interval=None)
    path = folder / f"bench-{time.monotonic_ns()}.kisrec.zst"
    archive = RollingArchive(OutputTarget(file=path), lambda: recording_header(settings), flush_interval=1.0)
    rec = Recorder(settings, Credentials(approval_key=KEY), archive, backoff=Backoff(min_interval=0.0))
    wall, cpu = time.perf_counter(), time.process_time()
    task = asyncio.create_task(rec.run())
    while rec.status.frames_total < n and not task.done():
        await asyncio.sleep(0.005)
    rec.stop()
    await task
    elapsed = time.perf_counter() - wall, time.process_time() - cpu
    written = sum(1 for _ in ArchiveReader(path).records(kinds=[RecordKind.DATA]))
    if written != n:
        raise SystemExit(f"recorder wrote {written} data frames, expected {n}")
    path.unlink()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(_serve(args.frames))
        return
    server = subprocess.Popen([sys.executable, __file__, "--serve", "--frames", str(args.frames)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        url = f"ws://127.0.0.1:{server.stdout.readline().strip()}"
        results: dict[str, tuple[float, float]] = {}
        with tempfile.TemporaryDirectory() as tmp:
            for name in ("baseline", "recorder"):
                best = None
                for _ in range(args.runs):
                    if name == "baseline":
                        r = asyncio.run(baseline(url, args.frames))
                    else:
                        r = asyncio.run(recorder(url, args.frames, Path(tmp)))
                    best = r if best is None or r[0] < best[0] else best
                assert best is not None
                results[name] = best
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(10)
    n = args.frames
    base_fps = n / results["baseline"][0]
    print(f"{n} frames over {len(SUBS)} registrations, best of {args.runs}; {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.1f}")
    print(f"target: 50 x busiest realistic KIS session ({BUSIEST_KIS_FPS:,} frames/s) = {TARGET_FPS:,} frames/s")
    print()
    # frames per CPU-second: what one whole core would sustain (the machine may be shared)
    print(f"{'client':<10} {'seconds':>8} {'frames/s':>10} {'CPU %':>6} {'frames/CPU-s':>13} "
          f"{'vs baseline':>11} {'vs target':>9}")
    for name, (wall, cpu) in results.items():
        fps = n / wall
        print(f"{name:<10} {wall:>8.2f} {fps:>10,.0f} {100 * cpu / wall:>6.0f} {n / cpu:>13,.0f} "
              f"{fps / base_fps:>10.2f}x {fps / TARGET_FPS:>8.2f}x")


if __name__ == "__main__":
    main()
