"""What a rehearsal tells its reader: a progress line per step, a report, and JUnit XML for CI.

JUnit is written with the standard library (``xml.etree``): one ``testsuite`` per scenario file,
one ``testcase`` per step, a failed expectation as ``<failure>`` (its message names it), a step
that could not run as ``<error>``. Jenkins, GitLab and GitHub Actions read that shape.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from kzgate.rehearsal.results import ScenarioResult, StepResult

MARKS = {"passed": "ok  ", "failed": "FAIL", "error": "ERR "}


def progress_line(result: StepResult) -> str:
    key = " [key]" if result.key else ""
    text = f"  {MARKS[result.status]} {result.index:>3} {result.title}{key}"
    return f"{text}\n         → {result.message}" if result.message else text


def report(results: Sequence[ScenarioResult]) -> str:
    lines = []
    for scenario in results:
        verdict = "PASSED" if scenario.ok else "FAILED"
        lines.append(f"{verdict}  {scenario.name}  ({scenario.file}, {scenario.seconds:.1f} s)")
        lines.append(f"        rehearses: {scenario.rehearses}")
        for step in scenario.steps:
            if not step.ok:
                lines.append(f"        step {step.index} {step.kind} {step.status}: {step.message}")
            for detail in step.details:
                lines.append(f"          {detail}")
    passed = sum(1 for s in results if s.ok)
    lines.append(f"{passed} of {len(results)} scenarios passed")
    return "\n".join(lines)


def write_junit(results: Sequence[ScenarioResult], file: Path) -> None:
    suites = ET.Element("testsuites", name="kzgate scenarios")
    for scenario in results:
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=scenario.name,
            file=scenario.file,
            tests=str(len(scenario.steps)),
            failures=str(sum(1 for s in scenario.steps if s.status == "failed")),
            errors=str(sum(1 for s in scenario.steps if s.status == "error")),
            time=f"{scenario.seconds:.3f}",
        )
        properties = ET.SubElement(suite, "properties")
        ET.SubElement(properties, "property", name="rehearses", value=scenario.rehearses)
        for step in scenario.steps:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=scenario.name,
                name=f"{step.index} {step.title}",
                time=f"{step.seconds:.3f}",
            )
            if step.status == "failed":
                ET.SubElement(case, "failure", message=step.message, type="ExpectationFailed")
            elif step.status == "error":
                ET.SubElement(case, "error", message=step.message)
            if step.ok and (step.message or step.details):
                out = ET.SubElement(case, "system-out")
                out.text = "\n".join([step.message, *step.details])
    ET.indent(suites)
    file.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suites).write(file, encoding="utf-8", xml_declaration=True)
