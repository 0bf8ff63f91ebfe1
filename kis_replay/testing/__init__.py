"""The pytest plugin's parts, each a small module with one job (the plugin itself is
:mod:`kis_replay.pytest_plugin`, a thin layer of pytest hooks over them).

- :mod:`~kis_replay.testing.marker`: ``@pytest.mark.kis_replay(...)`` parsed and checked (pure);
- :mod:`~kis_replay.testing.location`: where a marker's archive and scenario files are;
- :mod:`~kis_replay.testing.record_mode`: ``--kis-record-mode`` none/once/all, one pure decision;
- :mod:`~kis_replay.testing.plan`: marker + command line → the fake server to start (or what to record);
- :mod:`~kis_replay.testing.recording`: recording a missing archive with the recorder's code;
- :mod:`~kis_replay.testing.handle`: what a test holds (``kis_replay_server``);
- :mod:`~kis_replay.testing.live_guard`: no connection to the real KIS hosts from a test.

Nothing is imported here, so that the plugin, loaded by every pytest run, stays cheap.
"""
