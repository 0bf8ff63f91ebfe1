"""The shared codec: KIS real-time wire text ⇄ frames, records and control messages.

Pure functions and value objects, no I/O. Every component (recorder, archive index, replayer, fake server,
pytest plugin) reads and writes the wire through this package, and only the TR tables in
:mod:`kis_replay.codec.tables` list fields.
"""

from . import tables as _tables  # noqa: F401  (registers the seed TR tables)
from .control import (
    KST,
    MAX_REGISTRATIONS,
    REDACTED,
    REPLY_CODES,
    ControlReply,
    PingPong,
    SubscribeRequest,
    build_pingpong,
    build_reply,
    is_pingpong,
    parse_message,
    parse_pingpong,
    parse_reply,
    parse_request,
)
from .crypto import FrameCipher
from .errors import (
    CodecError,
    ControlMessageError,
    DecryptionError,
    FieldCountError,
    FieldValueError,
    FrameError,
)
from .fields import FieldType, PriceSign, decode_value, encode_value
from .frames import DataFrame, format_frame, is_data_frame, parse_frame, peek_route, split_records
from .records import Record
from .spec import FieldSpec, TrKind, TrSpec, get_spec, known_tr_ids, register

__all__ = [
    "KST",
    "MAX_REGISTRATIONS",
    "REDACTED",
    "REPLY_CODES",
    "CodecError",
    "ControlMessageError",
    "ControlReply",
    "DataFrame",
    "DecryptionError",
    "FieldCountError",
    "FieldSpec",
    "FieldType",
    "FieldValueError",
    "FrameCipher",
    "FrameError",
    "PingPong",
    "PriceSign",
    "Record",
    "SubscribeRequest",
    "TrKind",
    "TrSpec",
    "build_pingpong",
    "build_reply",
    "decode_value",
    "encode_value",
    "format_frame",
    "get_spec",
    "is_data_frame",
    "is_pingpong",
    "known_tr_ids",
    "parse_frame",
    "parse_message",
    "parse_pingpong",
    "parse_reply",
    "parse_request",
    "peek_route",
    "register",
    "split_records",
]
