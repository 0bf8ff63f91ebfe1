"""The TR tables: one module per TR, each the field list of its KIS API page (``../shared/spec``).

Importing this package registers every table with :mod:`kis_replay.codec.spec`.
"""

from . import H0EUASP0, H0IOCNT0, H0ZFASP0

SEED_TRS = (H0ZFASP0.SPEC, H0EUASP0.SPEC, H0IOCNT0.SPEC)
