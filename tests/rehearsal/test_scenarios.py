"""Rehearsals as files, as a tester in a CI pipeline uses them: ``kzgate scenario run`` against one
system started for this module, every example scenario green, each one red when its key
expectation is inverted, a bad file refused before anything starts, and a wait that never ends
stopped at its business-time bound."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from gateway.paths import PROJECT_ROOT
from kzgate.cli.scenario import started_system
from kzgate.rehearsal.model import EXPECTATION_KINDS, scenario_schema
from tests.pki import make_test_pki

# Starting two systems and running the whole library (green and inverted) is one fixture; its
# share of the wait falls on whichever test asks first.
pytestmark = [pytest.mark.timeout(900), pytest.mark.slow]

EXAMPLES = PROJECT_ROOT / "examples" / "scenarios"
# A revoked certificate stays revoked on that system: that scenario runs last.
SCENARIOS = sorted(EXAMPLES.glob("*.yaml"), key=lambda f: (f.name.startswith("revoked"), f.name))
INVERTED_OUTCOME = {"ISSUED": "REFUSED", "REFUSED": "ISSUED", "NOT_ISSUED": "ISSUED"}
INVERTED_DECLARATION = {"FORMATION_REFUSED": "RELEASE_PERMITTED"}


def kzgate(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kzgate.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=800,
        cwd=PROJECT_ROOT,
    )


@dataclass
class Runs:
    """The library run green on one system and inverted on another, at the same time."""

    green: subprocess.CompletedProcess[str]
    green_junit: Path
    inverted: subprocess.CompletedProcess[str]
    inverted_junit: Path
    named: dict[str, str]  # scenario name → the text its inverted key expectation's failure has


@pytest.fixture(scope="module")
def systems(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[dict[str, str]]]:
    """Two systems: the inverted runs get one of their own, because a
    quota drawn to zero or a revoked certificate cannot be undone and each scenario must meet
    the state it was written for."""
    # One after the other: two `kzgate up` starting at once on two busy cores may miss their
    # readiness bound. One gateway worker each: the scenarios do not need more, and on a CI
    # machine running four test workers every extra process slows every other test.
    with ExitStack() as stack, pytest.MonkeyPatch.context() as env:
        env.setenv("KZGATE_WORKERS", "1")
        started = []
        for name in ("green", "inverted"):
            var = tmp_path_factory.mktemp(name)
            make_test_pki(var / "pki")  # valid at every business moment the scenarios pin
            started.append({**os.environ, **stack.enter_context(started_system(var))})
        yield started


@pytest.fixture(scope="module")
def runs(systems: list[dict[str, str]], tmp_path_factory: pytest.TempPathFactory) -> Runs:
    work = tmp_path_factory.mktemp("runs")
    named: dict[str, str] = {}
    inverted_files = []
    for file in SCENARIOS:
        scenario = yaml.safe_load(file.read_text(encoding="utf-8"))
        named[scenario["name"]] = invert(key_expectation(scenario))
        inverted = work / file.name
        inverted.write_text(yaml.safe_dump(scenario, allow_unicode=True), encoding="utf-8")
        inverted_files.append(str(inverted))
    green_junit, inverted_junit = work / "green.xml", work / "inverted.xml"
    with ThreadPoolExecutor(2) as pool:
        green = pool.submit(
            kzgate, systems[0], "scenario", "run", "--junit", str(green_junit),
            *map(str, SCENARIOS),
        )  # fmt: skip
        inverted = pool.submit(
            kzgate, systems[1], "scenario", "run", "--junit", str(inverted_junit),
            *inverted_files,
        )  # fmt: skip
        return Runs(green.result(), green_junit, inverted.result(), inverted_junit, named)


def expectations(steps: list[dict]) -> Iterator[dict]:
    for step in steps:
        if "repeat" in step:
            yield from expectations(step["repeat"]["steps"])
        for kind in EXPECTATION_KINDS:
            if kind in step:
                yield step[kind]


def key_expectation(scenario: dict) -> dict:
    keys = [e for e in expectations(scenario["steps"]) if e.get("key")]
    assert len(keys) == 1, "each example marks exactly one key expectation"
    return keys[0]


def invert(expectation: dict) -> str:
    """Turn the key expectation into its opposite; return the text the failure must name."""
    if expectation.get("deadline") == "missed":
        # A scenario that expects a miss exists to show it; "met" rides along with an outcome
        # that is the point (R1, R6), so there the outcome is what turns.
        expectation["deadline"] = "met"
        return "deadline missed, expected met"
    if "outcome" in expectation:
        expectation["outcome"] = INVERTED_OUTCOME[expectation["outcome"]]
        expectation.pop("grounds", None)
        return f"expected {expectation['outcome']}"
    if "status" in expectation:
        expectation["status"] = INVERTED_DECLARATION[expectation["status"]]
        expectation.pop("reason", None)
        return f"expected {expectation['status']}"
    if "service" in expectation and "of" not in expectation:  # expect_dead_letter
        expectation["sender"] = "GBDUL"  # a provider that never sends a stage event
        return f"a dead letter of {expectation['service']}"
    if "code" in expectation:
        expectation["code"] = "Client.Security.NotTrusted"
        return "expected fault Client.Security.NotTrusted"
    field, value = next(iter(expectation["fields"].items()))
    expectation["fields"][field] = f"NOT-{value}"
    return f"expected 'NOT-{value}'"


def test_the_published_schema_is_current() -> None:
    published = json.loads((EXAMPLES / "scenario.schema.json").read_text(encoding="utf-8"))
    assert published == scenario_schema(), "run: kzgate scenario schema > " + str(
        (EXAMPLES / "scenario.schema.json").relative_to(PROJECT_ROOT)
    )


def test_every_example_tells_the_editor_its_schema() -> None:
    # A tester copies an example to start a scenario: the copy brings completion and checking
    # in any editor with the YAML language server (VS Code, JetBrains, Neovim).
    line = "# yaml-language-server: $schema=./scenario.schema.json"
    missing = [f.name for f in SCENARIOS if f.read_text(encoding="utf-8").splitlines()[0] != line]
    assert not missing, f"the first line of each example is {line!r}"
    assert (EXAMPLES / "scenario.schema.json").is_file()


def test_every_example_names_the_seed_paragraph_and_checks() -> None:
    assert len(SCENARIOS) >= 17
    done = kzgate(dict(os.environ), "scenario", "check", *map(str, SCENARIOS))
    assert done.returncode == 0, done.stderr
    for file in SCENARIOS:
        scenario = yaml.safe_load(file.read_text(encoding="utf-8"))
        assert "seed 00" in scenario["rehearses"], f"{file.name} names the seed it rehearses"
        key_expectation(scenario)


def test_a_wait_that_never_ends_stops_at_its_bound(
    systems: list[dict[str, str]], tmp_path: Path
) -> None:
    # A licence number KEDEN never gets: the expectation can only be stopped by its bound. It runs
    # before the library, whose last scenario revokes the portal's certificate.
    never = tmp_path / "never.yaml"
    never.write_text(
        "name: waits forever\n"
        "rehearses: seed 002 §7\n"
        "steps:\n"
        "  - clock: {set: '2026-11-23T10:00:00+05:00'}\n"
        "  - expect_record:\n"
        "      number: KZ-IM-2026-999999\n"
        "      fields: {status: VALID}\n"
        "      within: {hours: 2}\n"
        "      tick: {hours: 1}\n",
        encoding="utf-8",
    )
    junit = tmp_path / "never.xml"
    done = kzgate(systems[0], "scenario", "run", "--junit", str(junit), str(never))
    assert done.returncode == 1
    assert "not seen within 2 hours of business time" in done.stdout
    failure = ET.parse(junit).getroot().find("testsuite/testcase/failure")
    assert failure is not None and "KEDEN record" in failure.get("message", "")


def test_every_example_runs_green(runs: Runs) -> None:
    done = runs.green
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(SCENARIOS)} of {len(SCENARIOS)} scenarios passed" in done.stdout
    suites = ET.parse(runs.green_junit).getroot().findall("testsuite")
    assert len(suites) == len(SCENARIOS)
    assert all(s.get("failures") == "0" and s.get("errors") == "0" for s in suites)


def test_the_load_rehearsal_reports_throughput_and_deadline_misses(runs: Runs) -> None:
    assert re.search(r"12 runs, 4 at a time, in [\d.]+ s: [\d.]+ runs/s; 12 decided, 0 deadline "
                     r"misses", runs.green.stdout), runs.green.stdout  # fmt: skip


def test_every_example_fails_when_its_key_expectation_is_inverted(runs: Runs) -> None:
    done = runs.inverted
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"0 of {len(SCENARIOS)} scenarios passed" in done.stdout
    report = done.stdout.split("\n\n")[-1]
    for suite in ET.parse(runs.inverted_junit).getroot().findall("testsuite"):
        name = suite.get("name")
        failures = [f.get("message") or "" for f in suite.iter("failure")]
        assert len(failures) == 1, f"{name}: exactly the key expectation fails: {failures}"
        assert runs.named[name] in failures[0], (name, failures[0])
        assert failures[0] in report, f"the report names the failed expectation of {name}"


def test_an_invalid_file_names_line_and_field_and_starts_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: misspelt\n"
        "rehearses: seed 002 LR p.7(6)\n"
        "steps:\n"
        "  - pay_fee: {}\n"
        "  - file_licence:\n"
        "      as: loaders\n"
        "      templte: import-licence\n",
        encoding="utf-8",
    )
    done = kzgate(dict(os.environ), "scenario", "run", "--start", str(bad))
    assert done.returncode == 1
    assert "line 7: steps[1].file_licence.templte: unknown field" in done.stderr
    assert "started a system" not in done.stdout, "nothing is started for an invalid file"


def checked(tmp_path: Path, scenario: str) -> subprocess.CompletedProcess[str]:
    """``kzgate scenario check`` of ``scenario``, written to a file as a tester would."""
    file = tmp_path / "scenario.yaml"
    file.write_text(scenario, encoding="utf-8")
    return kzgate(dict(os.environ), "scenario", "check", str(file))


def test_a_reference_to_a_filing_never_made_names_its_line_and_field(tmp_path: Path) -> None:
    # Checked before anything runs: a misspelt alias would otherwise fail only mid-run, after a
    # system was started and half the scenario played.
    done = checked(
        tmp_path,
        "name: expects the decision of a filing never made\n"
        "rehearses: seed 002 LR p.5\n"
        "steps:\n"
        "  - pay_fee: {}\n"
        "  - file_licence: {as: loaders}\n"
        "  - expect_decision:\n"
        "      of: nobody\n"
        "      outcome: ISSUED\n",
    )
    assert done.returncode == 1
    assert "line 7: steps[2].expect_decision.of: 'nobody': no step before this one" in done.stderr
    assert "(names given so far: loaders)" in done.stderr


def test_the_names_given_inside_a_repeat_are_its_runs_own(tmp_path: Path) -> None:
    # Each run files its own application under the inner alias: after the repeat, which run's
    # would the name mean? None: it is unknown there, as a name given later is before it.
    done = checked(
        tmp_path,
        "name: uses a repeat's name after it, and a name before it is given\n"
        "rehearses: seed 002 LR p.5\n"
        "steps:\n"
        "  - file_declaration: {as: export, against: leather, quantity: 5}\n"
        "  - file_licence: {as: leather, template: export-licence}\n"
        "  - repeat:\n"
        "      count: 2\n"
        "      steps:\n"
        "        - file_licence: {as: loaders}\n"
        "        - expect_decision: {of: loaders, outcome: ISSUED}\n"
        "        - expect_record: {of: leather, fields: {status: VALID}}\n"
        "  - expect_cabinet: {of: loaders}\n",
    )
    assert done.returncode == 1
    problems = [line.split(": ", 1)[1] for line in done.stderr.splitlines()]
    assert [p.split(": '")[0] for p in problems] == [
        "line 4: steps[0].file_declaration.against",
        "line 12: steps[3].expect_cabinet.of",
    ], done.stderr
