"""The archive header: what a session is (source, subscriptions, clock) and which format wrote it.

Stored as the file's first zstd frame: a 12-byte preamble (magic ``KISREC``, u16 format version, u32 JSON
length) and a UTF-8 JSON object. JSON keeps the header readable by any tool and lets later versions add
keys; keys this version does not know are kept in :attr:`ArchiveHeader.extra` so a rewrite loses nothing.
"""

from __future__ import annotations

import datetime as _dt
import json
import struct
from dataclasses import dataclass, field
from typing import Any

from .. import __version__
from .errors import ArchiveError

__all__ = ["FORMAT_VERSION", "MAGIC", "SUFFIX", "ArchiveHeader", "decode_preamble", "encode_header"]

#: The layout version this code writes. Readers accept versions ``1..FORMAT_VERSION``.
FORMAT_VERSION = 1
MAGIC = b"KISREC"
#: How an archive's file name ends (docs/archive-format.md): what the recorder names its files, and how
#: the bundled fixtures are found.
SUFFIX = ".kisrec.zst"
PREAMBLE = struct.Struct("<6sHI")


def _now_iso() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds")


@dataclass
class ArchiveHeader:
    """Everything about a session that is not an event.

    ``filtered`` says whether the source already applied KIS's 0.2 s quote filter (live recordings
    ``True``, synthetic sessions ``False``, unknown ``None``): the replayer must not filter twice.
    """

    source: str = "synthetic"  #: the WebSocket URL recorded, or "synthetic"
    subscriptions: list[dict[str, Any]] = field(default_factory=list)  #: [{"tr_id", "tr_key"}, ...]
    labels: dict[str, Any] = field(default_factory=dict)  #: free-form, user's
    filtered: bool | None = None
    timezone: str = "Asia/Seoul"  #: the session clock users see
    created: str = field(default_factory=_now_iso)  #: ISO 8601, UTC
    tool_version: str = __version__
    version: int = FORMAT_VERSION  #: the layout version (mirrors the preamble's)
    extra: dict[str, Any] = field(default_factory=dict)  #: keys from a newer writer, kept verbatim

    _KEYS = ("version", "created", "tool_version", "source", "subscriptions", "timezone", "labels", "filtered")

    def to_json(self) -> str:
        obj: dict[str, Any] = {k: getattr(self, k) for k in self._KEYS}
        obj.update({k: v for k, v in self.extra.items() if k not in obj})
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> ArchiveHeader:
        """Parse a header; a value of the wrong type is an :class:`ArchiveError` naming the key."""
        try:
            obj = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise ArchiveError(f"header is not valid JSON: {exc}") from None
        if not isinstance(obj, dict):
            raise ArchiveError(f"header is not a JSON object but {type(obj).__name__}")
        types: dict[str, tuple[type, ...]] = {
            "version": (int,), "created": (str,), "tool_version": (str,), "source": (str,),
            "subscriptions": (list,), "timezone": (str,), "labels": (dict,), "filtered": (bool, type(None)),
        }
        for key, allowed in types.items():
            if key in obj and (not isinstance(obj[key], allowed) or (key == "version" and obj[key] is True)):
                raise ArchiveError(f"header field {key!r} has the wrong type: {obj[key]!r:.60}")
        known = {k: obj[k] for k in cls._KEYS if k in obj}
        extra = {k: v for k, v in obj.items() if k not in cls._KEYS}
        return cls(**known, extra=extra)


def encode_header(header: ArchiveHeader) -> bytes:
    """Preamble + JSON: the uncompressed content of the file's first zstd frame."""
    body = header.to_json().encode("utf-8")
    return PREAMBLE.pack(MAGIC, header.version, len(body)) + body


def decode_preamble(data: bytes) -> tuple[int, int]:
    """``(version, json_length)`` from the first 12 bytes; raises :class:`ArchiveError` if they are not ours."""
    if len(data) < PREAMBLE.size:
        raise ArchiveError(f"header frame holds {len(data)} bytes, fewer than the {PREAMBLE.size}-byte preamble")
    magic, version, length = PREAMBLE.unpack_from(data)
    if magic != MAGIC:
        raise ArchiveError(f"not a kis-replay archive (header magic {magic!r}, expected {MAGIC!r})")
    if version < 1 or version > FORMAT_VERSION:
        raise ArchiveError(
            f"archive format version {version} is not supported: this kis-replay reads versions "
            f"1 to {FORMAT_VERSION}; a newer kis-replay wrote it, upgrade to read it"
        )
    return version, length
