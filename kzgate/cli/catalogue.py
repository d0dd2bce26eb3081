"""``kzgate catalogue``: the console's catalogue page on the command line."""

from __future__ import annotations

import argparse
from typing import Any

import httpx2

from connectors.config import Settings
from gateway.console.systems import SystemsView
from gateway.registry import load_registry
from kzgate.cli.output import add_json_option, print_json, print_table


def register(sub: Any) -> None:
    parser = sub.add_parser("catalogue", help="systems, services, modes, WSDLs, who may call what")
    add_json_option(parser)
    parser.set_defaults(func=run)


def ops_client() -> httpx2.AsyncClient:
    """The client that reaches the gateway and the simulators (tests route it in-process)."""
    return httpx2.AsyncClient()


def systems_view(settings: Settings, http: httpx2.AsyncClient | None = None) -> SystemsView:
    registry = load_registry(
        settings.pki_dir,
        catalogue=settings.catalogue_path,
        host=settings.host,
        simulator_base_port=settings.simulator_base_port,
    )
    return SystemsView(registry, settings, http or ops_client())


def run(args: argparse.Namespace) -> int:
    settings = Settings()
    data = systems_view(settings).catalogue()
    if args.json:
        print_json(data)
        return 0
    print_table(
        "systems",
        ["system", "what it is", "receives", "address"],
        [[s["systemId"], s["description"], s["receives"], s["url"]] for s in data["systems"]],
    )
    print_table(
        "services",
        ["serviceId", "provider", "mode", "allowed callers", "WSDL"],
        [
            [
                s["serviceId"],
                s["provider"],
                s["mode"],
                ", ".join(s["allowedSenders"]),
                settings.gateway_url + s["wsdl"],
            ]
            for s in data["services"]
        ],
    )
    return 0
