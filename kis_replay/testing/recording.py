"""Recording a test's archive from the live service, with the recorder's own code.

The recording goes to a hidden file beside the target and is moved into place only when it holds data,
so an interrupted or empty recording never leaves an archive that the next ``--kis-record-mode=none`` run
would replay as if it were the session. Credentials are handled as ``kis-replay record`` handles them:
the archive writer redacts the approval key, and every log line kept for an error message is scrubbed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["RecordingError", "RecordingResult", "record_archive"]

_KEPT_LOG_LINES = 8


class RecordingError(Exception):
    """The recording could not be made (refused credentials, unreachable service, nothing received)."""


@dataclass(frozen=True)
class RecordingResult:
    path: Path
    frames: int
    connections: int


class _ScrubbedLog(logging.Filter):
    """On the recorder's logger while a test records: every line leaves scrubbed of secrets (pytest shows
    captured logs of failed tests), and the last few are kept for the error message."""

    def __init__(self, scrub) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.scrub = scrub
        self.lines: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        message = self.scrub(record.getMessage())
        if record.exc_info:  # a traceback cannot be scrubbed piecemeal: keep its one line
            message += f" ({self.scrub(repr(record.exc_info[1]))})"
            record.exc_info, record.exc_text = None, None
        record.msg, record.args = message, ()
        self.lines.append(message)
        del self.lines[:-_KEPT_LOG_LINES]
        return True


async def record_archive(
    path: Path,
    subscribe: Sequence[str],
    duration: float,
    *,
    url: str,
    rest_url: str,
    credentials: object,
) -> RecordingResult:
    """Record ``subscribe`` (``TR_ID:TR_KEY`` words) from ``url`` for ``duration`` seconds into ``path``
    (replacing it). ``credentials``: a :class:`~kis_replay.recorder.credentials.Credentials`.

    Raises :class:`RecordingError` naming the service and what went wrong, with the approval key, app key
    and secret scrubbed out.
    """
    from ..recorder.backoff import Backoff
    from ..recorder.client import Recorder, RecorderError, RecorderSettings, recording_header
    from ..recorder.credentials import Credentials
    from ..recorder.rolling import OutputError, OutputTarget, RollingArchive
    from ..recorder.subscriptions import SubscriptionError, check_subscriptions, parse_subscription

    assert isinstance(credentials, Credentials)
    try:
        subs, _warnings = check_subscriptions([parse_subscription(word, where="subscribe") for word in subscribe])
    except SubscriptionError as exc:
        raise RecordingError(str(exc)) from None
    settings = RecorderSettings(url=url, subscriptions=tuple(subs), rest_url=rest_url, stop_after=duration)
    partial = path.with_name(f".{path.name}.{os.getpid()}.recording")
    partial.unlink(missing_ok=True)
    target = OutputTarget(file=partial)
    try:
        target.prepare()
    except OutputError as exc:
        raise RecordingError(str(exc)) from None
    archive = RollingArchive(target, lambda: recording_header(settings), flush_interval=1.0)
    # reconnect soon within a short recording, but never faster than once a second (KIS blocks loops)
    backoff = Backoff(initial=1.0, maximum=min(10.0, max(duration / 3, 1.0)), min_interval=1.0)
    recorder = Recorder(settings, credentials, archive, backoff=backoff)
    logger = logging.getLogger("kis_replay.recorder")
    lines = _ScrubbedLog(lambda text: recorder.credentials.scrub(text))
    level = logger.level
    logger.addFilter(lines)
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    try:
        await recorder.run()
    except RecorderError as exc:
        partial.unlink(missing_ok=True)
        raise RecordingError(f"recording from {url} failed: {recorder.credentials.scrub(str(exc))}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        logger.removeFilter(lines)
        logger.setLevel(level)
    status = recorder.status
    if status.frames_total == 0:
        partial.unlink(missing_ok=True)
        log = " | ".join(lines.lines) or "nothing logged"
        raise RecordingError(
            f"recording {', '.join(subscribe)} from {url} for {duration:g} s received no data frames "
            f"({status.connections} connection(s); recorder log: {log})"
        )
    os.replace(partial, path)
    return RecordingResult(path, status.frames_total, status.connections)
