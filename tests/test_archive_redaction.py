"""Approval keys never reach the file: requests, the OPSP0011 echo, odd JSON; acks are kept as received."""

from __future__ import annotations

import json
from pathlib import Path

import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kis_replay.archive import ArchiveHeader, ArchiveReader, ArchiveWriter, Direction, RecordKind
from kis_replay.codec import REDACTED, SubscribeRequest, build_reply

KEY = "e6b4f7c2-1d3a-4f5e-9a8b-7c6d5e4f3a2b"
C2S, S2C = Direction.CLIENT_TO_SERVER, Direction.SERVER_TO_CLIENT


def _everything_in(path: Path) -> bytes:
    """The file's raw bytes and its full decompressed content: a key must be in neither."""
    raw = path.read_bytes()
    with open(path, "rb") as f:
        return raw + zstandard.ZstdDecompressor().stream_reader(f, read_across_frames=True).read()


def _write(path: Path, messages: list[tuple[Direction, str | bytes]]) -> list[bytes]:
    with ArchiveWriter(path, ArchiveHeader(), fsync=False) as writer:
        for i, (direction, payload) in enumerate(messages):
            writer.write(RecordKind.CONTROL, payload, direction=direction, wall_ns=10**18 + i, mono_ns=i)
    return [r.payload for r in ArchiveReader(path)]


def test_request_key_replaced_in_place_and_nothing_else_changed(tmp_path: Path) -> None:
    # KIS's own sample client's key order and spacing, and an extra header key: all must survive
    request = ('{"header": {"approval_key": "' + KEY + '", "custtype": "P", "tr_type": "1", '
               '"content-type": "utf-8", "personalseckey": "1"}, "body": {"input": {"tr_id": "H0ZFASP0", '
               '"tr_key": "111V06"}}}')
    (stored,) = _write(tmp_path / "r.kisrec.zst", [(C2S, request)])
    assert stored == request.replace(KEY, REDACTED).encode()
    assert KEY.encode() not in _everything_in(tmp_path / "r.kisrec.zst")


def test_opsp0011_echo_is_redacted_after_a_request_and_without_one(tmp_path: Path) -> None:
    request = SubscribeRequest("H0ZFASP0", "111V06", approval_key=KEY).to_json()
    echo = build_reply("OPSP0011", tr_id="H0ZFASP0", tr_key="111V06", detail=KEY).to_json()
    stored = _write(tmp_path / "e.kisrec.zst", [(C2S, request), (S2C, echo)])
    assert json.loads(stored[1])["body"]["msg1"] == "invalid approval : " + REDACTED
    assert stored[1] == echo.replace(KEY, REDACTED).encode()
    # a recording that only has the server's side (or a key it never saw in a request)
    (alone,) = _write(tmp_path / "alone.kisrec.zst", [(S2C, echo.replace(KEY, "short"))])
    assert json.loads(alone)["body"]["msg1"] == "invalid approval : " + REDACTED
    for name in ("e.kisrec.zst", "alone.kisrec.zst"):
        content = _everything_in(tmp_path / name)
        assert KEY.encode() not in content and b"short" not in content


def test_subscribe_acks_are_kept_as_received(tmp_path: Path) -> None:
    ack = ('{"header":{"tr_id":"H0STCNI0","tr_key":"hts_id","encrypt":"Y"},"body":{"rt_cd":"0",'
           '"msg_cd":"OPSP0000","msg1":"SUBSCRIBE SUCCESS","output":{"iv":"0123456789abcdef",'
           '"key":"abcdefghijklmnopabcdefghijklmnop"}}}')
    request = SubscribeRequest("H0STCNI0", "hts_id", approval_key=KEY).to_json()
    stored = _write(tmp_path / "a.kisrec.zst", [(C2S, request), (S2C, ack)])
    assert stored[1] == ack.encode()


def test_key_behind_json_escapes_is_still_removed(tmp_path: Path) -> None:
    escaped_key = "abc\\/def\\u0067hijklmnop"  # the JSON text of "abc/defghijklmnop"
    request = ('{"header":{"approval_key":"' + escaped_key + '","custtype":"P","tr_type":"1"},'
               '"body":{"input":{"tr_id":"H0ZFASP0","tr_key":"111V06"}}}')
    echo = build_reply("OPSP0011", detail="abc/defghijklmnop").to_json()
    stored = _write(tmp_path / "x.kisrec.zst", [(C2S, request), (S2C, echo)])
    assert json.loads(stored[0])["header"]["approval_key"] == REDACTED
    assert json.loads(stored[1])["body"]["msg1"] == "invalid approval : " + REDACTED
    content = _everything_in(tmp_path / "x.kisrec.zst")
    assert b"defghijklmnop" not in content and b"def\\u0067hij" not in content


def test_key_in_a_request_that_is_not_valid_json(tmp_path: Path) -> None:
    broken = '{"header":{"approval_key":"' + KEY + '","custtype":"P",'  # cut short by a buggy client
    (stored,) = _write(tmp_path / "b.kisrec.zst", [(C2S, broken)])
    assert stored == broken.replace(KEY, REDACTED).encode()
    assert KEY.encode() not in _everything_in(tmp_path / "b.kisrec.zst")


def test_data_frames_and_other_kinds_are_untouched(tmp_path: Path) -> None:
    path = tmp_path / "d.kisrec.zst"
    frame = "0|H0ZFASP0|001|111V06^092304^79700"
    with ArchiveWriter(path, ArchiveHeader(), fsync=False) as writer:
        writer.write(RecordKind.CONTROL, SubscribeRequest("H0ZFASP0", "111V06", approval_key=KEY).to_json(),
                     direction=C2S, wall_ns=1, mono_ns=1)
        writer.write(RecordKind.DATA, frame, wall_ns=2, mono_ns=2)
    assert list(ArchiveReader(path))[1].payload == frame.encode()


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    key=st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=60),
    style=st.sampled_from(["compact", "spaced", "ascii"]),
)
def test_no_key_survives_in_any_request_shape(tmp_path: Path, key: str, style: str) -> None:
    obj = {"header": {"approval_key": key, "custtype": "P", "tr_type": "1", "content-type": "utf-8"},
           "body": {"input": {"tr_id": "H0ZFASP0", "tr_key": "111V06"}}}
    request = json.dumps(obj, ensure_ascii=style == "ascii", separators=None if style == "spaced" else (",", ":"))
    echo = build_reply("OPSP0011", detail=key).to_json()
    stored = _write(tmp_path / "h.kisrec.zst", [(C2S, request), (S2C, echo)])
    without_key = json.dumps({**obj, "header": {**obj["header"], "approval_key": ""}}) + \
        build_reply("OPSP0011").to_json() + REDACTED
    assert json.loads(stored[0])["header"]["approval_key"] == REDACTED
    assert json.loads(stored[1])["body"]["msg1"].endswith(" : " + REDACTED)
    if key not in without_key:  # else the message's own text may be redacted too: more, never less
        assert json.loads(stored[0])["body"] == obj["body"]
        assert json.loads(stored[1])["body"]["msg1"] == "invalid approval : " + REDACTED
    # the key's text is gone from the stored messages (unless the message holds that text anyway)
    if len(key) >= 8:
        for form in {key, json.dumps(key)[1:-1], json.dumps(key, ensure_ascii=False)[1:-1]}:
            assert form in without_key or all(form.encode() not in payload for payload in stored)
