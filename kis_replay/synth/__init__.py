"""Realistic synthetic KIS sessions: order books and option trades that evolve like a market.

This is the *simulation* (stateful, paced, consistent across fields and over time), as opposed to the
codec's hypothesis strategies, which are *property* generators. Every frame is built through the codec
(``Record.from_values`` → ``DataFrame.from_records``), so it has the TR's field count and types.

Pure: :func:`generate` yields ``(wall_ns, text)`` in time order; :func:`write_archive` (in
:mod:`.recording`) is the one function that touches a file.

    session = SynthSession.create(["H0ZFASP0"], ["111V06"], duration_s=600, seed=7)
    for wall_ns, text in generate(session): ...
"""

from .generator import ack_credentials, generate
from .instruments import DEFAULT_SYMBOLS, SymbolError
from .session import DEFAULT_DATE, DEFAULT_DURATION_S, DEFAULT_SEED, SYNTH_TRS, SynthError, SynthSession

__all__ = [
    "DEFAULT_DATE",
    "DEFAULT_DURATION_S",
    "DEFAULT_SEED",
    "DEFAULT_SYMBOLS",
    "SYNTH_TRS",
    "SymbolError",
    "SynthError",
    "SynthSession",
    "ack_credentials",
    "generate",
]
