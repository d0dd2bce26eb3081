"""The import rules of the project, checked on the source with ``ast`` (no import is executed).

The layers, bottom to top: ``connectors`` (the SHEP kit every participant uses to connect to the
gateway) — then ``gateway`` and ``simulators``, peers that both stand on the kit and never on each
other. The rules:

- ``kit-up``: the kit imports nothing of the gateway or the simulators;
- ``gateway-sim``: the gateway imports no simulator;
- ``sim-gateway``: no simulator imports the gateway;
- ``delivery-intake``: the gateway's delivery (``gateway/delivery/``: what goes to a provider after
  acceptance) imports nothing of its intake (``gateway/channels/``: what arrives from a caller);
- ``private``: no module imports another module's ``_private`` name;
- ``importlib``: no wiring by ``importlib`` strings (an import hidden in a string escapes all of
  the rules above).

``KNOWN_DEBTS`` lists the violations that existed when the rules were written (issue 11); the
test fails on any violation not listed *and* on a listed one that is gone, so the list can only
shrink. ``test_checker_catches_planted_violations`` proves each rule fires.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("connectors", "gateway", "simulators")
# The private-name rule holds for every Python file we ship or run, not only the packages.
PRIVATE_SCOPE = (*PACKAGES, "examples", "bench", "scripts")


@dataclass(frozen=True, order=True)
class Violation:
    rule: str
    module: str  # the importing file, relative to the root
    target: str  # what it imports (module, or module:name)


def _imports(tree: ast.AST, module: str) -> list[tuple[str, list[str]]]:
    """(imported module, imported names) for every import statement, relative ones resolved."""
    found: list[tuple[str, list[str]]] = []
    package = module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((base, [alias.name for alias in node.names]))
    return found


def _uses_importlib(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in {"import_module", "__import__"}:
                return True
    return False


def _top(dotted: str) -> str:
    return dotted.split(".", 1)[0]


def _reaches_intake(target: str, names: list[str]) -> bool:
    """Whether an import reaches ``gateway.channels`` (``from gateway import channels`` too)."""
    intake = "gateway.channels"
    return (
        target == intake
        or target.startswith(intake + ".")
        or (target == "gateway" and "channels" in names)
    )


def violations(root: Path) -> set[Violation]:
    """Every breach of the rules in the tree under ``root``."""
    found: set[Violation] = set()
    for scope in PRIVATE_SCOPE:
        for path in sorted((root / scope).rglob("*.py")):
            rel = path.relative_to(root)
            module = ".".join(rel.with_suffix("").parts).removesuffix(".__init__")
            if rel.name == "__init__.py":
                module += ".__init__"  # so that relative imports resolve inside the package
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(rel))
            layer = rel.parts[0]
            where = rel.as_posix()
            for target, names in _imports(tree, module):
                top = _top(target)
                if layer == "connectors" and top in {"gateway", "simulators"}:
                    found.add(Violation("kit-up", where, target))
                if layer == "gateway" and top == "simulators":
                    found.add(Violation("gateway-sim", where, target))
                if layer == "simulators" and top == "gateway":
                    found.add(Violation("sim-gateway", where, target))
                if where.startswith("gateway/delivery/") and _reaches_intake(target, names):
                    found.add(Violation("delivery-intake", where, target))
                for name in names:
                    if name.startswith("_") and not name.startswith("__"):
                        found.add(Violation("private", where, f"{target}:{name}"))
            if layer in PACKAGES and _uses_importlib(tree):
                found.add(Violation("importlib", where, "importlib"))
    return found


# Violations that predate the rules (issue 11), to be paid off; an entry that no longer occurs
# fails the test, so that it is removed with the code that paid it. The rehearsal runner's ties
# (issue 10, simulators/rehearsal <-> gateway/cli) landed beside the rules: a tester's tool
# between the CLI and the simulators, whose place is decided with the roster (issue 11 item 3).
_DEBTS = """
gateway-sim  gateway/cli/demo.py simulators.customs.payload
gateway-sim  gateway/cli/demo.py simulators.elicensing
gateway-sim  gateway/cli/demo.py simulators.elicensing.facts
gateway-sim  gateway/cli/demo.py simulators.elicensing.rules_fee
gateway-sim  gateway/cli/demo.py simulators.elicensing.settings
gateway-sim  gateway/cli/demo.py simulators.elicensing.store
gateway-sim  gateway/cli/demo.py simulators.legal_entities.payload
gateway-sim  gateway/cli/demo.py simulators.payments.payload
gateway-sim  gateway/cli/demo.py simulators.tax.payload
gateway-sim  gateway/cli/demo_declaration.py simulators.customs.declaration_payload
gateway-sim  gateway/cli/demo_declaration.py simulators.customs.declarations
gateway-sim  gateway/cli/demo_declaration.py simulators.customs.payload
gateway-sim  gateway/cli/demo_declaration.py simulators.elicensing
gateway-sim  gateway/cli/demo_declaration.py simulators.kit.calendar
gateway-sim  gateway/cli/demo_declaration.py simulators.kit.personal_keys
gateway-sim  gateway/cli/demo_export_permit.py simulators.customs.payload
gateway-sim  gateway/cli/demo_export_permit.py simulators.elicensing.export_pilot
gateway-sim  gateway/cli/demo_export_permit.py simulators.elicensing.export_pilot.staff
gateway-sim  gateway/cli/demo_export_permit.py simulators.elicensing.export_pilot.goods
gateway-sim  gateway/cli/demo_export_permit.py simulators.elicensing.export_pilot.samples
gateway-sim  gateway/cli/demo_export_permit.py simulators.elicensing.export_pilot.service
gateway-sim  gateway/cli/demo_export_permit.py simulators.kit.clock
gateway-sim  gateway/cli/serve.py simulators.kit.clock
gateway-sim  gateway/cli/scenario.py simulators.rehearsal.engine
gateway-sim  gateway/cli/scenario.py simulators.rehearsal.loader
gateway-sim  gateway/cli/scenario.py simulators.rehearsal.model
gateway-sim  gateway/cli/scenario.py simulators.rehearsal.report
sim-gateway  simulators/rehearsal/engine.py gateway.cli.catalogue
sim-gateway  simulators/rehearsal/filings.py gateway.cli.demo
sim-gateway  simulators/rehearsal/filings.py gateway.cli.demo_declaration
sim-gateway  simulators/rehearsal/engine.py gateway.cli.send
"""
KNOWN_DEBTS = {Violation(*line.split()) for line in _DEBTS.strip().splitlines()}


def test_imports_only_point_down() -> None:
    found = violations(ROOT)
    new = sorted(found - KNOWN_DEBTS)
    paid = sorted(KNOWN_DEBTS - found)
    assert not new, "imports breaking the layering:\n" + "\n".join(map(str, new))
    assert not paid, "paid debts still listed in KNOWN_DEBTS:\n" + "\n".join(map(str, paid))


def test_checker_catches_planted_violations(tmp_path: Path) -> None:
    planted = {
        "connectors/wire.py": "from gateway.registry import Registry\n",
        "gateway/app.py": "import simulators.tax.service\n",
        "gateway/rel/__init__.py": "",
        "gateway/rel/a.py": "from ..helpers import _secret\n",
        "simulators/tax/service.py": "from gateway.soap import sync\n",
        "simulators/wiring.py": "import importlib\nimportlib.import_module('gateway.x')\n",
        "examples/demo.py": "from connectors.client import _sign\n",
        "gateway/delivery/__init__.py": "",
        "gateway/delivery/push.py": "from gateway.channels.context import GatewayContext\n",
        "gateway/delivery/rel.py": "from .. import channels\n",
    }
    for name, text in planted.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert violations(tmp_path) == {
        Violation("kit-up", "connectors/wire.py", "gateway.registry"),
        Violation("gateway-sim", "gateway/app.py", "simulators.tax.service"),
        Violation("private", "gateway/rel/a.py", "gateway.helpers:_secret"),
        Violation("sim-gateway", "simulators/tax/service.py", "gateway.soap"),
        Violation("importlib", "simulators/wiring.py", "importlib"),
        Violation("private", "examples/demo.py", "connectors.client:_sign"),
        Violation("delivery-intake", "gateway/delivery/push.py", "gateway.channels.context"),
        Violation("delivery-intake", "gateway/delivery/rel.py", "gateway"),
    }
