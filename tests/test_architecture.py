"""The import rules of the project, checked on the source with ``ast`` (no import is executed).

The layers, bottom to top: ``connectors`` (the SHEP kit every participant uses to connect to the
gateway, and the ground every process stands on: settings, database, tracing) — then ``gateway``
and ``simulators``, peers that both stand on the kit and never on each other — then ``kzgate``, the
product (the command line and the rehearsal engine), which drives both. The rules:

- ``kit-up``: the kit imports nothing of the gateway or the simulators;
- ``gateway-sim``: the gateway imports no simulator;
- ``sim-gateway``: no simulator imports the gateway;
- ``product``: nothing of the kit, the gateway or the simulators imports the product;
- ``delivery-intake``: the gateway's delivery (``gateway/delivery/``: what goes to a provider after
  acceptance) imports nothing of its intake (``gateway/channels/``: what arrives from a caller);
- ``private``: no module imports another module's ``_private`` name;
- ``importlib``: no wiring by ``importlib`` strings (an import hidden in a string escapes all of
  the rules above).

The tree breaks none of them (issue 11 paid the last debts by lifting the command line and the
rehearsal engine into ``kzgate``); ``test_checker_catches_planted_violations`` proves each rule
fires.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("connectors", "gateway", "simulators", "kzgate")
# The layers the product stands on, which may not import it.
BELOW_PRODUCT = frozenset({"connectors", "gateway", "simulators"})
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
                if layer in BELOW_PRODUCT and top == "kzgate":
                    found.add(Violation("product", where, target))
                if where.startswith("gateway/delivery/") and _reaches_intake(target, names):
                    found.add(Violation("delivery-intake", where, target))
                for name in names:
                    if name.startswith("_") and not name.startswith("__"):
                        found.add(Violation("private", where, f"{target}:{name}"))
            if layer in PACKAGES and _uses_importlib(tree):
                found.add(Violation("importlib", where, "importlib"))
    return found


def test_imports_only_point_down() -> None:
    found = sorted(violations(ROOT))
    assert not found, "imports breaking the layering:\n" + "\n".join(map(str, found))


def test_checker_catches_planted_violations(tmp_path: Path) -> None:
    planted = {
        "connectors/wire.py": "from gateway.registry import Registry\n",
        "gateway/app.py": "import simulators.tax.service\n",
        "gateway/rel/__init__.py": "",
        "gateway/rel/a.py": "from ..helpers import _secret\n",
        "simulators/tax/service.py": "from gateway.soap import sync\n",
        "simulators/wiring.py": "import importlib\nimportlib.import_module('gateway.x')\n",
        "examples/demo.py": "from connectors.client import _sign\n",
        "gateway/console/pages.py": "from kzgate.cli.catalogue import catalogue\n",
        "simulators/kit/rehearse.py": "from kzgate import rehearsal\n",
        "connectors/product.py": "import kzgate.cli.main\n",
        # the product stands on both sides: no violation
        "kzgate/cli/serve.py": "from gateway.assembly import build\nimport simulators.tax\n",
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
        Violation("product", "gateway/console/pages.py", "kzgate.cli.catalogue"),
        Violation("product", "simulators/kit/rehearse.py", "kzgate"),
        Violation("product", "connectors/product.py", "kzgate.cli.main"),
        Violation("delivery-intake", "gateway/delivery/push.py", "gateway.channels.context"),
        Violation("delivery-intake", "gateway/delivery/rel.py", "gateway"),
    }
