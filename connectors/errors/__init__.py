"""The fault taxonomy: every way the gateway can refuse or fail, with a stable code.

Each code is a contract with client developers: it never changes meaning once published. The
codes are grouped like X-Road's ``Server.ClientProxy.*`` family — ``Client.*`` when the caller must
fix something, ``Server.*`` when the gateway or a provider failed. ``legacy`` names the nearest
SmartBridge provider code (``SCE…``) for clients that already map those.

The README's fault table is printed from this module (``kzgate faults``), so the two cannot drift.

One catalogue, declared in four files: ``codes`` (what a code is), ``wire`` (HTTP, XML, SOAP and
the channel contract), ``security`` (transport and business-data signatures), ``exchange`` (who
may call what, the AsyncChannel, providers and the gateway). They are imported here in that
order, which is the order of ``all_faults()`` and of the README's table.
"""

# The import order is the declaration order: all_faults() and the README's table follow it.
# isort: off
from connectors.errors.codes import *  # noqa: F403
from connectors.errors.wire import *  # noqa: F403
from connectors.errors.security import *  # noqa: F403
from connectors.errors.exchange import *  # noqa: F403

# isort: on
from connectors.errors import codes, exchange, security, wire

__all__ = [*codes.__all__, *wire.__all__, *security.__all__, *exchange.__all__]
