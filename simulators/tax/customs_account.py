"""The payer's personal account for customs payments «жеке шот», kept by the State Revenue
Committee (KGD), debited when customs clears a declaration.

Seed 004 Annex 5 para 8(2) (L1073-1079) has the official check "the debit of funds from the
recipient's personal account to pay customs payments and taxes", and process 9 (L1155-1158)
sends "a request to debit funds from the personal account". ``KgdCustomsPaymentDebit_v1`` (sync,
from KEDEN) answers it. Durable and exactly once: one debit row per declaration number (primary
key) written in the same transaction as the balance, so a resend after a lost answer finds it and
takes nothing twice. Opening balances come from ``fixtures/customs_accounts.json`` on first use.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from lxml import etree
from pydantic import BaseModel
from sqlalchemy import Column, MetaData, String, Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from connectors import SyncRequest
from connectors.db import UtcDateTime, create_engine, write_transaction
from simulators.kit.fixtures import load_json
from simulators.kit.payloads import field_text, request_element
from simulators.kit.provider import ProviderResult
from simulators.kit.tables import OnFirstUse
from simulators.kit.xml import add_field

DEBIT_SERVICE = "KgdCustomsPaymentDebit_v1"
NAMESPACE = "http://kzgate.kz/simulators/kgd/customs/v1"
XSD_FILE = "kgd-customs.xsd"
DEBIT_REQUEST = etree.QName(NAMESPACE, "CustomsPaymentDebitRequest")
DEBIT_RESPONSE = etree.QName(NAMESPACE, "CustomsPaymentDebitResponse")
_NSMAP = {"kgdc": NAMESPACE}

metadata = MetaData()

accounts = Table(
    "sim_kgd_customs_accounts",
    metadata,
    Column("payer_id", String, primary_key=True),
    Column("balance", String, nullable=False),  # exact decimal text
)

debits = Table(
    "sim_kgd_customs_debits",
    metadata,
    Column("declaration_number", String, primary_key=True),
    Column("payer_id", String, nullable=False),
    Column("amount", String, nullable=False),
    Column("purpose", String, nullable=False),
    Column("debited_at", UtcDateTime, nullable=False),
    Column("balance_after", String, nullable=False),
)


class DebitResult(StrEnum):
    DEBITED = "DEBITED"
    ALREADY_DEBITED = "ALREADY_DEBITED"
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
    NO_ACCOUNT = "NO_ACCOUNT"


@dataclass(frozen=True)
class Debit:
    result: DebitResult
    balance: Decimal | None
    message: str


class _Account(BaseModel, frozen=True):
    payer_id: str
    balance: Decimal


class _AccountsFile(BaseModel, frozen=True):
    why: str = ""
    accounts: list[_Account]


class CustomsAccounts:
    """The personal accounts on the simulators' database; ``clock`` dates the debits."""

    def __init__(self, database_url: str, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self._engine: AsyncEngine = create_engine(database_url)
        self._ensure = OnFirstUse(self._open_accounts)

    async def debit(self, payer: str, declaration: str, amount: Decimal, purpose: str) -> Debit:
        await self._ensure()
        async with write_transaction(self._engine) as conn:
            done = (
                await conn.execute(select(debits).where(debits.c.declaration_number == declaration))
            ).first()
            if done is not None:
                return Debit(
                    DebitResult.ALREADY_DEBITED,
                    Decimal(done._mapping["balance_after"]),
                    f"declaration {declaration} was debited already; nothing taken again",
                )
            balance = await _balance(conn, payer)
            if balance is None:
                return Debit(DebitResult.NO_ACCOUNT, None, f"{payer} has no personal account")
            if balance < amount:
                return Debit(
                    DebitResult.INSUFFICIENT_FUNDS,
                    balance,
                    f"{payer} has {balance} KZT, the customs payments are {amount} KZT",
                )
            left = balance - amount
            await conn.execute(
                accounts.update().where(accounts.c.payer_id == payer).values(balance=str(left))
            )
            await conn.execute(
                debits.insert().values(
                    declaration_number=declaration,
                    payer_id=payer,
                    amount=str(amount),
                    purpose=purpose,
                    debited_at=self.clock(),
                    balance_after=str(left),
                )
            )
        return Debit(DebitResult.DEBITED, left, f"{amount} KZT debited for {declaration}")

    async def balance(self, payer: str) -> Decimal | None:
        await self._ensure()
        async with self._engine.connect() as conn:
            return await _balance(conn, payer)

    async def close(self) -> None:
        await self._engine.dispose()

    async def _open_accounts(self) -> None:
        opening = load_json(f"{__package__}.fixtures", "customs_accounts.json", _AccountsFile)
        async with write_transaction(self._engine) as conn:
            await conn.run_sync(metadata.create_all, checkfirst=True)
            insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
            for account in opening.accounts:  # only where none is kept yet: state survives
                await conn.execute(
                    insert(accounts)
                    .values(payer_id=account.payer_id, balance=str(account.balance))
                    .on_conflict_do_nothing()
                )


async def _balance(conn: AsyncConnection, payer: str) -> Decimal | None:
    found = (
        await conn.execute(select(accounts.c.balance).where(accounts.c.payer_id == payer))
    ).scalar_one_or_none()
    return None if found is None else Decimal(found)


def routed(
    ledger: CustomsAccounts,
    other: Callable[[SyncRequest], ProviderResult | Awaitable[ProviderResult]],
) -> Callable[[SyncRequest], Awaitable[ProviderResult]]:
    """KGD's handler with the customs-payment debit in front; the rest goes to ``other``."""

    async def handle(request: SyncRequest) -> ProviderResult:
        if request.service_id != DEBIT_SERVICE:
            result = other(request)
            return await result if isinstance(result, Awaitable) else result
        element = request_element(request, XSD_FILE, DEBIT_REQUEST)
        payer = field_text(element, "payerId")
        declaration = field_text(element, "declarationNumber")
        amount = Decimal(field_text(element, "amount"))
        debit = await ledger.debit(payer, declaration, amount, field_text(element, "purpose"))
        answer = etree.Element(DEBIT_RESPONSE, nsmap=_NSMAP)
        add_field(answer, "resultCode", debit.result.value)
        add_field(answer, "payerId", payer)
        add_field(answer, "declarationNumber", declaration)
        add_field(answer, "amount", str(amount))
        add_field(answer, "balance", None if debit.balance is None else str(debit.balance))
        add_field(answer, "resultMessage", debit.message)
        return ProviderResult(answer)

    return handle


def build_debit_request(
    payer: str, declaration: str, amount: Decimal, purpose: str
) -> etree._Element:
    element = etree.Element(DEBIT_REQUEST, nsmap=_NSMAP)
    add_field(element, "payerId", payer)
    add_field(element, "declarationNumber", declaration)
    add_field(element, "amount", f"{amount:.2f}")
    add_field(element, "currency", "KZT")
    add_field(element, "purpose", purpose)
    return element
