"""``EncryptedCookieStorage``: the session sealed into the cookie with Fernet.

The sealed format is aiohttp_session's, so cookies cross between an aiohttp app and
a Squall app that share the key: ``Fernet(key).encrypt(json.dumps({"created": ...,
"session": {...}}))``, its url-safe base64 text as the cookie's value. Fernet
(AES-128-CBC then HMAC-SHA256, from the cryptography package) both hides and
authenticates the data; its timestamp makes ``max_age`` a hard limit as well. Tokens
are sealed by ``fernet_seal.Sealer`` (the same tokens, without Fernet's per-token
set-up) and opened by Fernet itself.

SECURITY invariants:

- A cookie this storage cannot open (tampered, truncated, expired, sealed with an
  unknown key, not ASCII, not JSON, not a session's shape) is a new empty session
  and one warning in the log; never an error page.
- Keys come from the caller (an environment variable, a secret store); never from
  this code. A list of keys rotates them: the first seals, every one opens, and a
  cookie opened with an older key is sealed again with the first on the way out.
- The memory of opened tokens (``_opened``, see ``_open``) answers only for the
  exact token text Fernet opened (or this storage sealed), and checks the token's
  age against ``max_age`` on every use as Fernet does: a cookie it answers for is
  one Fernet would open to the same plaintext with the same key.
"""

from __future__ import annotations

try:
    from cryptography import fernet
except ImportError as exc:  # pragma: no cover - the tests run with cryptography installed
    raise ImportError(
        "EncryptedCookieStorage needs the cryptography package: pip install squall[sessions]",
        name=exc.name,
    ) from exc

import base64
import json
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from squall.framework.request import Request
from squall.framework.response import StreamResponse
from squall.sessions.fernet_seal import Sealer
from squall.sessions.session import Session
from squall.sessions.storage import AbstractStorage, log

Key = str | bytes | bytearray | fernet.Fernet

# the memory of opened tokens: how many, and the longest kept (a browser keeps a
# cookie of at most 4096 bytes, name included)
_OPENED_MAX = 4096
_OPENED_TOKEN_MAX = 4096
# Fernet's own bound on a token's timestamp ahead of the clock (fernet._MAX_CLOCK_SKEW)
_MAX_CLOCK_SKEW = 60


def _fernet(key: Key) -> fernet.Fernet:
    """aiohttp_session's reading of a key: bytes are the 32 raw bytes, text is url-safe
    base64 (what ``Fernet.generate_key()`` gives), or a ready ``Fernet``."""
    if isinstance(key, fernet.Fernet):
        return key
    if isinstance(key, bytes | bytearray):
        key = base64.urlsafe_b64encode(key)
    return fernet.Fernet(key)  # ValueError for a key of the wrong size


