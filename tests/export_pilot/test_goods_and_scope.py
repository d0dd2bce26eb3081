"""F3 scope: the 164 codes of order Annexes 1–3, routing by prefix, CIS, exemptions, window."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest

from simulators.elicensing.export_pilot import goods
from simulators.elicensing.export_pilot.goods import Annex, Committee, entry_for
from simulators.elicensing.export_pilot.scope import (
    Evidence,
    Exemption,
    ExportCase,
    PilotWindow,
    Scope,
    classify,
)

WINDOW = PilotWindow(date(2026, 1, 1), date(2026, 12, 31))
DAY = date(2026, 11, 23)


def case(code: str, destination: str = "RU", origin: str | None = "CN", **kw) -> ExportCase:
    return ExportCase(code, destination, origin, kw.pop("on", DAY), **kw)


def test_data_is_what_the_seed_says() -> None:
    extracted = goods.extract_from_seed(goods.SEED_FILE.read_text(encoding="utf-8"))
    assert tuple(extracted) == goods.goods_list()
    counts = {a: sum(1 for e in extracted if e.annex is a) for a in Annex}
    assert counts == {Annex.INDUSTRY: 66, Annex.TELECOM: 79, Annex.CIVIL_AVIATION: 19}
    codes = [e.code for e in extracted]
    assert len(codes) == len(set(codes)) == 164  # no code in two annexes
    assert goods.overlapping(extracted) == []  # nor one entry a prefix of another
    assert sorted(c for c in codes if len(c) != 10) == ["852910", "8807"]


def test_the_bundled_seed_is_the_shared_original() -> None:
    # the copy beside the data is byte for byte the seed the lead shared (sha256 recorded)
    assert hashlib.sha256(goods.SEED_FILE.read_bytes()).hexdigest() == goods.SEED_SHA256


@pytest.mark.parametrize(
    ("code", "committee"),
    [
        ("8502204000", Committee.INDUSTRY),  # Annex 1 row 52, gensets 7.5-375 kVA
        ("8481808199", Committee.INDUSTRY),
        ("8542313000", Committee.TELECOM),  # Annex 2
        ("9014202009", Committee.TELECOM),
        ("9014202001", Committee.CIVIL_AVIATION),  # the sibling in Annex 3
        ("8481808191", Committee.CIVIL_AVIATION),
        ("8807300000", Committee.CIVIL_AVIATION),  # 4-digit heading 8807, by prefix
        ("8807100009", Committee.CIVIL_AVIATION),
        ("8529109000", Committee.CIVIL_AVIATION),  # 6-digit subheading 8529 10, by prefix
    ],
)
def test_a_code_routes_to_its_committee(code: str, committee: Committee) -> None:
    answer = classify(case(code), WINDOW)
    assert answer.scope is Scope.PERMIT_REQUIRED
    assert answer.committee is committee


def test_a_code_on_no_list_needs_no_permit() -> None:
    assert entry_for("8529909000") is None  # 8529 90 but not one of the listed subheadings
    answer = classify(case("0101210000"), WINDOW)
    assert answer.scope is Scope.NOT_LISTED and "none of Annexes 1-3" in answer.reason


@pytest.mark.parametrize("destination", ["CN", "DE", "GE", "UA", "US"])
def test_a_destination_outside_the_cis_is_outside_the_regime(destination: str) -> None:
    answer = classify(case("8502204000", destination), WINDOW)
    assert answer.scope is Scope.OUTSIDE_CIS and "order p.2" in answer.reason


@pytest.mark.parametrize(
    ("origin", "evidence", "licence", "exemption"),
    [
        ("KZ", {Evidence.CT_KZ_ORIGINAL}, None, Exemption.KZ_ORIGIN),
        ("KZ", {Evidence.PRODUCERS_REGISTER_EXTRACT}, None, Exemption.KZ_ORIGIN),
        ("BY", {Evidence.CT_1, Evidence.IMPORT_DOCUMENTS}, None, Exemption.CIS_REEXPORT),
        ("CN", {Evidence.SPECIFIC_GOODS_LICENCE}, "SG-2026-17", Exemption.SPECIFIC_GOODS_LICENCE),
        ("CN", {Evidence.PERSONAL_BAGGAGE}, None, Exemption.PERSONAL_BAGGAGE),
    ],
)
def test_each_exemption_of_order_p3(origin, evidence, licence, exemption) -> None:
    answer = classify(
        case(
            "8471500000",
            origin=origin,
            evidence=frozenset(evidence),
            specific_goods_licence=licence,
        ),
        WINDOW,
    )
    assert (answer.scope, answer.exemption) == (Scope.EXEMPT, exemption)


@pytest.mark.parametrize(
    ("origin", "evidence"),
    [
        ("CN", {Evidence.CT_KZ_ORIGINAL}),  # a CT-KZ for goods not of KZ origin
        ("BY", {Evidence.CT_1}),  # CT-1 without the import documents
        ("CN", {Evidence.CT_1, Evidence.IMPORT_DOCUMENTS}),  # not of CIS origin
        ("CN", {Evidence.SPECIFIC_GOODS_LICENCE}),  # a licence claimed but not named
    ],
)
def test_incomplete_exemption_evidence_leaves_the_permit_required(origin, evidence) -> None:
    answer = classify(case("8471500000", origin=origin, evidence=frozenset(evidence)), WINDOW)
    assert answer.scope is Scope.PERMIT_REQUIRED


def test_the_pilot_window_is_configurable_and_one_year_by_default() -> None:
    window = PilotWindow.from_env({"KZGATE_EXPORT_PILOT_START": "2025-12-05"})
    assert window == PilotWindow(date(2025, 12, 5), date(2026, 12, 4))
    assert classify(case("8502204000", on=date(2026, 12, 5)), window).scope is Scope.OUTSIDE_PILOT
    assert classify(case("8502204000", on=date(2025, 12, 4)), window).scope is Scope.OUTSIDE_PILOT
    assert classify(case("8502204000", on=date(2025, 12, 5)), window).scope is (
        Scope.PERMIT_REQUIRED
    )
