"""The ``kzgate`` commands a user types: pki, faults (and the README that quotes it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from connectors import all_faults
from connectors.wsse.pki import SYSTEMS
from gateway.paths import PROJECT_ROOT
from kzgate.cli.faults import fault_table
from kzgate.cli.main import main as kzgate


def test_readme_fault_table_is_the_one_kzgate_prints() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    begin, end = "<!-- faults:begin -->\n", "\n<!-- faults:end -->"
    quoted = readme[readme.index(begin) + len(begin) : readme.index(end)]
    assert quoted == fault_table(), "README fault table is stale: paste `kzgate faults` into it"


def test_every_fault_code_is_distinct_and_has_a_hint() -> None:
    codes = [f.code for f in all_faults()]
    assert len(codes) == len(set(codes))
    assert all(f.hint and f.title for f in all_faults())


def test_pki_init_creates_everything_once_and_revoke_updates_the_crl(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pki = tmp_path / "pki"
    assert kzgate(["pki", "init", "--dir", str(pki)]) == 0
    for system in SYSTEMS:
        assert (pki / f"{system}.pem").exists() and (pki / f"{system}.key").exists()
    assert (pki / "ca.pem").exists() and (pki / "crl.pem").exists()
    first = (pki / "EGOV_PORTAL.pem").read_bytes()
    assert kzgate(["pki", "init", "--dir", str(pki)]) == 0
    assert "nothing created" in capsys.readouterr().out
    assert (pki / "EGOV_PORTAL.pem").read_bytes() == first

    assert kzgate(["pki", "revoke", "KEDEN", "--dir", str(pki)]) == 0
    crl = x509.load_pem_x509_crl((pki / "crl.pem").read_bytes())
    keden = x509.load_pem_x509_certificate((pki / "KEDEN.pem").read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(keden.serial_number) is not None


def test_pki_init_valid_at_a_past_business_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A tester rehearsing on a virtual clock in the past gets certificates valid then."""
    pki = tmp_path / "pki"
    assert kzgate(["pki", "init", "--dir", str(pki), "--valid-at", "2025-12-31T20:00"]) == 0
    cert = x509.load_pem_x509_certificate((pki / "ELICENSE.pem").read_bytes())
    astana_evening = datetime(2025, 12, 31, 15, 0, tzinfo=UTC)  # 20:00 in Astana
    assert cert.not_valid_before_utc < astana_evening < cert.not_valid_after_utc
    assert cert.not_valid_after_utc > datetime.now(UTC) + timedelta(days=700)

    with pytest.raises(SystemExit):
        kzgate(["pki", "init", "--dir", str(pki), "--valid-at", "New Year's Eve"])
    assert "not an ISO 8601 date-time" in capsys.readouterr().err
