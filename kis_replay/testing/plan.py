"""From a test's marker and the command line to a fake KIS server: what to replay, whether to record first.

:class:`ReplayPlan` is everything the fixture decides before it touches a socket: where the archive is,
what the record mode makes of it, the replay options and the scenario. It builds the
:class:`~kis_replay.fake_server.FakeKisServer`; the fixture only starts it (in a thread or in the test's
loop). Every problem is a :class:`PlanError` with a one-line message for the test report.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .location import ArchiveLocation, locate_archive, locate_scenario
from .marker import ReplayMarker
from .record_mode import Decision, RecordMode, decide

__all__ = ["PlanError", "PluginSettings", "ReplayPlan"]


class PlanError(Exception):
    """The test's replay cannot be set up; the message says what to fix."""


@dataclass(frozen=True)
class PluginSettings:
    """The command line's part: ``--kis-record-mode``, ``--kis-live-url``, ``--kis-rest-url``,
    ``--kis-allow-live`` (``None`` URLs are the live service's)."""

    record_mode: RecordMode = RecordMode.NONE
    live_url: str | None = None
    rest_url: str | None = None
    allow_live: bool = False

    @property
    def blocks_live(self) -> bool:
        """Whether tests are kept off the live service (not when allowed, nor when recording)."""
        return not self.allow_live and self.record_mode is RecordMode.NONE


@dataclass(frozen=True)
class ReplayPlan:
    marker: ReplayMarker
    location: ArchiveLocation
    decision: Decision
    test_dir: Path
    settings: PluginSettings

    @classmethod
    def make(
        cls, marker: ReplayMarker, test_dir: Path, settings: PluginSettings, environ: Mapping[str, str] | None = None
    ) -> ReplayPlan:
        location = locate_archive(marker.archive, test_dir)
        credentials_problem = None
        if settings.record_mode is not RecordMode.NONE and not location.bundled:
            from ..recorder.credentials import Credentials, CredentialsError

            try:
                Credentials.load(os.environ if environ is None else environ)
            except CredentialsError as exc:
                credentials_problem = str(exc)
        shown = str(location.path)
        if not location.exists:
            shown = f"{marker.archive!r} (looked for {location.describe_search()})"
        decision = decide(settings.record_mode, archive=shown, exists=location.exists, bundled=location.bundled,
                          subscribes=marker.recording_wanted, credentials=credentials_problem)
        return cls(marker, location, decision, test_dir, settings)

    # -- recording ------------------------------------------------------------------------------------

    async def record(self) -> Any:
        """Record the archive from the live service (the decision is ``"record"``); a :class:`PlanError`
        when that fails."""
        from ..recorder.client import DEFAULT_REST_URL, DEFAULT_URL
        from ..recorder.credentials import Credentials, CredentialsError
        from .recording import RecordingError, record_archive

        try:
            credentials = Credentials.load()
        except CredentialsError as exc:
            raise PlanError(str(exc)) from None
        try:
            return await record_archive(
                self.location.path, self.marker.subscribe, self.marker.duration,
                url=self.settings.live_url or DEFAULT_URL, rest_url=self.settings.rest_url or DEFAULT_REST_URL,
                credentials=credentials,
            )
        except RecordingError as exc:
            raise PlanError(f"cannot record {self.location.path}: {exc}") from None

    # -- the server -----------------------------------------------------------------------------------

    def scenario(self) -> Any:
        """The marker's scenario, loaded (``None`` without one)."""
        from ..scenarios import ScenarioError

        try:
            return locate_scenario(self.marker.scenario, self.test_dir)
        except ScenarioError as exc:
            raise PlanError(f"scenario: {exc}") from None

    def options(self) -> Any:
        """The :class:`~kis_replay.replayer.ReplayOptions` of the marker (``start``/``end`` placed on the
        archive's session day)."""
        from ..archive import ArchiveError, ArchiveReader, session_window
        from ..replayer import ReplayOptionError, ReplayOptions

        m = self.marker
        start_ns = end_ns = None
        if m.start is not None or m.end is not None:
            try:
                with ArchiveReader(self.location.path) as reader:
                    first, tz = reader.first_wall_ns, reader.header.timezone
            except ArchiveError as exc:
                raise PlanError(str(exc)) from None
            if first is None:
                raise PlanError(f"{self.location.path} has no records: start=/end= have no session to fall in")
            try:
                start_ns, end_ns = session_window(first, m.start, m.end, tz, names=("start=", "end="))
            except ValueError as exc:
                raise PlanError(f"@pytest.mark.kis_replay: {exc}") from None
        try:
            return ReplayOptions(speed=m.speed, start_ns=start_ns, end_ns=end_ns, only=frozenset(m.only),
                                 filter=m.filter, loop=m.loop)
        except ReplayOptionError as exc:
            raise PlanError(f"@pytest.mark.kis_replay: {exc}") from None

    def build_server(self) -> Any:
        """The :class:`~kis_replay.fake_server.FakeKisServer` of this plan, not started; port 0 (a free one)."""
        from ..archive import ArchiveError
        from ..fake_server import FakeKisServer

        m = self.marker
        scenario = self.scenario()
        try:
            if scenario is not None and m.seed is not None:
                from ..scenarios import ScenarioRun

                scenario = ScenarioRun.prepare(scenario, self.location.path, m.seed)
            return FakeKisServer(
                self.location.path, self.options(), host="127.0.0.1", port=0, clock=m.clock, on_end=m.on_end,
                approval_key=m.approval_key, allow_shared_key=m.allow_shared_key, ping_interval=m.ping_interval,
                queue_size=m.queue_size, settle=m.settle, scenario=scenario,
            )
        except ArchiveError as exc:
            raise PlanError(f"cannot replay {self.location.path}: {exc}") from None
        except ValueError as exc:  # e.g. a scenario with the shared clock
            raise PlanError(f"@pytest.mark.kis_replay: {exc}") from None
