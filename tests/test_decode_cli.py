"""`kis-replay decode`: frames given as arguments or on stdin, decoded to named fields, in a real process."""

from __future__ import annotations

import json
import subprocess
import sys

NIGHT_QUOTE = (
    "0|H0EUASP0|001|301V06362^190159^2.98^2.99^3.00^0.00^0.00^2.97^2.96^2.95^0.00^0.00"
    "^0^0^0^0^0^0^0^0^0^0^1^3^12^0^0^9^21^16^0^0^0^0^16^46^5^0"
)


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kis_replay", "decode", *args],
        input=stdin, capture_output=True, text=True, timeout=60, check=False,
    )


def test_a_frame_decodes_to_its_named_fields() -> None:
    result = run(NIGHT_QUOTE)
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    decoded = json.loads(line)
    assert decoded["tr_id"] == "H0EUASP0"
    assert decoded["record"] == 1
    assert len(decoded["fields"]) == 38
    assert decoded["fields"]["OPTN_SHRN_ISCD"] == "301V06362"
    assert decoded["fields"]["OPTN_ASKP1"] == "2.98"
    assert decoded["fields"]["TOTAL_BIDP_RSQN_ICDC"] == "0"


def test_a_bad_frame_is_named_and_fails_without_a_traceback() -> None:
    short = NIGHT_QUOTE.rsplit("^", 1)[0]  # 37 fields
    result = run(stdin=f"{NIGHT_QUOTE}\n{short}\n")
    assert result.returncode == 1
    assert len(result.stdout.splitlines()) == 1  # the good frame still decoded
    assert "frame 2: H0EUASP0 record 1: 37 fields, expected 38" in result.stderr
    assert "Traceback" not in result.stderr


def test_lenient_keeps_the_raw_fields() -> None:
    short = NIGHT_QUOTE.rsplit("^", 1)[0]
    result = run("--lenient", short)
    assert result.returncode == 0, result.stderr
    fields = json.loads(result.stdout)["fields"]
    assert len(fields) == 37
    assert fields["0"] == "301V06362"
