"""The archive's two ways of saying something is wrong: an error that stops, a warning that does not.

A reader must never lose good records because of bad ones, so damage it can step over (a cut file, a
corrupt block, a missing index) is an :class:`ArchiveWarning`, and only what leaves nothing to read (not an
archive, unreadable header, a newer format) is an :class:`ArchiveError`.
"""

from __future__ import annotations

__all__ = ["ArchiveError", "ArchiveWarning"]


class ArchiveError(Exception):
    """The file cannot be read (or written) as an archive; the message names the file and the offset."""


class ArchiveWarning(UserWarning):
    """Damage the reader stepped over, with where it was and what it cost.

    ``kind`` is ``"cut"`` (the file ends inside a zstd frame: writer killed, disk full, truncated copy),
    ``"corrupt"`` (a zstd frame failed to decode or its records do not parse; skipped), or ``"index"`` (the
    seek index is missing or unusable; rebuilt by scanning). ``offset`` is a byte offset in the compressed
    file. ``records_lost`` is known when the seek index counted the records of a skipped frame;
    ``records_recovered`` is how many records were read from a cut frame.

    It is a :class:`UserWarning` so that it can also go through :func:`warnings.warn` (and ``pytest.warns``).
    """

    def __init__(
        self,
        kind: str,
        offset: int,
        message: str,
        records_lost: int | None = None,
        records_recovered: int | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.offset = offset
        self.message = message
        self.records_lost = records_lost
        self.records_recovered = records_recovered

    def __repr__(self) -> str:
        return (
            f"ArchiveWarning(kind={self.kind!r}, offset={self.offset}, message={self.message!r}, "
            f"records_lost={self.records_lost!r}, records_recovered={self.records_recovered!r})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ArchiveWarning):
            return NotImplemented
        return (self.kind, self.offset, self.message, self.records_lost, self.records_recovered) == (
            other.kind, other.offset, other.message, other.records_lost, other.records_recovered
        )

    def __hash__(self) -> int:
        return hash((self.kind, self.offset, self.message))
