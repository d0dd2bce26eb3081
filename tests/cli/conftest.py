"""The licensing tests' in-process world, for the commands that run a flow (``kzgate demo``)."""

from __future__ import annotations

from tests.licensing.conftest import licensing_pki, world

__all__ = ["licensing_pki", "world"]
