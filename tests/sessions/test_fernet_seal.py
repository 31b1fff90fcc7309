"""``Sealer`` (sessions/fernet_seal.py) writes Fernet tokens: the cryptography
package's own Fernet opens every one to the plaintext and timestamp sealed, token
after token through one kept CBC encryptor, from several threads at once; an
encryptor that does not chain as expected is refused and Fernet seals instead."""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import logging
import pickle
import threading
import time
from typing import Any

import pytest
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from squall.sessions import fernet_seal
from squall.sessions.cookie_storage import EncryptedCookieStorage
from squall.sessions.fernet_seal import Sealer
from squall.sessions.session import Session
from squall.web import Response

KEY = Fernet.generate_key()
BOX = Fernet(KEY)
T0 = 1_800_000_000


def parts(token: bytes) -> tuple[int, bytes, bytes, bytes]:
    """(timestamp, IV, ciphertext, HMAC) of a token."""
    raw = base64.urlsafe_b64decode(token)
    assert raw[0] == 0x80
    return int.from_bytes(raw[1:9], "big"), raw[9:25], raw[25:-32], raw[-32:]


def sealer() -> Sealer:
    made = Sealer.for_fernet(BOX)
    assert made is not None
    return made


def test_every_length_opens_with_fernet() -> None:
    """Plaintexts of 0 to 80 bytes (every padding length, one to six blocks), one
    after the other through the same encryptor: each opens to itself, stamped as
    asked, and its ciphertext is what a fresh encryptor with its IV writes."""
    seal = sealer()
    aes = algorithms.AES(base64.urlsafe_b64decode(KEY)[16:])
    for size in range(81):
        plain = bytes(range(size))
        token = seal.seal(plain, T0 + size)
        assert BOX.decrypt_at_time(token, ttl=10, current_time=T0 + size) == plain
        stamp, iv, ciphertext, _ = parts(token)
        assert stamp == T0 + size
        assert len(ciphertext) == (size // 16 + 1) * 16
        fresh = Cipher(aes, modes.CBC(iv)).encryptor()
        padding = bytes([16 - size % 16]) * (16 - size % 16)
        assert ciphertext == fresh.update(plain + padding) + fresh.finalize()
    assert len(seal._contexts) == 1  # one encryptor did it all


def test_byte_for_byte_fernet_with_the_same_iv(monkeypatch: Any) -> None:
    """With os.urandom's IV known, each token is the very token Fernet writes with
    that IV (url-safe base64 included), and the IV is os.urandom's 16 bytes."""
    seal = sealer()
    ivs: list[bytes] = []
    real = fernet_seal.os.urandom

    def urandom(n: int) -> bytes:
        assert n == 16
        ivs.append(real(n))
        return ivs[-1]

    monkeypatch.setattr(fernet_seal.os, "urandom", urandom)
    for size in (0, 1, 15, 16, 17, 31, 32, 33, 67, 200, 1000):
        plain = real(size)
        token = seal.seal(plain, T0 - size)
        assert token == BOX._encrypt_from_parts(plain, T0 - size, ivs[-1])
        assert parts(token)[1] == ivs[-1]


def test_random_iv_per_token() -> None:
    """The same plaintext at the same second seals to different tokens (a fresh IV
    each time), all of which open."""
    seal = sealer()
    plain = json.dumps({"created": T0, "session": {"user": "alice"}}).encode()
    tokens = [seal.seal(plain, T0) for _ in range(50)]
    assert len(set(tokens)) == 50
    assert len({parts(token)[1] for token in tokens}) == 50
    assert all(BOX.decrypt(token) == plain for token in tokens)


def test_tampered_tokens_do_not_open() -> None:
    """The HMAC covers the whole token: Fernet refuses it with any byte changed."""
    token = sealer().seal(b'{"session": {}}', int(time.time()))
    raw = bytearray(base64.urlsafe_b64decode(token))
    for index in (0, 1, 9, 30, len(raw) - 1):
        bad = raw.copy()
        bad[index] ^= 1
        with pytest.raises(InvalidToken):
            BOX.decrypt(base64.urlsafe_b64encode(bytes(bad)))
    assert BOX.decrypt(token) == b'{"session": {}}'


def test_threads_share_a_sealer() -> None:
    """Four threads sealing at once each take an encryptor (or make one): every
    token opens to its own plaintext."""
    seal = sealer()
    results: list[tuple[bytes, bytes]] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def work(n: int) -> None:
        start.wait()
        mine = []
        for i in range(300):
            plain = f"thread {n} token {i}".encode() * (i % 5 + 1)
            mine.append((plain, seal.seal(plain, T0)))
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 1200
    for plain, token in results:
        assert BOX.decrypt_at_time(token, ttl=10, current_time=T0) == plain
    assert 1 <= len(seal._contexts) <= 4


def test_a_taken_encryptor_means_a_new_one() -> None:
    """While another thread holds the kept encryptor, a seal makes (and checks) its
    own, which is then kept too."""
    seal = sealer()
    held = seal._contexts.pop()
    token = seal.seal(b"while the other is busy", T0)
    assert BOX.decrypt_at_time(token, ttl=10, current_time=T0) == b"while the other is busy"
    seal._contexts.append(held)
    assert len(seal._contexts) == 2
    assert all(BOX.decrypt(seal.seal(b"x" * i, T0)) for i in range(1, 5))


class _Unchained(Sealer):
    """An encryptor that restarts at a zero IV for each token (forgets its last block)."""

    @staticmethod
    def _encrypt(context: Any, last: int, data: bytes, iv: bytes) -> tuple[bytes, int]:
        return Sealer._encrypt(context, 0, data, iv)


def test_an_encryptor_that_does_not_chain_is_refused() -> None:
    """At the start (no sealer: Fernet seals), and when a seal makes a new one."""
    assert _Unchained.for_fernet(BOX) is None
    seal = sealer()
    seal.__class__ = _Unchained
    seal._contexts.clear()
    with pytest.raises(ValueError, match="does not chain"):
        seal.seal(b"data", T0)


def test_a_fernet_subclass_seals_itself() -> None:
    """A subclass's own encrypt_at_time is what a storage given it calls."""
    calls: list[bytes] = []

    class Audited(Fernet):
        def encrypt_at_time(self, data: bytes, current_time: int) -> bytes:
            calls.append(data)
            return super().encrypt_at_time(data, current_time)

    assert Sealer.for_fernet(Audited(KEY)) is None
    storage = EncryptedCookieStorage(Audited(KEY))
    token = save(storage, {"user": "alice"})
    assert len(calls) == 1
    assert json.loads(BOX.decrypt(token))["session"] == {"user": "alice"}


def test_keys_it_cannot_read_are_left_to_fernet() -> None:
    """A Fernet-like object without the key attributes read here: no sealer."""

    class Other:
        def encrypt_at_time(self, data: bytes, now: int) -> bytes:
            return BOX.encrypt_at_time(data, now)

    assert Sealer.for_fernet(Other()) is None  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Sealer(b"short", bytes(16))


def test_an_encryptor_holding_blocks_back_raises() -> None:
    """Whole blocks in must give whole blocks out: a context that keeps some is an
    error, not a wrong token."""

    class Holding:
        def update(self, data: bytes) -> bytes:
            return data[:-16]

    seal = sealer()
    seal._contexts[:] = [(Holding(), 0)]  # type: ignore[list-item]
    with pytest.raises(ValueError, match="held blocks back"):
        seal.seal(b"x" * 40, T0)


def test_storage_seals_with_fernet_without_a_sealer(monkeypatch: Any) -> None:
    """With no sealer (an unusual cryptography package), save_session still seals
    a token Fernet opens, through Fernet itself."""
    monkeypatch.setattr(Sealer, "for_fernet", classmethod(lambda cls, box: None))
    storage = EncryptedCookieStorage(KEY.decode())
    assert storage._sealer is None
    calls = []
    real = Fernet.encrypt_at_time

    def spy(self: Fernet, data: bytes, now: int) -> bytes:
        calls.append(data)
        return real(self, data, now)

    monkeypatch.setattr(Fernet, "encrypt_at_time", spy)
    token = save(storage, {"a": 1, "b": 2})
    assert len(calls) == 1
    assert json.loads(BOX.decrypt(token))["session"] == {"a": 1, "b": 2}


def test_storage_uses_its_sealer(monkeypatch: Any) -> None:
    """The default storage seals with its Sealer, not through Fernet."""
    storage = EncryptedCookieStorage(KEY.decode())
    assert storage._sealer is not None and isinstance(storage._sealer[1], Sealer)
    monkeypatch.setattr(Fernet, "encrypt_at_time", None)  # would fail if called
    token = save(storage, {"user": "alice"})
    assert json.loads(BOX.decrypt(token))["session"] == {"user": "alice"}


def save(storage: EncryptedCookieStorage, data: dict[str, Any]) -> str:
    """The token ``storage`` seals for a changed session holding ``data``."""
    response = Response()
    session = Session(None, data={"created": T0, "session": {}}, new=False)
    session.update(data)
    asyncio.run(storage.save_session(None, response, session))  # type: ignore[arg-type]
    return str(response.cookies[storage.cookie_name].value)


def test_a_failing_sealer_hands_over_to_fernet(caplog: Any) -> None:
    """An encryptor found holding blocks back: the response still gets a token
    (Fernet's), an error is logged once, and Fernet seals from then on."""

    class Holding:
        def update(self, data: bytes) -> bytes:
            return data[:-16]

    storage = EncryptedCookieStorage(KEY.decode())
    assert storage._sealer is not None
    storage._sealer[1]._contexts[:] = [(Holding(), 0)]  # type: ignore[list-item]
    with caplog.at_level(logging.ERROR, logger="squall.sessions"):
        token = save(storage, {"n": 1})
    assert json.loads(BOX.decrypt(token))["session"] == {"n": 1}
    assert storage._sealer is None
    assert [r.message for r in caplog.records] == ["Sealing session cookies with Fernet"]
    assert json.loads(BOX.decrypt(save(storage, {"n": 2})))["session"] == {"n": 2}


def test_a_key_swapped_by_hand_seals_with_the_new_key() -> None:
    """``_fernet`` and ``_fernets`` replaced (a key reloaded by hand): tokens are the
    new key's, not the sealer's old one."""
    storage = EncryptedCookieStorage(KEY.decode())
    other = Fernet(Fernet.generate_key())
    storage._fernets = [other]
    storage._fernet = other
    token = save(storage, {"user": "bob"})
    assert json.loads(other.decrypt(token))["session"] == {"user": "bob"}
    with pytest.raises(InvalidToken):
        BOX.decrypt(token)


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_storage_copies(how: str) -> None:
    """A storage can be deep-copied and pickled (as aiohttp_session's can); the copy
    seals with its own sealer, tokens the key opens."""
    storage = EncryptedCookieStorage(KEY.decode())
    twin = copy.deepcopy(storage) if how == "deepcopy" else pickle.loads(pickle.dumps(storage))
    assert twin._sealer is not None and twin._sealer[1] is not storage._sealer[1]  # type: ignore[index]
    assert len(twin._sealer[1]._contexts) == 1  # made, and so checked, as it was copied
    assert json.loads(BOX.decrypt(save(twin, {"copied": how})))["session"] == {"copied": how}
