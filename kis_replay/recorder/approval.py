"""Obtaining a WebSocket approval key from the REST API: ``POST {rest_url}/oauth2/Approval``.

Standard-library ``urllib`` only (one request a day does not justify a dependency), run in a worker
thread by :func:`obtain_approval_key` so the recorder's event loop keeps flushing while it waits. Every
failure becomes an :class:`ApprovalError` whose message says what the service answered, with the app key
and secret scrubbed out of it.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request

from .credentials import Credentials

__all__ = ["APPROVAL_PATH", "ApprovalError", "obtain_approval_key", "request_approval_key"]

APPROVAL_PATH = "/oauth2/Approval"
_MAX_BODY = 64 * 1024


class ApprovalError(RuntimeError):
    """The approval key could not be obtained (unreachable service, refused credentials, odd reply)."""


def _describe_error_body(body: bytes) -> str:
    """The service's own words from an error reply (KIS sends ``error_description`` / ``msg1``)."""
    try:
        obj = json.loads(body)
    except ValueError:
        return body[:200].decode("utf-8", "replace").strip()
    if isinstance(obj, dict):
        parts = [str(obj[k]) for k in ("error_code", "error_description", "msg_cd", "msg1") if obj.get(k)]
        if parts:
            return " ".join(parts)
    return json.dumps(obj, ensure_ascii=False)[:200]


def request_approval_key(rest_url: str, credentials: Credentials, *, timeout: float = 10.0) -> str:
    """Request an approval key (blocking). Raises :class:`ApprovalError`."""
    if not credentials.can_renew:
        raise ApprovalError("no app key and secret to request an approval key with")
    url = rest_url.rstrip("/") + APPROVAL_PATH
    body = json.dumps(
        {"grant_type": "client_credentials", "appkey": credentials.app_key, "secretkey": credentials.app_secret}
    ).encode()
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json; charset=UTF-8"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            reply = response.read(_MAX_BODY)
    except urllib.error.HTTPError as exc:
        detail = _describe_error_body(exc.read(_MAX_BODY))
        message = f"approval key request to {url} refused: HTTP {exc.code}" + (f": {detail}" if detail else "")
        raise ApprovalError(credentials.scrub(message)) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ApprovalError(credentials.scrub(f"cannot reach {url}: {reason}")) from None
    try:
        obj = json.loads(reply)
    except ValueError:
        raise ApprovalError(f"approval key reply from {url} is not JSON ({len(reply)} bytes)") from None
    key = obj.get("approval_key") if isinstance(obj, dict) else None
    if not isinstance(key, str) or not key:
        keys = sorted(obj) if isinstance(obj, dict) else type(obj).__name__
        raise ApprovalError(credentials.scrub(f"approval key reply from {url} has no approval_key (got {keys})"))
    return key


async def obtain_approval_key(rest_url: str, credentials: Credentials, *, timeout: float = 10.0) -> str:
    """:func:`request_approval_key` in a worker thread, so the event loop is not blocked."""
    return await asyncio.to_thread(request_approval_key, rest_url, credentials, timeout=timeout)
