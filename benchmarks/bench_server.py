"""The fake server's speed, pacing and memory, against a bare websockets loop measured in the same run.

    .venv/bin/python benchmarks/bench_server.py [--quick] [--frames 50000] [--repeat 5] [--session 60]

Rows:

1. ``--speed max`` to one client: frames/s of :class:`FakeKisServer` replaying an archive (and the same
   frames from memory, to tell the archive's cost from the server's), beside a bare ``websockets`` server
   that only loops ``await ws.send(frame)`` over the same frames in memory (the baseline: every ratio is
   against it). Target: >= 90 % of bare. A second bare loop writes 64 messages per socket write, as the
   server's writer does (``_send_texts``): against it, the ratio is the cost of everything else (archive,
   timeline, routing, outbox), with the system calls saved on both sides.
2. The same to 50 clients at once: aggregate frames/s (per-client clock: 50 replays of the timeline,
   which share one read of the archive when they run together).
3. Pacing at ``--speed 1`` and ``--speed 10`` over a ``--session``-second session (exponential gaps, mean
   10 ms): lateness of each frame against its schedule (arrival − first arrival − offset/speed), p50/p99,
   and drift (mean lateness of the last 10 % minus the first 10 %: does lateness accumulate?).
4. RSS of a ``kis-replay`` process replaying a large archive at max speed: sampled from start to end.
   Target: flat, < 150 MB.

Clients run in separate processes and parse WebSocket frames by hand (headers only), so that the client
is never what is measured. Numbers from a shared 2-core machine are noisy: compare ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from websockets.asyncio.server import serve

from kis_replay.archive import ArchiveHeader, ArchiveWriter, Direction, RecordKind
from kis_replay.codec import SubscribeRequest
from kis_replay.fake_server import FakeKisServer, Feed
from kis_replay.fake_server.server import _WRITE_BATCH as WRITE_BATCH
from kis_replay.fake_server.server import _send_texts as send_texts
from kis_replay.replayer import ReplayOptions, TimelineEvent

T0 = 1_795_996_800_000_000_000  # 2026-11-24 09:00 KST
KEYS = ("111V06", "112V06", "113V06")


# -- the session ------------------------------------------------------------------------------------------


def frames(n: int, mean_gap_ns: float, seed: int = 1) -> list[tuple[int, str]]:
    """``n`` (offset_ns, H0ZFASP0 frame) pairs over three books, exponential gaps of mean ``mean_gap_ns``."""
    rng = random.Random(seed)
    out, offset = [], 0
    books = {k: [str(rng.randrange(1, 2000)) for _ in range(46)] for k in KEYS}
    for i in range(n):
        key = KEYS[i % 3]
        book = books[key]
        book[rng.randrange(46)] = str(rng.randrange(1, 2000))
        mid = 79_700 + 100 * rng.randrange(-3, 4)
        prices = [str(mid + 100 * k) for k in range(1, 11)] + [str(mid - 100 * k) for k in range(10)]
        seconds = offset // 1_000_000_000
        t = f"{9 + seconds // 3600:02d}{seconds // 60 % 60:02d}{seconds % 60:02d}"
        out.append((offset, "0|H0ZFASP0|001|" + "^".join([key, t, *prices, *book])))
        offset += int(rng.expovariate(1 / mean_gap_ns)) if mean_gap_ns else 0
    return out


def write_archive(path: Path, session: list[tuple[int, str]]) -> None:
    header = ArchiveHeader(source="bench", filtered=True,
                           subscriptions=[{"tr_id": "H0ZFASP0", "tr_key": k} for k in KEYS])
    with ArchiveWriter(path, header) as writer:
        for offset, text in session:
            writer.write(RecordKind.DATA, text, direction=Direction.SERVER_TO_CLIENT, wall_ns=T0 + offset,
                         mono_ns=offset)


def feed_of(session: list[tuple[int, str]]) -> Feed:
    return Feed.from_events([TimelineEvent(o, T0 + o, "H0ZFASP0", t.split("|")[3][:6], t) for o, t in session])


# -- a client that costs next to nothing: WebSocket headers parsed by hand, in its own process --------------


def _masked(opcode: int, payload: bytes) -> bytes:
    mask = os.urandom(4)
    n = len(payload)
    head = bytes([0x80 | opcode]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack("!H", n))
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def _raw_client(host: str, port: int, times: bool) -> dict:
    reader, writer = await asyncio.open_connection(host, port, limit=1 << 22)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
    await reader.readuntil(b"\r\n\r\n")
    for k in KEYS:
        writer.write(_masked(1, SubscribeRequest("H0ZFASP0", k, approval_key=f"bench-{port}-{id(writer)}").to_json()
                             .encode()))
    count, arrivals, first, last = 0, [], None, None
    buf, pos = b"", 0
    closed = False
    monotonic = time.monotonic
    while not closed:
        data = await reader.read(1 << 20)
        if not data:
            break
        now = monotonic()
        buf = buf[pos:] + data
        pos, size = 0, len(buf)
        while size - pos >= 2:
            b1 = buf[pos + 1] & 0x7F
            head = 2
            if b1 == 126:
                if size - pos < 4:
                    break
                b1, head = struct.unpack_from("!H", buf, pos + 2)[0], 4
            elif b1 == 127:
                if size - pos < 10:
                    break
                b1, head = struct.unpack_from("!Q", buf, pos + 2)[0], 10
            if size - pos < head + b1:
                break
            opcode = buf[pos] & 0x0F
            if opcode == 1 and buf[pos + head] in (0x30, 0x31):  # '0' / '1': a data frame
                count += 1
                if first is None:
                    first = now
                last = now
                if times:
                    arrivals.append(now)
            elif opcode == 8:
                writer.write(_masked(8, buf[pos + head: pos + head + min(b1, 2)]))
                closed = True
                break
            pos += head + b1
    writer.close()
    return {"frames": count, "first": first, "last": last, "arrivals": arrivals}


async def _clients(host: str, port: int, n: int, times: bool) -> list[dict]:
    return await asyncio.gather(*(_raw_client(host, port, times) for _ in range(n)))


def start_clients(port: int, n: int, times: bool = False) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, __file__, "--client", str(port), str(n), "1" if times else "0"],
                            stdout=subprocess.PIPE, text=True)


async def collect(proc: subprocess.Popen) -> list[dict]:
    out, _ = await asyncio.to_thread(proc.communicate)
    return json.loads(out)


# -- the measurements --------------------------------------------------------------------------------------


async def bare_server(texts: list[str], clients: int = 1, procs: int = 1, batch: int = 1) -> list[dict]:
    """The baseline: send ``texts`` from memory, one ``ws.send`` each (or ``batch`` per socket write)."""
    async def handler(ws):
        await ws.recv()
        if batch == 1:
            for text in texts:
                await ws.send(text)
        else:
            for i in range(0, len(texts), batch):
                await send_texts(ws, texts[i:i + batch])
        await ws.close()

    async with serve(handler, "127.0.0.1", 0, compression=None, ping_interval=None) as server:
        port = server.sockets[0].getsockname()[1]
        return await _run_clients(port, clients, procs)


async def _run_clients(port: int, clients: int, procs: int, times: bool = False) -> list[dict]:
    """The clients' results, plus this (the server's) process's CPU seconds while they ran as the first
    result's ``cpu``: CPU per frame is the steady measure of server cost on a noisy machine."""
    per = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
    cpu = time.process_time()
    started = [start_clients(port, n, times) for n in per if n]
    results = []
    for proc in started:
        results += await collect(proc)
    results[0]["cpu"] = time.process_time() - cpu
    return results


