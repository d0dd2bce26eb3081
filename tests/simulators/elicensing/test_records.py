"""E-licensing's own registers: consistent with the GBDUL fixtures, and their look-ups."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from simulators.elicensing.forms import ActivityLicenceReference
from simulators.elicensing.records import (
    FIXTURES_DIR,
    ActivityLicenceStatus,
    QuotaKind,
    default_records,
    load_records,
)
from tests.simulators.elicensing.samples import (
    applicant,
    export_application,
    import_application,
    organizations,
)


def test_every_holder_is_a_gbdul_company_and_valid_ones_are_active():
    orgs = organizations()
    for licence in default_records().activity_licences:
        assert licence.holder in orgs, licence.number
        if licence.status is ActivityLicenceStatus.VALID:
            assert orgs[licence.holder]["status"] == "ACTIVE", licence.number


def test_fixtures_cover_the_refusal_scenarios():
    records = default_records()
    statuses = {lic.status for lic in records.activity_licences}
    assert statuses == set(ActivityLicenceStatus)
    exhausted = [
        q for q in records.quotas for a in q.allocations if a.year == 2026 and a.remaining == 0
    ]
    assert exhausted and exhausted[0].kind is QuotaKind.TARIFF_QUOTA
    assert any(q.allocation(2026) is None for q in records.quotas)
    assert records.obligations and records.eaeu_rules.codes_requiring_basis


def test_activity_licence_is_found_by_holder_and_activity_without_a_reference():
    app = import_application(
        applicant=applicant("180240638671"),
        goods=import_application().goods.model_copy(update={"commodity_code": "2914110000"}),
    )
    check = default_records().check_activity_licence(app)
    assert check.required and check.required_activity == "PRECURSORS"
    assert check.record is not None and check.record.number == "AL-2019-000057"


def test_activity_licence_is_found_by_the_number_given():
    app = export_application(activity_licence=ActivityLicenceReference(number="AL-2022-000318"))
    check = default_records().check_activity_licence(app)
    assert not check.required  # leather needs no activity licence …
    assert check.record is not None and check.record.holder == "001040754510"  # … but it is read


def test_quota_is_per_direction_and_longest_prefix():
    records = default_records()
    wheat = export_application().goods.model_copy(update={"commodity_code": "1001990000"})
    export_check = records.check_quota(export_application(goods=wheat), 2026)
    assert export_check.restricted and export_check.remaining == Decimal("250000")
    assert not records.check_quota(import_application(goods=wheat), 2026).restricted
    assert records.check_quota(export_application(goods=wheat), 2030).remaining is None


def test_a_fixture_with_an_unknown_key_is_refused(tmp_path: Path):
    names = ("activity_licences", "quotas", "international_obligations", "eaeu_rules")
    for name in (*names, "basis_documents", "surveillance_goods"):
        (tmp_path / f"{name}.json").write_text((FIXTURES_DIR / f"{name}.json").read_text())
    assert load_records(tmp_path) == default_records()
    rules = json.loads((tmp_path / "eaeu_rules.json").read_text())
    rules["max_validity_month"] = 6
    (tmp_path / "eaeu_rules.json").write_text(json.dumps(rules))
    with pytest.raises(ValidationError):
        load_records(tmp_path)
