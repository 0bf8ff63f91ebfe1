"""Looking into archives: the computations behind ``kis-replay info | cat | verify | slice | merge``.

Each module is one job over the archive API (:mod:`kis_replay.archive`) and the codec, usable from
Python without the CLI: :func:`summarize` (info), the :mod:`~.export` formats (cat), :func:`verify_archive`,
:func:`slice_archive`, :func:`merge_archives`. The CLI in :mod:`kis_replay.cli.inspect` only parses
options, drives progress and prints.
"""

from .decoding import FrameDecoder
from .export import CSV_META_COLUMNS, CsvExport, ExportFormat, JsonlExport, RawExport, RecordExport
from .merging import MergeResult, RecordingPart, merge_archives, merged_header
from .session_clock import iso_clock
from .slicing import SliceResult, key_acks_before, same_file, slice_archive
from .summary import ArchiveSummary, Gap, SummaryBuilder, TrSummary, summarize
from .verification import Problem, VerificationReport, verify_archive

__all__ = [
    "CSV_META_COLUMNS",
    "ArchiveSummary",
    "CsvExport",
    "ExportFormat",
    "FrameDecoder",
    "Gap",
    "JsonlExport",
    "MergeResult",
    "Problem",
    "RawExport",
    "RecordExport",
    "RecordingPart",
    "SliceResult",
    "SummaryBuilder",
    "TrSummary",
    "VerificationReport",
    "iso_clock",
    "key_acks_before",
    "merge_archives",
    "merged_header",
    "same_file",
    "slice_archive",
    "summarize",
    "verify_archive",
]
