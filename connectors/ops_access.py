"""The operator's side of a simulator's ``/ops/*`` guard: the token both ends read, and the headers
an operator's tool sends with it.

The guard itself (who may change a simulator's clock, faults or hostile mode) is the simulators'
own, in ``simulators/kit/ops.py``; the tools that call it — the web console, ``kzgate sim``,
``kzgate scenario``, the officer — stand on the gateway or above and may not import a simulator,
so the one thing both ends share, where the token comes from, lives here on the ground.
"""

from __future__ import annotations

import os

__all__ = ["OPS_TOKEN_VARIABLE", "operator_headers", "ops_token"]

OPS_TOKEN_VARIABLE = "KZGATE_OPS_TOKEN"


def ops_token() -> str | None:
    """The operator's token from the environment, None when none is configured."""
    return os.environ.get(OPS_TOKEN_VARIABLE) or None


def operator_headers() -> dict[str, str]:
    """What an operator's tool (kzgate sim, the console) sends with ops calls: the bearer token
    when one is configured, so the same tool works beyond loopback."""
    token = ops_token()
    return {"Authorization": f"Bearer {token}"} if token else {}
