"""Codec decode speed per seed TR, against two baselines measured in the same run.

    .venv/bin/python benchmarks/bench_codec.py [--frames 20000] [--repeat 5] [--quick]

Rows are the three seed TRs as single-record frames (the documented H0ZFASP0 and H0EUASP0 frames, a plausible
H0IOCNT0 record, with the time and a few sizes varied per frame) plus an 11-record H0IOCNT0 batch, as the live
service sends trades. Columns, in frames per second (best of ``--repeat``):

* ``split→dict``: the bare baseline, ``text.split("|", 3)`` then ``dict(zip(names, payload.split("^")))``
  per record: what a hand-written client does, with no checks at all.
* ``parse_frame``: :func:`kis_replay.codec.parse_frame`: header checks, field-count check, raw records.
* ``+typed``: ``parse_frame`` and ``record.typed()`` on every record (Decimal / int / time / sign / bool).
* ``read_csv``: KIS's own sample client (open-trading-api ``kis_auth.py``): ``pd.read_csv(StringIO(payload),
  sep="^", names=columns, dtype=object)`` once per frame. Needs pandas (the ``bench`` extra); skipped without.
  Not measured for the batch row: the sample reads a multi-record payload as one long row, a different result.

``×split`` is how many times slower than the bare split a column is. Target (issue): parse_frame within
2–3× of the bare split.
"""

from __future__ import annotations

import argparse
import platform
import random
import time
from collections.abc import Callable
from decimal import Decimal
from io import StringIO

from kis_replay.codec import FieldType, get_spec, parse_frame

FUTURES_QUOTE = (
    "0|H0ZFASP0|001|111V06^092304^79700^79800^79900^80000^80200^80300^80500^81100^84900^85900^79500^79400^"
    "79300^79200^79100^79000^78900^78800^78700^78600^1^18^6^2^2^1^3^1^1^1^8^6^4^8^4^8^7^11^11^3^950^4148^988^"
    "6^9^1^3^15^5^10^4404^2277^1321^3440^330^2237^1835^362^83^15^36^97^6135^16509^950^0"
)
NIGHT_QUOTE = (
    "0|H0EUASP0|001|301V06362^190159^2.98^2.99^3.00^0.00^0.00^2.97^2.96^2.95^0.00^0.00^0^0^0^0^0^0^0^0^0^0^"
    "1^3^12^0^0^9^21^16^0^0^0^0^16^46^5^0"
)
OPTION_TRADE = (
    "201S11305^093012^2.98^5^-0.034^-1.13^3.10^3.15^2.90^3^1520^113200^2.99^15230^-12^090000^5^-0.12^090102^5^"
    "-0.17^091500^2^0.08^48.50^2.98^0.00^2.98^0.4812^0.0213^0.3121^-0.0512^0.0211^18.42^-0.01^3^0.12^15.30^"
    "98.20^-0.33^0.95^2.99^2.98^12^30^410^388^-22^790^730^3120^2950^85.20^17.90^0^4.50^1.50^N"
)


def shifted(price: str, steps: int) -> str:
    """``price`` moved by ``steps`` ticks (100 for integer prices, 0.01 for decimals), at least one tick."""
    value = Decimal(price)
    tick = Decimal(100) if value.as_tuple().exponent == 0 else Decimal("0.01")
    return str(max(value + steps * tick, tick))


def corpus(template: str, n: int, records: int = 1, seed: int = 1) -> list[str]:
    """``n`` frames like ``template``'s payload (``records`` records each), time and sizes varied."""
    rng = random.Random(seed)
    enc, tr_id, _, payload = template.split("|", 3) if template[:2] == "0|" else ("0", "H0IOCNT0", "", template)
    base = payload.split("^")
    spec = get_spec(tr_id)
    assert spec is not None
    quantity_fields = [f.index for f in spec.fields if f.type is FieldType.QUANTITY]
    price_fields = [f.index for f in spec.fields if f.type is FieldType.PRICE and base[f.index] not in ("0", "0.00")]
    out = []
    for i in range(n):
        recs = []
        shift = rng.randrange(-250, 250)  # the whole book moves: prices are not all cache hits
        for r in range(records):
            fields = list(base)
            for idx in price_fields:
                fields[idx] = shifted(fields[idx], shift)
            second = (9 * 3600 + i + r) % 86_400
            fields[1] = f"{second // 3600:02d}{second // 60 % 60:02d}{second % 60:02d}"
            for idx in rng.sample(quantity_fields, 3):
                fields[idx] = str(rng.randrange(1, 5000))
            recs.append("^".join(fields))
        out.append(f"{enc}|{tr_id}|{records:03d}|{'^'.join(recs)}")
    return out


