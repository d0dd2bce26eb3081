"""Run one fuzz target under atheris (libFuzzer): ``python -m tests.fuzz.run TARGET [libFuzzer
arguments…] CORPUS_DIR…``. The gateway's and the connector kit's modules are imported
instrumented, so the fuzzer is guided by coverage of our Python code; lxml and xmlsec run as they
ship. The parser, splitter and verifier live in ``connectors``: leaving it out blinds three of the
five targets (libFuzzer then finds "no interesting inputs").

The first corpus directory also receives the seeds ``prepare()`` signs for this run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

INSTRUMENTED = ["gateway", "connectors"]

with atheris.instrument_imports(include=INSTRUMENTED):
    from tests.fuzz import targets


def main(argv: list[str]) -> None:
    name, *rest = argv[1:]
    target = targets.TARGETS[name]
    corpora = [Path(a) for a in rest if not a.startswith("-")]
    for index, seed in enumerate(targets.prepare()):
        if corpora:
            corpora[0].mkdir(parents=True, exist_ok=True)
            (corpora[0] / f"signed-seed-{index}.xml").write_bytes(seed)

    def one_input(data: bytes) -> None:
        targets.run_one(target, data)

    atheris.Setup([argv[0], *rest], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
