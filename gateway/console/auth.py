"""Operator login: one operator account from settings, a signed session cookie, and HTTP Basic
for scripts (the JSON API's callers).

The cookie is ``user|expiry|HMAC``, keyed by a digest of the configured password, so every worker
accepts it and changing the password ends every session. ``SameSite=Strict`` keeps other sites
from riding an operator's session into a console action.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time

from starlette.requests import Request

from connectors.config import Settings

COOKIE = "kzgate_console"
SESSION_SECONDS = 8 * 3600
DEFAULT_PASSWORD = "dev-console"


def default_credential_problems(settings: Settings) -> list[str]:
    """Why the console's login is unfit for production (empty when fit)."""
    if settings.console_password == DEFAULT_PASSWORD:
        return ["the console operator still has the dev password (set KZGATE_CONSOLE_PASSWORD)"]
    return []


def _key(settings: Settings) -> bytes:
    material = f"kzgate-console|{settings.console_user}|{settings.console_password}"
    return hashlib.sha256(material.encode()).digest()


def _mac(settings: Settings, payload: str) -> str:
    return hmac.new(_key(settings), payload.encode(), hashlib.sha256).hexdigest()


def credentials_match(settings: Settings, user: str, password: str) -> bool:
    # Compare both in constant time, and both always: no hint which one was wrong.
    same_user = hmac.compare_digest(user.encode(), settings.console_user.encode())
    same_password = hmac.compare_digest(password.encode(), settings.console_password.encode())
    return same_user and same_password


def session_cookie(settings: Settings, now: float | None = None) -> str:
    payload = f"{settings.console_user}|{int((now or time.time()) + SESSION_SECONDS)}"
    return f"{payload}|{_mac(settings, payload)}"


def operator_of(request: Request, settings: Settings) -> str | None:
    """The logged-in operator (cookie or HTTP Basic), or None."""
    cookie = request.cookies.get(COOKIE, "")
    user, _, rest = cookie.partition("|")
    expiry, _, mac = rest.partition("|")
    if user and expiry.isdigit() and mac:
        payload = f"{user}|{expiry}"
        if hmac.compare_digest(mac, _mac(settings, payload)) and int(expiry) > time.time():
            return user
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic" and encoded:
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        if credentials_match(settings, user, password):
            return user
    return None
