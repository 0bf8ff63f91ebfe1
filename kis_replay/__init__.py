"""kis-replay: record and replay the KIS Open API real-time WebSocket feed.

The data path, one subpackage a stage: live feed → :mod:`~kis_replay.recorder` → :mod:`~kis_replay.archive`
→ :mod:`~kis_replay.replayer` → :mod:`~kis_replay.fake_server` → bot, with :mod:`~kis_replay.codec` shared
by all.
"""

__version__ = "0.1.0"
