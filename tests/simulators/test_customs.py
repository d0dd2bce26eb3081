"""KEDEN: the customs record of each licence/permit — its contract, registration once by number,
status by the clock, durability on both databases, and the whole path through the gateway."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx2
import pytest
from lxml import etree

from connectors import (
    KZ_TZ,
    XSD_DIR,
    MessageState,
    SyncRequest,
    TransportKey,
    build_request_envelope,
    parse_document,
    parse_sync_response,
    split_envelope,
)
from connectors.client import wrap_in_data
from simulators.customs.models import (
    Contract,
    Counterparty,
    CounterpartyRole,
    DocumentKind,
    GoodsItem,
    RecordContent,
    RecordStatus,
    TradeCountryRole,
    TradeType,
)
from simulators.customs.payload import (
    PayloadError,
    Registration,
    build_by_holder,
    build_by_number,
    build_registration,
    parse_lookup_answer,
    read_payload,
)
from simulators.customs.service import SYSTEM_ID, create_keden
from simulators.customs.store import RecordConflict, RecordRefused, RecordStore, Registered
from simulators.kit.identifiers import make_bin
from tests.gateway.harness import Harness, running_gateway
from tests.simulators.pushing import client_of, fault_code, post, push_envelope, signed, signer_of
from tests.waiting import eventually

HOLDER = make_bin(date(2017, 6, 1), 4, 58274)
OTHER_HOLDER = make_bin(date(2019, 2, 1), 4, 1201)
KEDEN_NS = "http://kzgate.kz/simulators/keden/v1"
REGISTER = "KedenRegisterRecord_v1"
BY_NUMBER = "KedenRecordByNumber_v1"
BY_HOLDER = "KedenRecordsByHolder_v1"


def licence(number: str = "KZ-LIC-2025-000001", **changes: object) -> RecordContent:
    """An import licence with every form field filled."""
    content = RecordContent(
        number=number,
        kind=DocumentKind.LICENCE,
        trade_type=TradeType.IMPORT,
        valid_from=date(2025, 3, 14),
        valid_to=date(2025, 12, 31),
        holder_id=HOLDER,
        holder_name="ТОО «Алтын Дала Агро»",
        trade_country="DE",
        trade_country_role=TradeCountryRole.DESTINATION,
        quantity=Decimal("1500.5"),
        unit="кг",
        goods=(GoodsItem("2933399908", "Pyridine derivatives, technical grade"),),
        issuer="ELICENSE",
        issue_date=date(2025, 3, 14),
        contract=Contract("C-77/2025", date(2025, 2, 1)),
        counterparty=Counterparty("Chemie Handel GmbH", CounterpartyRole.BUYER),
        counterparty_country="DE",
        currency="EUR",
        value=Decimal("120000.00"),
        statistical_value=Decimal("118500.50"),
        origin_country="DE",
        additional_info="one-time licence",
        basis="EEC Board decision No. 30 of 21.04.2015",
    )
    return replace(content, **changes)


def minimal(number: str = "KZ-PRM-2025-000009") -> RecordContent:
    """A permit with only the required fields."""
    return RecordContent(
        number=number,
        kind=DocumentKind.PERMIT,
        trade_type=TradeType.EXPORT,
        valid_from=date(2025, 1, 1),
        valid_to=date(2025, 12, 31),
        holder_id=HOLDER,
        holder_name="ИП Сейткали",
        trade_country="UZ",
        trade_country_role=TradeCountryRole.DISPATCH,
        quantity=Decimal("10"),
        unit="шт",
        goods=(GoodsItem("8471300000", "Laptops"), GoodsItem("8471410000", "Workstations")),
        issuer="ELICENSE",
        issue_date=date(2024, 12, 28),
    )


class Clock:
    """A settable clock for the store, as a virtual clock would drive it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def kz(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=KZ_TZ)


def data_of(element: etree._Element) -> etree._Element:
    return wrap_in_data(element)


# --- the payload and its contract ---------------------------------------------------------------


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD_DIR / "keden.xsd")))