class EncryptedCookieStorage(AbstractStorage):
    """Sessions sealed with Fernet in the cookie; ``secret_key`` may be a list to rotate."""

    def __init__(
        self,
        secret_key: Key | Sequence[Key],
        *,
        cookie_name: str = "AIOHTTP_SESSION",
        domain: str | None = None,
        max_age: int | None = None,
        path: str = "/",
        secure: bool | None = None,
        httponly: bool = True,
        samesite: str | None = None,
        encoder: Callable[[object], str] = json.dumps,
        decoder: Callable[[str], Any] = json.loads,
    ) -> None:
        super().__init__(
            cookie_name=cookie_name,
            domain=domain,
            max_age=max_age,
            path=path,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
            encoder=encoder,
            decoder=decoder,
        )
        if isinstance(secret_key, str | bytes | bytearray | fernet.Fernet):
            keys: list[Key] = [secret_key]
        else:
            keys = list(secret_key)
            if not keys:
                raise ValueError("EncryptedCookieStorage needs at least one key")
        self._fernets = [_fernet(key) for key in keys]
        self._fernet = self._fernets[0]  # the sealing key (aiohttp_session's attribute)
        # the key's faster seal, with the Fernet it is for (None: Fernet seals)
        sealer = Sealer.for_fernet(self._fernet)
        self._sealer = None if sealer is None else (self._fernet, sealer)
        # token text -> (plaintext, the token's timestamp, opened with an older key)
        self._opened: OrderedDict[str, tuple[bytes, int, bool]] = OrderedDict()

    def _open(self, cookie: str) -> tuple[bytes | None, bool]:
        """The cookie's plaintext (None if no key opens it), and whether it was
        sealed with an older key.

        PERF: a browser sends back the cookie it was last given, so the token this
        storage sealed for a response (or Fernet opened for a request) is remembered
        with its plaintext, and opening it again costs a dict lookup instead of
        Fernet's HMAC check and AES decryption (6 µs of a 69 µs request, measured
        under bench/sessions.py). SECURITY: only a token Fernet opened or this
        storage sealed is remembered, keyed by its whole text, so a changed byte is
        a different token that goes to Fernet. Its age is checked on every use with
        Fernet's rules (``max_age``, and at most 60 s ahead of the clock); the key
        list cannot change after __init__. Bounded: the oldest entries go first.
        """
        opened = self._opened.get(cookie)
        ttl = self.max_age
        if opened is not None:
            plain, sealed_at, old_key = opened
            if ttl is not None:
                now = int(time.time())
                if sealed_at + ttl < now or now + _MAX_CLOCK_SKEW < sealed_at:
                    return None, False  # what Fernet says of it now
            return plain, old_key
        try:
            token = cookie.encode("ascii")
        except UnicodeEncodeError:
            return None, False
        for index, box in enumerate(self._fernets):
            try:
                plain = box.decrypt(token, ttl=ttl)
            except fernet.InvalidToken:
                continue
            # opened, so well-formed: byte 0 is the version, 1-8 the timestamp
            sealed_at = int.from_bytes(base64.urlsafe_b64decode(token)[1:9], "big")
            self._remember(cookie, plain, sealed_at, index > 0)
            return plain, index > 0
        return None, False

    def _remember(self, token: str, plain: bytes, sealed_at: int, old_key: bool) -> None:
        opened = self._opened
        if len(token) > _OPENED_TOKEN_MAX:
            return
        if len(opened) >= _OPENED_MAX:
            # PERF: OrderedDict, not dict: a dict emptied from the front scans its
            # holes on each next(iter()) (measured: 2.5% of a request at the bound)
            try:
                opened.popitem(last=False)  # the oldest
            except KeyError:  # another thread's app emptied it meanwhile
                pass
        opened[token] = (plain, sealed_at, old_key)

    async def load_session(self, request: Request) -> Session:
        cookie = self.load_cookie(request)
        if cookie is None:
            return Session(None, data=None, new=True, max_age=self.max_age)
        plain, old_key = self._open(cookie)
        if plain is None:
            log.warning("Cannot decrypt cookie value, create a new fresh session")
            return Session(None, data=None, new=True, max_age=self.max_age)
        try:
            text = plain.decode("utf-8")
        except UnicodeDecodeError:
            text = ""  # not JSON either: _decode logs it
        data = self._decode(text)
        if data is None:
            return Session(None, data=None, new=True, max_age=self.max_age)
        session = Session(None, data=data, new=False, max_age=self.max_age)
        if old_key and not session.empty:
            session._changed = True  # sealed again with the current key on the way out
        return session

    async def save_session(
        self, request: Request, response: StreamResponse, session: Session
    ) -> None:
        if session.empty:
            return self.save_cookie(response, "", max_age=session.max_age)
        cookie_data = self._encode(session).encode("utf-8")
        now = int(time.time())  # as Fernet.encrypt() takes it
        box = self._fernet
        sealer = self._sealer
        if sealer is not None and sealer[0] is box:
            try:
                sealed = sealer[1].seal(cookie_data, now)
            except ValueError:  # an encryptor failed its check: Fernet from now on
                log.error("Sealing session cookies with Fernet", exc_info=True)
                self._sealer = None
                sealed = box.encrypt_at_time(cookie_data, now)
        else:  # (someone swapped _fernet: its own seal)
            sealed = box.encrypt_at_time(cookie_data, now)
        token = sealed.decode("ascii")
        if box is self._fernets[0]:
            self._remember(token, cookie_data, now, False)
        self.save_cookie(response, token, max_age=session.max_age)
