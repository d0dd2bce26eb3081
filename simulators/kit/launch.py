"""One simulated system as a process of its own: ``python -m simulators.<package> --port N``.

Each simulator package's ``__main__`` hands its app factory to ``serve``; ``kzgate up`` starts one
such process per roster entry (``connectors.roster``) with the host and port the roster gives it.
The launcher talks to the simulators through the process boundary only, so the gateway never
imports them.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

import uvicorn
from starlette.applications import Starlette

from connectors.roster import RosterEntry


def serve(
    entry: RosterEntry, create_app: Callable[[], Starlette], argv: Sequence[str] | None = None
) -> None:
    """Build the app (its settings from the environment) and serve it until stopped."""
    parser = argparse.ArgumentParser(
        prog=f"python -m {entry.package}",
        description=f"Serve the simulated {entry.system_id} alone (kzgate up starts it so).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--port",
        type=int,
        default=entry.port(8100),
        help="port to listen on (default: the roster's, on the default base port 8100)",
    )
    args = parser.parse_args(argv)
    uvicorn.run(create_app(), host=args.host, port=args.port, log_level="warning")
