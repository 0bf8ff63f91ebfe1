"""Record modes, as pytest-recording has them: whether a test replays, records first, skips or fails.

``none`` (the default, what CI runs): replay only; a missing archive fails the test with how to record it.
``once``: record from the live service when the archive is missing and credentials are set, else skip.
``all``: record every (non-bundled) archive again.

:func:`decide` is the whole rule, a pure function of what is known before any socket opens, so every
combination is tested without a network.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["RECORD_HINT", "Decision", "RecordMode", "decide"]


class RecordMode(StrEnum):
    NONE = "none"
    ONCE = "once"
    ALL = "all"


#: how to make an archive that is missing, for every message that mentions one
RECORD_HINT = (
    "record it with `pytest --kis-record-mode=once` with KIS_APP_KEY and KIS_APP_SECRET (or KIS_APPROVAL_KEY) "
    "set and subscribe=['TR_ID:TR_KEY', ...] in the marker, or write one with `kis-replay record` / "
    "`kis-replay synth`"
)


@dataclass(frozen=True)
class Decision:
    """``action``: ``"replay"``, ``"record"`` (then replay), ``"skip"`` or ``"fail"``; ``reason`` says why
    (shown to the user for skip and fail)."""

    action: str
    reason: str = ""


def decide(
    mode: RecordMode,
    *,
    archive: str,
    exists: bool,
    bundled: bool,
    subscribes: bool,
    credentials: str | None,
) -> Decision:
    """What to do for one test.

    ``archive``: how to name it in messages; ``subscribes``: the marker says what to record;
    ``credentials``: ``None`` when the credentials to record are there, else why they are not (the
    message of :class:`~kis_replay.recorder.credentials.CredentialsError`).
    """
    if bundled:
        return Decision("replay")  # bundled fixtures are part of kis-replay: nothing to record
    if mode is RecordMode.NONE or (mode is RecordMode.ONCE and exists):
        if exists:
            return Decision("replay")
        return Decision("fail", f"archive {archive} not found; {RECORD_HINT}")
    verb = "record the missing archive" if mode is RecordMode.ONCE else "re-record the archive"
    if not subscribes:
        return Decision(
            "fail", f"--kis-record-mode={mode.value} needs to {verb} {archive}, but the marker does not say what "
            "to record: add subscribe=['TR_ID:TR_KEY', ...] (and duration='30s') to @pytest.mark.kis_replay",
        )
    if credentials is not None:
        if mode is RecordMode.ONCE:
            return Decision("skip", f"archive {archive} not found and it cannot be recorded: {credentials}")
        return Decision("fail", f"--kis-record-mode=all cannot re-record {archive}: {credentials}")
    return Decision("record")