def split_to_dict(names: tuple[str, ...]) -> Callable[[str], object]:
    width = len(names)

    def decode(text: str) -> object:
        fields = text.split("|", 3)[3].split("^")
        return [dict(zip(names, fields[i : i + width], strict=False)) for i in range(0, len(fields), width)]

    return decode


def codec_raw(text: str) -> object:
    return parse_frame(text)


def codec_typed(text: str) -> object:
    return [record.typed() for record in parse_frame(text).records]


def kis_read_csv(names: tuple[str, ...]) -> Callable[[str], object] | None:
    try:
        import pandas as pd
    except ImportError:
        return None
    columns = list(names)

    def decode(text: str) -> object:
        d1 = text.split("|")
        return pd.read_csv(StringIO(d1[3]), header=None, sep="^", names=columns, dtype=object)

    return decode


def best_rate(decode: Callable[[str], object], frames: list[str], repeat: int) -> float:
    """Frames per second, best of ``repeat`` passes over ``frames``."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for text in frames:
            decode(text)
        best = min(best, time.perf_counter() - start)
    return len(frames) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--frames", type=int, default=20_000, help="frames per row (default 20000)")
    parser.add_argument("--repeat", type=int, default=5, help="passes per cell, best counts (default 5)")
    parser.add_argument("--quick", action="store_true", help="a few seconds: 2000 frames, 2 passes")
    args = parser.parse_args()
    n, repeat = (2_000, 2) if args.quick else (args.frames, args.repeat)
    csv_n = max(1, n // 50)  # read_csv is ~300× slower: fewer frames keep the run short

    rows = [
        ("H0ZFASP0", 1, FUTURES_QUOTE),
        ("H0EUASP0", 1, NIGHT_QUOTE),
        ("H0IOCNT0", 1, OPTION_TRADE),
        ("H0IOCNT0", 11, OPTION_TRADE),
    ]
    print(f"kis-replay codec decode, Python {platform.python_version()}, {n:,} records a row "
          f"({csv_n:,} frames for read_csv), best of {repeat}; frames/s and × slower than split→dict")
    head = f"{'TR':<9}{'rec':>4}{'split→dict':>12}{'parse_frame':>13}{'×split':>8}{'+typed':>10}{'×split':>8}"
    print(head + f"{'read_csv':>10}{'×split':>8}")
    missing_pandas = False
    for tr_id, records, template in rows:
        spec = get_spec(tr_id)
        assert spec is not None
        frames = corpus(template, max(1, n // records), records)  # the same number of records a row
        assert all(len(parse_frame(t).records) == records for t in frames[:10])
        base = best_rate(split_to_dict(spec.names), frames, repeat)
        raw = best_rate(codec_raw, frames, repeat)
        typed = best_rate(codec_typed, frames, repeat)
        line = f"{tr_id:<9}{records:>4}{base:>12,.0f}{raw:>13,.0f}{base / raw:>8.2f}{typed:>10,.0f}{base / typed:>8.2f}"
        csv = kis_read_csv(spec.names)
        if csv is None:
            missing_pandas = True
            line += f"{'—':>10}{'—':>8}"
        elif records > 1:
            line += f"{'n/a':>10}{'':>8}"
        else:
            rate = best_rate(csv, frames[:csv_n], repeat)
            line += f"{rate:>10,.0f}{base / rate:>8.1f}"
        print(line)
    print("read_csv n/a for batches: KIS's sample reads a multi-record payload as one long row (no like-for-like)")
    if missing_pandas:
        print("read_csv skipped: pandas is not installed (pip install pandas, or the 'bench' extra)")


if __name__ == "__main__":
    main()
