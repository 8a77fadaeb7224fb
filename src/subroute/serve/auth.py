"""Optional bearer-token auth.

When the server has a token (by default the environment variable SUBROUTE_SERVER_TOKEN),
every request except `GET /healthz` must carry ``Authorization: Bearer <token>``; any other
request gets 401 and a fixed body, before its body is read or its model looked up, so an
unauthenticated client learns nothing about the pool. /healthz stays open so load balancers
and orchestrators can probe liveness without a secret; it says only "ok".
The token is compared in constant time and never logged or echoed.
"""

from __future__ import annotations

import hmac
import os

TOKEN_ENV = "SUBROUTE_SERVER_TOKEN"
OPEN_PATHS = frozenset({"/healthz"})


def token_from_env() -> str | None:
    return os.environ.get(TOKEN_ENV) or None


def authorized(header: str | None, token: str) -> bool:
    if not header:
        return False
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(value.strip().encode(), token.encode())
