"""The recorder: a live KIS WebSocket session, captured byte for byte into ``.kisrec.zst`` archives.

Pure parts (protocol rules, reconnect timing, rotation, status) are plain objects; only
:mod:`~kis_replay.recorder.client` touches sockets and :mod:`~kis_replay.recorder.rolling` files.
"""
