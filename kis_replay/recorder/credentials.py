"""The recorder's secrets: where they come from, and the one place that knows how to hide them.

Credentials are read only from the environment or from an ``.env``-style file the user names, never from
the command line (it shows in ``ps`` and shell history). Either ``KIS_APPROVAL_KEY`` directly, or
``KIS_APP_KEY`` + ``KIS_APP_SECRET`` from which the recorder requests an approval key. The values never
appear in a ``repr``, an error message or a log line: :meth:`Credentials.scrub` replaces them wherever a
text that might echo one (a server reply, an HTTP error body) is about to be shown.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..codec import REDACTED

__all__ = ["APPROVAL_KEY_VAR", "APP_KEY_VAR", "APP_SECRET_VAR", "Credentials", "CredentialsError", "read_env_file"]

APPROVAL_KEY_VAR = "KIS_APPROVAL_KEY"
APP_KEY_VAR = "KIS_APP_KEY"
APP_SECRET_VAR = "KIS_APP_SECRET"


class CredentialsError(ValueError):
    """Credentials are missing, incomplete, or the file holding them cannot be read."""


def read_env_file(path: str | Path) -> dict[str, str]:
    """``NAME=value`` lines (optionally ``export NAME=value``, values optionally quoted; ``#`` comments).

    Errors name the file and line but never quote the line: it may hold a secret.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CredentialsError(f"cannot read env file {path}: {exc.__class__.__name__}") from None
    values: dict[str, str] = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export "):].lstrip()
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise CredentialsError(f"{path}:{lineno}: expected NAME=value")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name] = value
    return values


@dataclass(frozen=True, repr=False)
class Credentials:
    """An approval key, or the app key and secret to obtain one (a fresh one when the service rejects
    the current key, e.g. after the 24 h validity)."""

    approval_key: str | None = None
    app_key: str | None = None
    app_secret: str | None = None
    _extra_secrets: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if not self.approval_key and not (self.app_key and self.app_secret):
            if self.app_key or self.app_secret:
                missing = APP_SECRET_VAR if self.app_key else APP_KEY_VAR
                raise CredentialsError(f"{missing} is not set: {APP_KEY_VAR} and {APP_SECRET_VAR} go together")
            raise CredentialsError(
                f"no credentials: set {APPROVAL_KEY_VAR}, or {APP_KEY_VAR} and {APP_SECRET_VAR}, "
                "in the environment or in the file given with --env-file"
            )

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, env_file: str | Path | None = None) -> Credentials:
        """From ``environ`` (default ``os.environ``) and, when given, ``env_file`` (whose values win: the
        user named it explicitly)."""
        values = dict(os.environ if environ is None else environ)
        if env_file is not None:
            values.update(read_env_file(env_file))
        return cls(
            approval_key=values.get(APPROVAL_KEY_VAR) or None,
            app_key=values.get(APP_KEY_VAR) or None,
            app_secret=values.get(APP_SECRET_VAR) or None,
        )

    @property
    def can_renew(self) -> bool:
        """Whether a new approval key can be requested (app key and secret are known)."""
        return bool(self.app_key and self.app_secret)

    def with_approval_key(self, key: str) -> Credentials:
        """The same credentials holding a newly issued approval key (the old one stays scrubbed too)."""
        old = (self.approval_key,) if self.approval_key else ()
        return replace(self, approval_key=key, _extra_secrets=self._extra_secrets + old)

    def secrets(self) -> tuple[str, ...]:
        """Every secret value, longest first (so a key containing another is replaced whole)."""
        values = {self.approval_key, self.app_key, self.app_secret, *self._extra_secrets}
        return tuple(sorted((v for v in values if v), key=len, reverse=True))

    def scrub(self, text: str) -> str:
        """``text`` with every secret replaced by :data:`~kis_replay.codec.REDACTED`."""
        for secret in self.secrets():
            text = text.replace(secret, REDACTED)
        return text

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={REDACTED if getattr(self, name) else None}"
            for name in ("approval_key", "app_key", "app_secret")
        )
        return f"Credentials({shown})"