@pytest.mark.parametrize(
    "content",
    [licence(), minimal(), licence(contract=Contract(other_document="Letter of intent No. 5"))],
    ids=["every-field", "required-only", "other-document-for-contract"],
)
def test_a_registration_validates_and_reads_back_field_for_field(
    schema: etree.XMLSchema, content: RecordContent
) -> None:
    element = build_registration(content)
    schema.assertValid(element)
    assert {etree.QName(c).namespace for c in element} == {None}  # children unqualified
    assert read_payload(data_of(element)) == Registration(content)


SIGNED_DOCUMENT = (
    '<lic:Licence xmlns:lic="urn:example:licence" xmlns:unused="urn:kept-as-sent">'
    "<number>KZ-LIC-2025-000001</number>"
    '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignatureValue>'
    "AAAA</ds:SignatureValue></ds:Signature></lic:Licence>"
)


def test_the_signed_document_is_embedded_and_kept_as_sent(schema: etree.XMLSchema) -> None:
    element = build_registration(licence(), etree.fromstring(SIGNED_DOCUMENT))
    schema.assertValid(element)
    assert read_payload(data_of(element)).document == SIGNED_DOCUMENT


def mutated(path: str, text: str | None) -> etree._Element:
    """A registration with one element's text changed (None: the element removed)."""
    element = build_registration(licence())
    target = element.find(path)
    if text is None:
        target.getparent().remove(target)
    else:
        target.text = text
    return element


