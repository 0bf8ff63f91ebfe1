"""Credentials from the environment or an env file, the approval-key request, and secret scrubbing.

The approval endpoint is a real HTTP server on 127.0.0.1 (``http.server`` in a thread).
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from kis_replay.recorder.approval import ApprovalError, obtain_approval_key, request_approval_key
from kis_replay.recorder.credentials import Credentials, CredentialsError, read_env_file

APP_KEY = "PSappkey0123456789abcdefghijklmnopq"
APP_SECRET = "secret/ABCDEFGHIJ+0123456789=="
APPROVAL = "approval-4f0c2e1a-77aa-4bb1-9c55-d1e2f3a4b5c6"


class ApprovalEndpoint(BaseHTTPRequestHandler):
    """KIS's /oauth2/Approval: a key for the right app key and secret, HTTP 403 otherwise."""

    requests: ClassVar[list] = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append((self.path, body))
        good = body == {"grant_type": "client_credentials", "appkey": APP_KEY, "secretkey": APP_SECRET}
        if self.path == "/oauth2/Approval" and good:
            reply, status = {"approval_key": APPROVAL}, 200
        elif self.path == "/oauth2/Approval" and body.get("secretkey") == "empty-reply":
            reply, status = {"nothing": 1}, 200
        else:
            # A careless service might echo what it was sent: the recorder must still not show it.
            described = f"bad AppSecret {body.get('secretkey')}"
            reply, status = {"error_code": "EGW00105", "error_description": described}, 403
        data = json.dumps(reply).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def rest_url():
    ApprovalEndpoint.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), ApprovalEndpoint)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_env_file_wins_over_environment(tmp_path):
    env = tmp_path / ".env"
    env.write_text(f"# kis\nexport KIS_APP_KEY={APP_KEY}\nKIS_APP_SECRET='{APP_SECRET}'\n\n")
    creds = Credentials.load({"KIS_APP_KEY": "other", "KIS_APP_SECRET": "other"}, env)
    assert (creds.app_key, creds.app_secret, creds.approval_key) == (APP_KEY, APP_SECRET, None)
    assert creds.can_renew


def test_missing_or_half_credentials():
    with pytest.raises(CredentialsError, match="no credentials: set KIS_APPROVAL_KEY"):
        Credentials.load({})
    with pytest.raises(CredentialsError, match="KIS_APP_SECRET is not set"):
        Credentials.load({"KIS_APP_KEY": APP_KEY})
    assert Credentials.load({"KIS_APPROVAL_KEY": APPROVAL}).approval_key == APPROVAL


def test_env_file_errors_never_quote_the_line(tmp_path):
    env = tmp_path / ".env"
    env.write_text(f"KIS_APP_KEY={APP_KEY}\n{APP_SECRET}\n")
    with pytest.raises(CredentialsError) as info:
        read_env_file(env)
    assert str(info.value) == f"{env}:2: expected NAME=value"
    with pytest.raises(CredentialsError, match="cannot read env file"):
        read_env_file(tmp_path / "missing.env")


def test_repr_and_scrub_hide_every_secret():
    creds = Credentials(app_key=APP_KEY, app_secret=APP_SECRET).with_approval_key(APPROVAL)
    renewed = creds.with_approval_key("approval-second")
    text = f"{creds!r} {renewed!r} {renewed.scrub(f'invalid approval : {APPROVAL} / {APP_SECRET} / approval-second')}"
    for secret in (APP_KEY, APP_SECRET, APPROVAL, "approval-second"):
        assert secret not in text
    assert text.count("<redacted>") >= 6


def test_approval_key_from_local_endpoint(rest_url):
    creds = Credentials(app_key=APP_KEY, app_secret=APP_SECRET)
    assert request_approval_key(rest_url, creds) == APPROVAL
    assert ApprovalEndpoint.requests == [
        ("/oauth2/Approval", {"grant_type": "client_credentials", "appkey": APP_KEY, "secretkey": APP_SECRET})
    ]


async def test_approval_key_off_the_event_loop(rest_url):
    creds = Credentials(app_key=APP_KEY, app_secret=APP_SECRET)
    assert await obtain_approval_key(rest_url + "/", creds) == APPROVAL


def test_wrong_secret_is_a_clear_error_without_the_secret(rest_url):
    creds = Credentials(app_key=APP_KEY, app_secret="wrong-" + APP_SECRET)
    with pytest.raises(ApprovalError) as info:
        request_approval_key(rest_url, creds)
    message = str(info.value)
    assert message.startswith(f"approval key request to {rest_url}/oauth2/Approval refused: HTTP 403: EGW00105")
    assert APP_SECRET not in message and APP_KEY not in message


def test_reply_without_key_and_unreachable_service(rest_url):
    with pytest.raises(ApprovalError, match=r"has no approval_key \(got \['nothing'\]\)"):
        request_approval_key(rest_url, Credentials(app_key=APP_KEY, app_secret="empty-reply"))
    with pytest.raises(ApprovalError, match=r"cannot reach http://127\.0\.0\.1:1/oauth2/Approval"):
        request_approval_key("http://127.0.0.1:1", Credentials(app_key=APP_KEY, app_secret=APP_SECRET), timeout=2)
