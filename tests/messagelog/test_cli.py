"""``kzgate log`` end to end: the database URL comes from KZGATE_DATABASE_URL, as in production."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from connectors.db import create_engine
from gateway.messagelog import Direction, MessageLog, Outcome
from gateway.storage import create_schema
from kzgate.cli import log as log_cli
from tests.messagelog.hops import envelope, hop
from tests.pki import make_test_pki


def kzgate(*argv: str) -> int:
    # The same wiring as kzgate.cli.main, limited to this module's commands.
    parser = argparse.ArgumentParser(prog="kzgate")
    log_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["log", *argv])
    return int(args.func(args))


async def _seed(url: str) -> None:
    engine = create_engine(url)
    await create_schema(engine)
    async with MessageLog(engine) as log:
        await log.append(hop(1))
        await log.append(
            hop(2, direction=Direction.FAULT_OUT, outcome=Outcome.REJECTED, fault_code="Client.X")
        )
        await log.append(hop(3, correlation_id="other"))
    await engine.dispose()


async def _sql(url: str, statement: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text(statement))
    await engine.dispose()


@pytest.fixture
def seeded(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.setenv("KZGATE_DATABASE_URL", db_url)
    # `log verify` checks the checkpoints' signatures against the CA of KZGATE_PKI_DIR.
    monkeypatch.setenv("KZGATE_PKI_DIR", str(make_test_pki(tmp_path / "pki", ["GATEWAY"])))
    asyncio.run(_seed(db_url))
    return db_url


def test_verify_exits_0_when_intact_and_1_after_tampering(
    seeded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kzgate("verify") == 0
    assert "intact: 3 records" in capsys.readouterr().out

    asyncio.run(_sql(seeded, "UPDATE messagelog_records SET sender_id = 'KEDEN' WHERE seq = 2"))
    assert kzgate("verify") == 1
    out = capsys.readouterr().out
    assert "TAMPERED: 1 problem(s)" in out
    assert ", seq 2: edited-record — columns do not match the record's hash" in out


def test_show_prints_each_hop_of_a_correlation(
    seeded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kzgate("show", "--correlation-id", "corr-1") == 0
    out = capsys.readouterr().out
    assert out.count("\n#") + out.startswith("#") == 2
    assert "#1  2025-03-21T09:30:00.123457Z  request-in" in out
    assert "ELICENSE → GBDUL" in out
    assert "rejected (Client.X)" in out
    assert f"{len(envelope(2))} bytes, sha256 " in out
    assert "msg-3" not in out


def test_show_bodies_prints_the_exact_bytes(
    seeded: str, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    assert kzgate("show", "--message-id", "msg-1", "--bodies") == 0
    assert envelope(1) in capsysbinary.readouterr().out


def test_show_without_matches_or_criteria_fails(seeded: str) -> None:
    assert kzgate("show", "--message-id", "nope") == 1
    assert kzgate("show") == 2


def test_database_url_option_overrides_the_environment(
    seeded: str, monkeypatch: pytest.MonkeyPatch, tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KZGATE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    assert kzgate("verify") == 0
    assert "intact: 0 records" in capsys.readouterr().out
    assert kzgate("verify", "--database-url", seeded) == 0
    assert "intact: 3 records" in capsys.readouterr().out


def test_the_kzgate_entry_point_reports_tampering(seeded: str) -> None:
    from kzgate.cli.main import main

    assert main(["log", "verify"]) == 0
    asyncio.run(_sql(seeded, "DELETE FROM messagelog_records WHERE seq = 3"))
    assert main(["log", "verify"]) == 1
