"""PEP (ПШЭП): seed payments agree with GBDUL and KGD, the coded rules on a real database,
persistence across app instances, the payload contract, and one payment end to end through
the gateway."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import zeep
from lxml import etree

from connectors import KZ_TZ, TransportKey, errors
from simulators.kit.identifiers import is_valid_bin
from simulators.legal_entities.payload import default_store as organizations
from simulators.payments import service
from simulators.payments.fixtures import generate
from simulators.payments.models import Payment, PaymentOrder, PaymentStatus
from simulators.payments.payload import (
    NAMESPACE,
    ConfirmQuery,
    PayerQuery,
    PayloadError,
    build_confirm_request,
    build_confirm_response,
    build_create_request,
    build_create_response,
    build_lookup_request,
    build_lookup_response,
    parse_request,
    schema,
)
from simulators.payments.rules import (
    ConfirmResultCode,
    CreateResultCode,
    LookupResultCode,
    confirm_payment,
    create_payment,
    payments_by_payer,
)
from simulators.payments.store import FIXTURES, PaymentStore, fixture_payments
from simulators.tax.store import shipped_mrp_table
from tests.simulators.registries import running_gateway_with_registries
from tests.simulators.sync_calls import call, client_app, fault_of

WSDL = Path(__file__).resolve().parents[2] / "wsdl" / "PEP.wsdl"
FEE = "LICENCE_FEE_IMPORT_EXPORT"
FEE_2026 = Decimal("43250.00")
NOW = datetime(2026, 4, 1, 6, 0, tzinfo=UTC)


def company(core: str) -> str:
    return next(org.bin for org in organizations() if f"«{core}»" in org.short_name)


PAID = company("Алтын Дала Агро")
WRONG_AMOUNT = company("Жетісу Логистик")
ONLY_CREATED = company("Алатау Фарм")
PAID_LAST_YEAR = company("Каспий Мунай Сервис")
NEW_PAYER = company("Сарыарқа Энерго")  # no seed payment


def order(reference: str = "APP-1", amount: str = "43250", **changes: str) -> PaymentOrder:
    values = {"payer_id": NEW_PAYER, "purpose_code": FEE, "amount": amount, "reference": reference}
    return PaymentOrder(**{**values, **changes})


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[PaymentStore]:
    payments = PaymentStore(db_url)
    yield payments
    await payments.close()


class Untouchable:
    """A store for orders that must be refused before anything is stored."""

    async def add(self, payment: Payment) -> tuple[Payment, bool]:
        raise AssertionError("a refused order reached the store")


# --- seed fixtures --------------------------------------------------------------------------


def test_seed_payers_are_gbdul_companies_and_the_2026_fee_is_10_kgd_mrp() -> None:
    bins = {org.bin for org in organizations()}
    mrp_2026 = shipped_mrp_table().find(2026).amount
    assert 10 * mrp_2026 == FEE_2026
    seeds = fixture_payments()
    assert all(is_valid_bin(p.payer_id) and p.payer_id in bins for p in seeds)
    confirmed_2026 = [
        p for p in seeds if p.status is PaymentStatus.CONFIRMED and p.payment_date.year == 2026
    ]
    assert sum(p.amount == FEE_2026 for p in confirmed_2026) >= 3
    assert [p.payer_id for p in confirmed_2026 if p.amount != FEE_2026] == [WRONG_AMOUNT]
    assert [p.payer_id for p in seeds if p.status is PaymentStatus.CREATED] == [ONLY_CREATED]


def test_shipped_json_is_what_the_script_generates() -> None:
    shipped = json.loads(FIXTURES.read_text(encoding="utf-8"))
    assert shipped == [p.model_dump(mode="json") for p in generate.generate()]


def test_payment_date_is_the_kazakhstan_date() -> None:
    payment = fixture_payments()[0].model_copy(
        update={
            "created_at": datetime(2026, 12, 31, 18, 0, tzinfo=UTC),
            "confirmed_at": datetime(2026, 12, 31, 19, 30, tzinfo=UTC),  # 00:30 on 1 January
        }
    )
    assert payment.payment_date == date(2027, 1, 1)


# --- rules on a real database ---------------------------------------------------------------


async def test_create_is_once_per_payer_and_reference(store: PaymentStore) -> None:
    created = await create_payment(order(), store, NOW)
    assert created.code is CreateResultCode.CREATED
    assert (created.payment.status, created.payment.amount) == (PaymentStatus.CREATED, FEE_2026)

    again = await create_payment(order(amount="43250.00"), store, NOW)
    assert again.code is CreateResultCode.ALREADY_EXISTS
    assert again.payment == created.payment

    conflict = await create_payment(order(amount="39320"), store, NOW)
    assert conflict.code is CreateResultCode.REFERENCE_CONFLICT
    assert conflict.payment == created.payment


async def test_concurrent_creates_with_one_reference_make_one_payment(store: PaymentStore) -> None:
    results = await asyncio.gather(*(create_payment(order("RACE"), store, NOW) for _ in range(5)))
    assert sorted(r.code for r in results) == sorted(
        [CreateResultCode.CREATED] + [CreateResultCode.ALREADY_EXISTS] * 4
    )
    assert len({r.payment.payment_id for r in results}) == 1


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"payer_id": "170640582745"}, CreateResultCode.INVALID_PAYER),
        ({"amount": "0"}, CreateResultCode.INVALID_AMOUNT),
        ({"amount": "-43250"}, CreateResultCode.INVALID_AMOUNT),
        ({"amount": "43250.001"}, CreateResultCode.INVALID_AMOUNT),
        ({"amount": "abc"}, CreateResultCode.INVALID_AMOUNT),
        ({"amount": "NaN"}, CreateResultCode.INVALID_AMOUNT),
        ({"amount": "1e30"}, CreateResultCode.INVALID_AMOUNT),
        ({"currency": "USD"}, CreateResultCode.UNSUPPORTED_CURRENCY),
        ({"purpose_code": "LOTTERY"}, CreateResultCode.UNKNOWN_PURPOSE),
    ],
)
async def test_refused_orders(changes: dict[str, str], code: CreateResultCode) -> None:
    result = await create_payment(order(**changes), Untouchable(), NOW)  # type: ignore[arg-type]
    assert (result.code, result.payment) == (code, None)


async def test_confirm_is_idempotent(store: PaymentStore) -> None:
    created = (await create_payment(order(), store, NOW)).payment
    first = await confirm_payment(created.payment_id, store, NOW)
    assert first.code is ConfirmResultCode.CONFIRMED
    assert (first.payment.status, first.payment.confirmed_at) == (PaymentStatus.CONFIRMED, NOW)

    later = datetime(2026, 4, 2, tzinfo=UTC)
    second = await confirm_payment(created.payment_id, store, later)
    assert second.code is ConfirmResultCode.ALREADY_CONFIRMED
    assert second.payment == first.payment  # the first confirmation's time stays
    unknown = await confirm_payment("PEP-NOPE", store, NOW)
    assert (unknown.code, unknown.payment) == (ConfirmResultCode.NOT_FOUND, None)


async def test_concurrent_confirms_confirm_once(store: PaymentStore) -> None:
    created = (await create_payment(order(), store, NOW)).payment
    results = await asyncio.gather(
        *(confirm_payment(created.payment_id, store, NOW) for _ in range(4))
    )
    assert sorted(r.code for r in results) == sorted(
        [ConfirmResultCode.CONFIRMED] + [ConfirmResultCode.ALREADY_CONFIRMED] * 3
    )


@pytest.mark.parametrize(
    ("payer", "year", "code", "statuses"),
    [
        (PAID, 2026, LookupResultCode.FOUND, ["CONFIRMED"]),
        (PAID, 2025, LookupResultCode.NOT_FOUND, []),
        (ONLY_CREATED, 2026, LookupResultCode.FOUND, ["CREATED"]),
        (PAID_LAST_YEAR, 2026, LookupResultCode.NOT_FOUND, []),
        (PAID_LAST_YEAR, None, LookupResultCode.FOUND, ["CONFIRMED"]),
        ("170640582745", None, LookupResultCode.INVALID_PAYER, []),
    ],
)
async def test_look_up_seeded_payments_by_payer_purpose_and_year(
    store: PaymentStore, payer: str, year: int | None, code: LookupResultCode, statuses: list
) -> None:
    result = await payments_by_payer(payer, FEE, year, store)
    assert result.code is code
    assert [p.status.value for p in result.payments] == statuses


async def test_look_up_lists_oldest_first_and_only_the_purpose(store: PaymentStore) -> None:
    await create_payment(order("B"), store, datetime(2026, 5, 1, tzinfo=UTC))
    await create_payment(order("A"), store, datetime(2026, 2, 1, tzinfo=UTC))
    await create_payment(order("C", purpose_code="STATE_DUTY"), store, NOW)
    result = await payments_by_payer(NEW_PAYER, FEE, 2026, store)
    assert [p.reference for p in result.payments] == ["A", "B"]


# --- persistence across app instances -------------------------------------------------------


async def test_payments_survive_a_new_app_instance_on_the_same_database(
    pki: Path, gateway_key: TransportKey, db_url: str
) -> None:
    first_store = PaymentStore(db_url)
    async with client_app(service.create_provider(pki, first_store).app()) as http:
        created = await call(
            http,
            service.CREATE_SERVICE,
            build_create_request(NEW_PAYER, FEE, "43250.00", "APP-2026-77"),
            gateway_key,
        )
        payment_id = created.findtext("payment/paymentId")
        await call(http, service.CONFIRM_SERVICE, build_confirm_request(payment_id), gateway_key)
        seeded = fixture_payments()[5].payment_id  # the only-CREATED seed, confirmed now
        await call(http, service.CONFIRM_SERVICE, build_confirm_request(seeded), gateway_key)
    await first_store.close()

    second_store = PaymentStore(db_url)
    async with client_app(service.create_provider(pki, second_store).app()) as http:
        listed = await call(
            http, service.LOOKUP_SERVICE, build_lookup_request(NEW_PAYER, FEE), gateway_key
        )
        again = await call(
            http, service.CONFIRM_SERVICE, build_confirm_request(seeded), gateway_key
        )
    await second_store.close()
    [payment] = listed.findall("payment")
    assert (payment.findtext("paymentId"), payment.findtext("status")) == (payment_id, "CONFIRMED")
    # Re-seeding on start never resets a seed payment that changed since.
    assert again.findtext("resultCode") == "ALREADY_CONFIRMED"


# --- payload --------------------------------------------------------------------------------


def data_of(inner: str, xsi_type: str | None = None) -> etree._Element:
    typed = f' xsi:type="p:{xsi_type}"' if xsi_type else ""
    return etree.fromstring(
        f'<data xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:p="{NAMESPACE}"'
        f"{typed}>{inner}</data>"
    )


def test_built_requests_validate_and_parse_back() -> None:
    requests = [
        (
            build_create_request(PAID, FEE, "43250.00", "R-1"),
            order("R-1", "43250.00", payer_id=PAID),
        ),
        (build_confirm_request("PEP-1"), ConfirmQuery("PEP-1")),
        (build_lookup_request(PAID, FEE, 2026), PayerQuery(PAID, FEE, 2026)),
        (build_lookup_request(PAID, FEE), PayerQuery(PAID, FEE, None)),
    ]
    for element, parsed in requests:
        schema().assertValid(element)
        data = data_of("")
        data.append(element)
        assert parse_request(data) == parsed


def test_parse_jaxb_style_and_default_currency() -> None:
    inner = f"<payerId>{PAID}</payerId><purposeCode>{FEE}</purposeCode><amount>1</amount>"
    data = data_of(inner + "<reference>R</reference>", "CreatePaymentRequest")
    assert parse_request(data) == order("R", "1", payer_id=PAID)
    assert parse_request(data_of("<paymentId>X</paymentId>", "ConfirmPaymentRequest")) == (
        ConfirmQuery("X")
    )


@pytest.mark.parametrize(
    "inner",
    [
        "",
        "<p:CreatePaymentRequest><payerId>1</payerId></p:CreatePaymentRequest>",
        "<p:ConfirmPaymentRequest/>",
        f"<p:PaymentsByPayerRequest><payerId>{PAID}</payerId><purposeCode>{FEE}</purposeCode>"
        "<year>26</year></p:PaymentsByPayerRequest>",
    ],
)
def test_parse_rejects_broken_requests(inner: str) -> None:
    with pytest.raises(PayloadError):
        parse_request(data_of(inner))


async def test_every_answer_validates(store: PaymentStore) -> None:
    created = await create_payment(order(), store, NOW)
    answers = [
        build_create_response(created),
        build_create_response(await create_payment(order(amount="1"), store, NOW)),
        build_create_response(await create_payment(order(currency="USD"), store, NOW)),
        build_confirm_response(await confirm_payment(created.payment.payment_id, store, NOW)),
        build_confirm_response(await confirm_payment("nope", store, NOW)),
        build_lookup_response(await payments_by_payer(NEW_PAYER, FEE, None, store)),
        build_lookup_response(await payments_by_payer(PAID, FEE, 1999, store)),
    ]
    for answer in answers:
        schema().assertValid(answer)
    payment = answers[3].find("payment")
    assert payment.findtext("amount") == "43250.00"
    assert payment.findtext("paymentDate") == NOW.astimezone(KZ_TZ).date().isoformat()
    assert all(etree.QName(e).namespace is None for e in payment.iter())


def test_wsdl_is_a_sync_channel_provider_importing_the_payload() -> None:
    client = zeep.Client(str(WSDL))
    port = client.wsdl.services["PepService"].ports["PepPort"]
    assert port.binding.get("SendMessage").soapaction == ""
    assert client.get_element(f"{{{NAMESPACE}}}PaymentsByPayerRequest") is not None


async def test_provider_refuses_a_request_under_another_operations_service(
    pki: Path, gateway_key: TransportKey, tmp_path: Path
) -> None:
    store = PaymentStore(f"sqlite+aiosqlite:///{tmp_path / 'pep.db'}")
    async with client_app(service.create_provider(pki, store).app()) as http:
        code = await fault_of(
            http, service.LOOKUP_SERVICE, build_confirm_request("PEP-SEED-2026-0006"), gateway_key
        )
    await store.close()
    assert code == errors.SCHEMA_PAYLOAD_INVALID.code


# --- through the gateway --------------------------------------------------------------------


async def test_pay_confirm_and_check_the_fee_through_the_gateway(
    pki: Path, tmp_path: Path, db_url: str
) -> None:
    year = datetime.now(KZ_TZ).year
    async with running_gateway_with_registries(pki, tmp_path, db_url) as gateway:
        portal, elicense = gateway.client("EGOV_PORTAL"), gateway.client("ELICENSE")
        request = build_create_request(NEW_PAYER, FEE, "43250", "APP-E2E-1")
        created = await portal.send(service.CREATE_SERVICE, request)
        payment_id = _answer(created).findtext("payment/paymentId")
        confirmed = await portal.send(service.CONFIRM_SERVICE, build_confirm_request(payment_id))
        listed = await elicense.send(
            service.LOOKUP_SERVICE, build_lookup_request(NEW_PAYER, FEE, year)
        )
    assert _answer(created).findtext("resultCode") == "CREATED"
    assert _answer(confirmed).findtext("resultCode") == "CONFIRMED"
    [payment] = _answer(listed).findall("payment")
    assert (payment.findtext("paymentId"), payment.findtext("status")) == (payment_id, "CONFIRMED")
    assert payment.findtext("amount") == "43250.00"


def _answer(result) -> etree._Element:
    [element] = result.response.data
    return element
