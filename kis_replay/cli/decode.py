"""``kis-replay decode``: decode data frames given as arguments or on stdin, one per line."""

from __future__ import annotations

import json
import sys

import click

from ..codec import CodecError, parse_frame


@click.command()
@click.argument("frames", nargs=-1)
@click.option("--lenient", is_flag=True, help="Keep records whose field count differs from the spec.")
def decode(frames: tuple[str, ...], lenient: bool) -> None:
    """Decode KIS data frames (``0|TR_ID|001|f1^f2^…``) into named fields, as JSON lines."""
    lines = frames or tuple(line.rstrip("\n") for line in sys.stdin)
    failed = 0
    for lineno, text in enumerate(lines, 1):
        if not text:
            continue
        try:
            frame = parse_frame(text, lenient=lenient)
        except CodecError as exc:
            click.echo(f"frame {lineno}: {exc}", err=True)
            failed += 1
            continue
        for record in frame.records:
            if record.valid:
                fields = {name: record.raw_value(name) for name in record}
            else:
                fields = {str(i): value for i, value in enumerate(record.raw)}
            click.echo(json.dumps({"tr_id": frame.tr_id, "record": record.index + 1, "fields": fields},
                                  ensure_ascii=False))
    if failed:
        raise SystemExit(1)