async def fake_server(source, speed: float | None, clients: int = 1, procs: int = 1, clock: str = "per-client",
                      times: bool = False) -> list[dict]:
    options = ReplayOptions(speed=speed, filter="off")
    async with FakeKisServer(source, options, clock=clock, allow_shared_key=True, settle=0.2,
                             queue_size=4096) as srv:
        if clock == "shared":
            srv_task = asyncio.create_task(_run_clients(srv.port, clients, procs, times))
            return await srv_task
        return await _run_clients(srv.port, clients, procs, times)


def rate(results: list[dict]) -> tuple[int, float, float]:
    """(frames received, frames/s from the first frame's arrival to the last's, server CPU µs per frame)."""
    total = sum(r["frames"] for r in results)
    span = max(r["last"] for r in results) - min(r["first"] for r in results)
    return total, total / span if span > 0 else float("inf"), results[0]["cpu"] / total * 1e6


def pacing(result: dict, offsets: list[int], speed: float) -> tuple[float, float, float, float]:
    """Lateness p50, p99, max and drift. The schedule's origin is not visible to the client: it is placed
    where the earliest frame would be exactly on time (the server never sends early)."""
    arrivals = result["arrivals"]
    assert len(arrivals) == len(offsets), (len(arrivals), len(offsets))
    raw = [a - o / 1e9 / speed for a, o in zip(arrivals, offsets, strict=True)]
    origin = min(raw)
    late = [r - origin for r in raw]
    ordered = sorted(late)
    tenth = max(len(late) // 10, 1)
    drift = statistics.fmean(late[-tenth:]) - statistics.fmean(late[:tenth])
    return ordered[len(ordered) // 2], ordered[int(len(ordered) * 0.99)], max(late), drift


def rss_of_replay(archive: Path) -> tuple[list[float], int, float]:
    """(RSS samples in MB, frames received, seconds) of ``kis-replay ARCHIVE --speed max`` serving one client."""
    proc = subprocess.Popen([sys.executable, "-m", "kis_replay", str(archive), "--port", "0", "--speed", "max",
                             "--filter", "off", "--json-log"], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = json.loads(proc.stdout.readline())["url"]
        port = int(url.rsplit(":", 1)[1])
        samples = []
        client = start_clients(port, 1)
        started = time.monotonic()
        while client.poll() is None:
            with open(f"/proc/{proc.pid}/status") as f:
                samples += [int(line.split()[1]) / 1024 for line in f if line.startswith("VmRSS:")]
            time.sleep(0.2)
        seconds = time.monotonic() - started
        result = json.loads(client.communicate()[0])[0]
        return samples, result["frames"], seconds
    finally:
        proc.terminate()
        proc.wait(10)


async def main(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-server-"))
    n = args.frames
    burst = frames(n, 1_000_000)  # 1 ms apart: the archive has its usual 10 s zstd frames; max speed ignores it
    archive = tmp / "burst.kisrec.zst"
    write_archive(archive, burst)
    texts = [t for _, t in burst]
    rows = []

    best: dict[str, tuple[int, float, float]] = {}

    def keep(name: str, measured: tuple[int, float, float]) -> None:
        if name not in best:
            best[name] = measured
        else:  # the best rate and the best CPU cost, each over the runs
            total, fastest, cheapest = best[name]
            best[name] = (total, max(fastest, measured[1]), min(cheapest, measured[2]))

    def show(measured: tuple[int, float, float]) -> str:
        return f"{measured[1]:,.0f} frames/s, {measured[2]:.1f} µs CPU/frame"

    def versus(measured: tuple[int, float, float], base: tuple[int, float, float]) -> str:
        return f"{measured[1] / base[1]:.0%} of bare's rate; CPU/frame ×{measured[2] / base[2]:.2f}"

    def batched_note(measured: tuple[int, float, float], base: tuple[int, float, float]) -> str:
        return f"{measured[1] / base[1]:.0%} of batched bare's rate; CPU/frame ×{measured[2] / base[2]:.2f}"

    for _ in range(args.repeat):  # interleaved, best of: the machine is shared, contention only slows
        keep("bare", rate(await bare_server(texts)))
        keep("bare_batched", rate(await bare_server(texts, batch=WRITE_BATCH)))
        keep("ours", rate(await fake_server(archive, None)))
        keep("memory", rate(await fake_server(feed_of(burst), None)))
    bare, batched, ours, memory = best["bare"], best["bare_batched"], best["ours"], best["memory"]
    rows += [("max speed, 1 client: bare websockets loop", show(bare), "baseline"),
             (f"max speed, 1 client: bare loop, {WRITE_BATCH} messages a write", show(batched),
              versus(batched, bare)),
             ("max speed, 1 client: FakeKisServer, from archive", show(ours), versus(ours, bare)),
             ("", "", batched_note(ours, batched)),
             ("max speed, 1 client: FakeKisServer, from memory", show(memory), versus(memory, bare)),
             ("", "", batched_note(memory, batched))]
    assert bare[0] == batched[0] == ours[0] == memory[0] == n, (bare[0], batched[0], ours[0], memory[0])

    few = texts[: max(n // 10, 1000)]
    fifty_arch = tmp / "fifty.kisrec.zst"
    write_archive(fifty_arch, burst[: len(few)])
    for _ in range(args.repeat):
        keep("fifty_bare", rate(await bare_server(few, 50, 2)))
        keep("fifty_batched", rate(await bare_server(few, 50, 2, batch=WRITE_BATCH)))
        keep("fifty", rate(await fake_server(feed_of(burst[: len(few)]), None, 50, 2)))
        keep("fifty_archive", rate(await fake_server(fifty_arch, None, 50, 2)))
    fifty_bare, fifty_batched = best["fifty_bare"], best["fifty_batched"]
    fifty, fifty_archive = best["fifty"], best["fifty_archive"]
    rows += [(f"max speed, 50 clients × {len(few):,}: bare websockets loop", show(fifty_bare), "baseline"),
             (f"max speed, 50 clients: bare loop, {WRITE_BATCH} messages a write", show(fifty_batched),
              versus(fifty_batched, fifty_bare)),
             ("max speed, 50 clients: FakeKisServer, per-client, from memory", show(fifty),
              versus(fifty, fifty_bare)),
             ("", "", batched_note(fifty, fifty_batched)),
             ("max speed, 50 clients: FakeKisServer, per-client, from archive", show(fifty_archive),
              versus(fifty_archive, fifty_bare)),
             ("", "", batched_note(fifty_archive, fifty_batched))]

    paced = frames(int(args.session * 100), 10_000_000, seed=2)
    paced_archive = tmp / "paced.kisrec.zst"
    write_archive(paced_archive, paced)
    offsets = [o for o, _ in paced]
    for speed in (1.0, 10.0):
        (result,) = await fake_server(paced_archive, speed, times=True)
        p50, p99, worst, drift = pacing(result, offsets, speed)
        rows.append((f"speed {speed:g}, {args.session:g} s session ({len(paced):,} frames)",
                     f"lateness p50 {p50 * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms, max {worst * 1000:.1f} ms",
                     f"drift {drift * 1000:+.2f} ms"))

    big = tmp / "large.kisrec.zst"
    write_archive(big, frames(args.large, 1_000_000, seed=3))
    samples, received, seconds = rss_of_replay(big)
    rows.append((f"RSS, kis-replay serving {args.large:,} frames ({big.stat().st_size / 1e6:.0f} MB archive)",
                 f"start {samples[0]:.0f} MB, peak {max(samples):.0f} MB, end {samples[-1]:.0f} MB",
                 f"{received:,} frames in {seconds:.1f} s"))

    width = max(len(r[0]) for r in rows)
    print(f"{'measurement':<{width}}  {'result':<56}  note")
    for name, result, note in rows:
        print(f"{name:<{width}}  {result:<56}  {note}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        port, n, times = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
        print(json.dumps(asyncio.run(_clients("127.0.0.1", port, n, times))))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes and a 10 s session")
    parser.add_argument("--frames", type=int, default=50_000, help="frames of the max-speed runs")
    parser.add_argument("--session", type=float, default=60.0, help="seconds of the paced session")
    parser.add_argument("--large", type=int, default=1_000_000, help="frames of the RSS run's archive")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each throughput row (best kept)")
    ns = parser.parse_args()
    if ns.quick:
        ns.frames, ns.session, ns.large, ns.repeat = 20_000, 10.0, 200_000, 2
    asyncio.run(main(ns))
