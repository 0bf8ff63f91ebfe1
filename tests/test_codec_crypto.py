"""AES-256-CBC / PKCS7 / base64 of encrypted frames, both directions, and every way decryption can fail."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from kis_replay.codec import (
    DataFrame,
    DecryptionError,
    FrameCipher,
    FrameError,
    build_reply,
    get_spec,
    parse_frame,
    parse_reply,
)
from kis_replay.codec.errors import ControlMessageError

KEY = "abcdefghijklmnopabcdefghijklmnop"  # the shape of KIS's own example ack
IV = "0123456789abcdef"
NOTICE = "고객ID^계좌번호^0000012345^주문번호^01^02^005930^10^71000^093001^N^Y"


def _reference_decrypt(key: str, iv: str, b64: str) -> bytes:
    """AES-256-CBC with manual PKCS7 unpadding: a second route to the plaintext, not through FrameCipher."""
    data = base64.b64decode(b64)
    dec = Cipher(algorithms.AES(key.encode()), modes.CBC(iv.encode())).decryptor()
    padded = dec.update(data) + dec.finalize()
    pad = padded[-1]
    assert 1 <= pad <= 16 and padded.endswith(bytes([pad]) * pad)
    return padded[:-pad]


def test_encrypt_is_aes256_cbc_pkcs7_base64() -> None:
    cipher = FrameCipher(KEY, IV)
    b64 = cipher.encrypt(NOTICE)
    assert _reference_decrypt(KEY, IV, b64) == NOTICE.encode("utf-8")
    assert len(base64.b64decode(b64)) % 16 == 0
    assert cipher.decrypt(b64) == NOTICE
    assert cipher.decrypt(b64.encode()) == NOTICE  # the frame's bytes are accepted too
    # a block-aligned plaintext gets a whole block of padding
    assert len(base64.b64decode(cipher.encrypt("x" * 16))) == 32


def test_encrypted_frame_round_trip() -> None:
    spec = get_spec("H0ZFASP0")
    assert spec is not None
    plain = parse_frame(
        "0|H0EUASP0|001|301V06362^190159^2.98^2.99^3.00^0.00^0.00^2.97^2.96^2.95^0.00^0.00^0^0^0^0^0^0^0^0^0^0^"
        "1^3^12^0^0^9^21^16^0^0^0^0^16^46^5^0"
    )
    cipher = FrameCipher(KEY, IV)
    enc = DataFrame.from_records(plain.records, cipher=cipher)
    text = enc.text
    assert text.startswith("1|H0EUASP0|001|")
    assert _reference_decrypt(KEY, IV, text.split("|", 3)[3]).decode() == plain.payload
    again = parse_frame(text, cipher=cipher)
    assert again.encrypted and again.records == plain.records and again.text == text
    # without the cipher the frame still parses, keeping the ciphertext (a recording never loses it)
    opaque = parse_frame(text)
    assert opaque.encrypted and opaque.records == () and opaque.tr_key is None and opaque.text == text


def test_generate_gives_ack_shaped_key_and_iv() -> None:
    a, b = FrameCipher.generate(), FrameCipher.generate()
    assert len(a.key) == 32 and len(a.iv) == 16 and (a.key + a.iv).isalnum() and (a.key + a.iv).isascii()
    assert a != b
    assert b.decrypt(b.encrypt(NOTICE)) == NOTICE


def test_wrong_key_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes, got 31"):
        FrameCipher(KEY[:-1], IV)
    with pytest.raises(ValueError, match="16 bytes, got 17"):
        FrameCipher(KEY, IV + "x")


@pytest.mark.parametrize(
    ("ciphertext", "message"),
    [
        ("not base64!", "not valid base64"),
        ("QUJD", "3 bytes, not a multiple of the AES block"),
        ("", "0 bytes"),
        ("한글", "not valid base64"),
        (base64.b64encode(b"\x00" * 16).decode(), "bad PKCS7 padding"),
    ],
)
def test_decryption_failures(ciphertext: str, message: str) -> None:
    with pytest.raises(DecryptionError, match=message):
        FrameCipher(KEY, IV).decrypt(ciphertext)


def test_wrong_key_is_a_decryption_error_not_garbage() -> None:
    b64 = FrameCipher(KEY, IV).encrypt(NOTICE)
    other = FrameCipher("B" * 32, "C" * 16)
    # a wrong key almost always breaks the padding; when it does not, the text is not UTF-8 or the frame has
    # the wrong field count: some CodecError in every case, never mojibake in silence
    with pytest.raises(DecryptionError, match="wrong key or iv"):
        other.decrypt(b64)
    with pytest.raises(FrameError):
        parse_frame(f"1|H0STCNI0|001|{b64}", cipher=other)


def test_not_utf8_after_decryption() -> None:
    cipher = FrameCipher(KEY, IV)
    enc = Cipher(algorithms.AES(KEY.encode()), modes.CBC(IV.encode())).encryptor()
    b64 = base64.b64encode(enc.update(b"\xff" * 15 + b"\x01") + enc.finalize()).decode()
    with pytest.raises(DecryptionError, match="not UTF-8 at byte 0"):
        cipher.decrypt(b64)


def test_cipher_from_ack() -> None:
    ack = parse_reply(build_reply("OPSP0000", tr_id="H0STCNI0", tr_key="hts_id", encrypt="Y",
                                  output={"iv": IV, "key": KEY}).to_json())
    cipher = ack.cipher()
    assert cipher == FrameCipher(KEY, IV)
    assert parse_reply(build_reply("OPSP0000", tr_id="H0ZFASP0").to_json()).cipher() is None
    with pytest.raises(ControlMessageError, match="H0STCNI0 ack output: AES-256 key must be 32 bytes, got 3"):
        parse_reply(build_reply("OPSP0000", tr_id="H0STCNI0", output={"iv": IV, "key": "abc"}).to_json()).cipher()
    with pytest.raises(ControlMessageError, match="ack output has no key"):
        parse_reply(build_reply("OPSP0000", tr_id="H0STCNI0", output={"iv": IV}).to_json()).cipher()