@pytest.mark.parametrize(
    ("path", "text", "reason"),
    [
        ("goods/item/code", "293339990", "pattern"),  # 9 digits: a code has 10
        ("kind", "CERTIFICATE", "kind"),
        ("holder", None, "holder"),
        ("quantity", "0", "quantity"),
        ("tradeCountry/code", "deu", "code"),
        ("holder/id", HOLDER[:-1] + str((int(HOLDER[-1]) + 1) % 10), "check digit"),
        ("validTo", "2025-03-13", "after validTo"),
    ],
)
def test_invalid_registrations_are_payload_errors(path: str, text: str | None, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        read_payload(data_of(mutated(path, text)))


def test_lookups_read_in_both_styles() -> None:
    jaxb = etree.fromstring(
        f'<data xmlns:k="{KEDEN_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        ' xsi:type="k:RecordsByHolderRequest"><holderId>' + HOLDER + "</holderId></data>"
    )
    assert read_payload(jaxb).holder_id == HOLDER
    assert read_payload(data_of(build_by_number("N-1"))).number == "N-1"
    with pytest.raises(PayloadError):
        read_payload(etree.fromstring("<data><other/></data>"))


def test_every_status_is_in_the_schema() -> None:
    tree = etree.parse(str(XSD_DIR / "keden.xsd"))
    declared = tree.xpath(
        "//xs:simpleType[@name='RecordStatus']//xs:enumeration/@value",
        namespaces={"xs": "http://www.w3.org/2001/XMLSchema"},
    )
    assert set(declared) == {s.value for s in RecordStatus}


# --- the store: once by number, status by the clock, on both databases --------------------------


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[RecordStore]:
    records = RecordStore(db_url, Clock(kz(date(2025, 3, 14))))
    yield records
    await records.close()


async def test_a_document_is_registered_once(store: RecordStore) -> None:
    assert await store.register(licence(), message_id="m-1") is Registered.CREATED
    same = licence(quantity=Decimal("1500.500"))  # the same quantity, written differently
    assert await store.register(same, message_id="m-2") is Registered.UNCHANGED
    records = await store.all()
    assert [(r.number, r.source_message_id) for r in records] == [(licence().number, "m-1")]
    assert records[0].content == licence()
    assert records[0].status is RecordStatus.VALID
    assert records[0].remaining_quantity == Decimal("1500.5")

    with pytest.raises(RecordConflict) as conflict:
        await store.register(licence(quantity=Decimal("2000")), message_id="m-3")
    assert conflict.value.fields == ["quantity"]
    assert (await store.by_number(licence().number)).content == licence()


async def test_lookups_by_number_and_holder(store: RecordStore) -> None:
    await store.register(licence(), message_id="m-1")
    await store.register(minimal(), message_id="m-2")
    await store.register(licence("KZ-LIC-X", holder_id=OTHER_HOLDER), message_id="m-3")
    assert [r.number for r in await store.by_holder(HOLDER)] == [licence().number, minimal().number]
    assert (await store.by_number("KZ-LIC-X")).content.holder_id == OTHER_HOLDER
    assert await store.by_number("NOPE") is None
    assert await store.by_holder(make_bin(date(2020, 1, 1), 4, 7)) == []


async def test_expired_follows_the_clock(store: RecordStore) -> None:
    await store.register(licence(), message_id="m-1")
    record = await store.by_number(licence().number)
    last_day = licence().valid_to
    assert record.status_on(kz(last_day, 23)) is RecordStatus.VALID  # validTo is inclusive
    assert record.status_on(kz(last_day + timedelta(days=1), 0)) is RecordStatus.EXPIRED
    # 19:30 UTC on the last day is already the next day in Kazakhstan.
    evening = datetime(2025, 12, 31, 19, 30, tzinfo=UTC)
    assert record.status_on(evening) is RecordStatus.EXPIRED


async def test_termination_and_exhaustion(store: RecordStore) -> None:
    await store.register(licence(), message_id="m-1")
    await store.register(minimal(), message_id="m-2")

    terminated = await store.terminate(licence().number, "ground а: at the holder's request")
    assert terminated.status is RecordStatus.TERMINATED
    assert terminated.status_reason == "ground а: at the holder's request"
    assert terminated.status_on(kz(date(2026, 6, 1))) is RecordStatus.TERMINATED
    with pytest.raises(RecordRefused, match="TERMINATED"):
        await store.terminate(licence().number, "again")

    partly = await store.write_off(minimal().number, Decimal("4"), "declaration 1")
    assert (partly.status, partly.remaining_quantity) == (RecordStatus.VALID, Decimal("6"))
    with pytest.raises(RecordRefused, match="6 left"):
        await store.write_off(minimal().number, Decimal("7"), "declaration 2")
    done = await store.write_off(minimal().number, Decimal("6"), "declaration 3")
    assert (done.status, done.remaining_quantity) == (RecordStatus.EXHAUSTED, Decimal("0"))
    # A re-registration of a written-off document is still the same document.
    assert await store.register(minimal(), message_id="m-4") is Registered.UNCHANGED

    store.clock.now = kz(date(2026, 1, 1))
    await store.register(licence("KZ-OLD"), message_id="m-5")
    with pytest.raises(RecordRefused, match="EXPIRED"):
        await store.write_off("KZ-OLD", Decimal("1"), "too late")


async def test_concurrent_registrations_of_one_number_make_one_record(store: RecordStore) -> None:
    outcomes = await asyncio.gather(
        *(store.register(licence(), message_id=f"m-{i}") for i in range(5))
    )
    assert sorted(outcomes) == [Registered.CREATED] + [Registered.UNCHANGED] * 4
    assert len(await store.all()) == 1


# --- the app: pushed registrations and SyncChannel look-ups -------------------------------------


def registration_push(
    content: RecordContent, message_id: str, document: etree._Element | None = None
) -> etree._Element:
    return push_envelope(
        message_id,
        service_id=REGISTER,
        correlation_id=message_id,
        payload=build_registration(content, document),
    )


def sync_body(payload: etree._Element, key: TransportKey) -> bytes:
    """A SyncChannel request as the gateway forwards it to the provider, signed by ``key``."""
    request = SyncRequest(
        message_id=str(uuid.uuid4()),
        service_id=BY_NUMBER,
        message_date=datetime.now(UTC),
        sender_id="EGOV_PORTAL",
        data=wrap_in_data(payload),
    )
    return signed(build_request_envelope(request), key)


async def sync_lookup(
    http: httpx2.AsyncClient, payload: etree._Element, key: TransportKey
) -> tuple[int, etree._Element]:
    """The provider's HTTP status and answer envelope for a look-up."""
    response = await http.post(
        "/shep/sync", content=sync_body(payload, key), headers={"Content-Type": "text/xml"}
    )
    return response.status_code, parse_document(response.content, max_bytes=10**7, max_depth=64)


def answer_of(root: etree._Element):
    return parse_lookup_answer(parse_sync_response(split_envelope(root).operation).data)


@pytest.fixture
def clock() -> Clock:
    return Clock(kz(date(2025, 6, 1)))


async def test_pushed_registrations_are_applied_once_and_looked_up(
    pki: Path, gateway_key: TransportKey, db_url: str, clock: Clock
) -> None:
    keden = create_keden(pki, db_url, clock=clock)
    async with client_of(keden.app()) as http:
        for message_id in ("msg-1", "msg-1", "msg-2"):  # a redelivery, then a resend
            push = registration_push(licence(), message_id, etree.fromstring(SIGNED_DOCUMENT))
            status, answer = await post(http, signed(push, gateway_key))
            assert status == 200 and signer_of(answer, pki) == SYSTEM_ID
        # Stored without the envelope's namespaces, which would break the document's signature.
        assert await keden.records.document(licence().number) == SIGNED_DOCUMENT
        assert [m.message_id for m in await keden.participant.inbox.messages()] == [
            "msg-1",
            "msg-2",
        ]

        status, root = await sync_lookup(http, build_by_number(licence().number), gateway_key)
        assert status == 200 and signer_of(root, pki) == SYSTEM_ID
        answer = answer_of(root)
        assert answer.result_code == "FOUND"
        [record] = answer.records
        assert record.content == licence()
        assert (record.status, record.source_message_id) == (RecordStatus.VALID, "msg-1")

        clock.now = kz(date(2026, 1, 1))
        answer = answer_of((await sync_lookup(http, build_by_holder(HOLDER), gateway_key))[1])
        assert [r.status for r in answer.records] == [RecordStatus.EXPIRED]

        listing = (await http.get("/ops/records")).json()
        assert [(r["number"], r["status"]) for r in listing] == [(licence().number, "EXPIRED")]


@pytest.mark.parametrize(
    ("payload", "sender", "code"),
    [
        (
            build_registration(licence(quantity=Decimal("1"))),
            "ELICENSE",
            "Client.Keden.RecordConflict",
        ),
        (mutated("goods/item/code", "12"), "ELICENSE", "Client.Schema.PayloadInvalid"),
        (build_by_number("N-1"), "ELICENSE", "Client.Schema.PayloadInvalid"),
        (build_registration(licence("KZ-NEW")), "EGOV_PORTAL", "Client.Keden.IssuerNotSender"),
    ],
    ids=["conflicting-content", "invalid-payload", "lookup-sent-async", "issuer-not-sender"],
)
async def test_refused_registrations_are_client_faults_and_not_stored(
    pki: Path, gateway_key: TransportKey, tmp_path: Path, payload, sender: str, code: str
) -> None:
    keden = create_keden(pki, f"sqlite+aiosqlite:///{tmp_path / 'sim.db'}")
    async with client_of(keden.app()) as http:
        await post(http, signed(registration_push(licence(), "msg-1"), gateway_key))
        push = push_envelope("msg-2", service_id=REGISTER, payload=payload, sender_id=sender)
        status, answer = await post(http, signed(push, gateway_key))
        assert (status, fault_code(answer)) == (500, code)
        assert [m.message_id for m in await keden.participant.inbox.messages()] == ["msg-1"]
        assert [r.content for r in await keden.records.all()] == [licence()]


async def test_lookup_answers_and_contracts(pki: Path, gateway_key: TransportKey, tmp_path) -> None:
    keden = create_keden(pki, f"sqlite+aiosqlite:///{tmp_path / 'sim.db'}")
    async with client_of(keden.app()) as http:
        answer = answer_of((await sync_lookup(http, build_by_number("NOPE"), gateway_key))[1])
        assert (answer.result_code, answer.records) == ("NOT_FOUND", ())
        bad = HOLDER[:-1] + str((int(HOLDER[-1]) + 1) % 10)
        answer = answer_of((await sync_lookup(http, build_by_holder(bad), gateway_key))[1])
        assert answer.result_code == "INVALID_HOLDER_ID" and "check digit" in answer.result_message
        status, root = await sync_lookup(http, build_registration(licence()), gateway_key)
        assert (status, fault_code(root)) == (500, "Client.Schema.PayloadInvalid")

        # One fault plan for the system: a 503 queued at /ops/faults hits the sync endpoint too.
        await http.post("/ops/faults", json={"kind": "http-503", "count": 1})
        body = sync_body(build_by_number("N-1"), gateway_key)
        assert [
            (
                await http.post("/shep/sync", content=body, headers={"Content-Type": "text/xml"})
            ).status_code
            for _ in "ab"
        ] == [
            503,
            200,
        ]

        sync_wsdl = (await http.get("/shep/sync?wsdl")).text
        assert 'name="KEDEN"' in sync_wsdl and "?xsd=keden.xsd" in sync_wsdl
        assert "IAsyncChannelClient" in (await http.get("/shep/async?wsdl")).text
        assert (await http.get("/health")).json() == {"status": "ok", "system": SYSTEM_ID}


async def test_records_survive_a_new_app_on_the_same_database(
    pki: Path, gateway_key: TransportKey, db_url: str, clock: Clock
) -> None:
    async with client_of(create_keden(pki, db_url, clock=clock).app()) as http:
        await post(http, signed(registration_push(minimal(), "msg-1"), gateway_key))
    async with client_of(create_keden(pki, db_url, clock=clock).app()) as http:
        answer = answer_of((await sync_lookup(http, build_by_holder(HOLDER), gateway_key))[1])
        assert [r.content for r in answer.records] == [minimal()]
        redelivery = signed(registration_push(minimal(), "msg-1"), gateway_key)
        assert (await post(http, redelivery))[0] == 200  # recognised after the restart
        listing = (await http.get("/ops/records")).json()
        assert [(r["number"], r["sourceMessageId"]) for r in listing] == [
            (minimal().number, "msg-1")
        ]


# --- end to end through the gateway ------------------------------------------------------------


async def settled(gateway: Harness, message_id: str) -> MessageState:
    elicense = gateway.client("ELICENSE")

    async def done() -> bool:
        state = (await elicense.message_status(message_id)).state
        return state is not MessageState.ON_DELIVERY

    await eventually(done)
    return (await elicense.message_status(message_id)).state


async def register_through(gateway: Harness, content: RecordContent) -> tuple[str, MessageState]:
    elicense = gateway.client("ELICENSE")
    ack = await elicense.send_async(elicense.async_request(REGISTER, build_registration(content)))
    return ack.message_id, await settled(gateway, ack.message_id)


async def lookup_through(gateway: Harness, service: str, payload: etree._Element, sender: str):
    result = await gateway.client(sender).send(service, payload)
    return parse_lookup_answer(result.response.data)


async def test_a_licence_registered_by_elicense_is_found_through_the_gateway(
    pki: Path, tmp_path: Path, db_url: str
) -> None:
    today = datetime.now(KZ_TZ).date()
    issued = licence(valid_from=today, valid_to=today + timedelta(days=180), issue_date=today)
    async with running_gateway(pki, tmp_path, database_url=db_url) as gateway:
        message_id, state = await register_through(gateway, issued)
        assert state is MessageState.DELIVERED

        answer = await lookup_through(
            gateway, BY_NUMBER, build_by_number(issued.number), "EGOV_PORTAL"
        )
        [record] = answer.records
        assert record.content == issued  # field for field as ELICENSE sent it
        assert (record.status, record.remaining_quantity) == (RecordStatus.VALID, issued.quantity)
        assert record.source_message_id == message_id

        _, again = await register_through(gateway, issued)  # a second registration, same content
        assert again is MessageState.DELIVERED
        _, conflicting = await register_through(gateway, replace(issued, unit="т"))
        assert conflicting is MessageState.NOT_DELIVERED
        letters = await gateway.context.broker.dead_letters()
        assert any("Client.Keden.RecordConflict" in d.reason for d in letters)

        answer = await lookup_through(gateway, BY_HOLDER, build_by_holder(HOLDER), "KGD")
        assert [(r.number, r.content.unit) for r in answer.records] == [(issued.number, "кг")]
