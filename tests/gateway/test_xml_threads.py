"""The channels' XML threads: made-up element names cannot pile up in the gateway's memory.

lxml keeps the names it parses in a dictionary per thread for the thread's life. These tests
build hostile documents as text (names built with lxml in this thread would already be known to
every thread's dictionary, which looks names up in the main thread's first).
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import uuid

import pytest
from lxml import etree

from gateway.channels.threads import XmlThreads, names_known
from tests.gateway.harness import SERVICE, Harness, lookup
from tests.gateway.test_hostile_findings import _fault_code

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
TYPES = "http://bip.bee.kz/SyncChannel/v10/Types"


def _made_up_names(count: int) -> str:
    return "".join(f"<n{uuid.uuid4().hex}/>" for _ in range(count))


def _parse_made_up(count: int) -> int:
    etree.fromstring(f"<a>{_made_up_names(count)}</a>".encode())
    return threading.get_ident()


def test_results_errors_and_the_callers_context_reach_the_task():
    threads = XmlThreads(threads=2)
    seen: contextvars.ContextVar[str] = contextvars.ContextVar("seen", default="none")
    seen.set("caller's")
    try:
        assert threads.submit(lambda: seen.get()).result(timeout=5) == "caller's"
        with pytest.raises(ZeroDivisionError):
            threads.submit(lambda: 1 / 0).result(timeout=5)
        assert threads.submit(sum, [1, 2, 3]).result(timeout=5) == 6
    finally:
        threads.shutdown()
    with pytest.raises(RuntimeError):
        threads.submit(sum, [1])


def test_a_thread_whose_dictionary_passes_the_bound_hands_over_to_a_fresh_one():
    threads = XmlThreads(threads=1, max_names=1_000)
    try:
        first = threads.submit(_parse_made_up, 600).result(timeout=5)
        assert threads.submit(_parse_made_up, 600).result(timeout=5) == first  # 1,200 > 1,000
        assert threads.retired == 1
        # The successor starts with an empty dictionary and serves the queue as before.
        assert threads.submit(names_known).result(timeout=5) - names_known() < 100
        assert threads.submit(_parse_made_up, 10).result(timeout=5) != first
    finally:
        threads.shutdown()


def test_names_the_main_thread_knows_do_not_count_against_a_thread():
    _parse_made_up(1_500)  # here, in the main thread: every thread's dictionary looks in it first
    threads = XmlThreads(threads=1, max_names=1_000)
    try:
        for _ in range(5):
            threads.submit(_parse_made_up, 10).result(timeout=5)
        assert threads.retired == 0
    finally:
        threads.shutdown()


async def test_made_up_names_sent_to_the_gateway_do_not_stay_in_its_memory(gateway: Harness):
    threads = gateway.context.xml_threads
    client = gateway.client("ELICENSE")
    await client.send(SERVICE, lookup())  # warm: the services' own names, known from here on
    per_message = 2_000
    for _ in range(threads.threads * threads.max_names // per_message + threads.threads):
        hostile = (
            f'<soap:Envelope xmlns:soap="{SOAP_NS}"><soap:Body>'
            f'<ns2:SendMessage xmlns:ns2="{TYPES}"><request><requestInfo/>'
            f"{_made_up_names(per_message)}</request></ns2:SendMessage></soap:Body>"
            "</soap:Envelope>"
        ).encode()
        assert (await _fault_code(await gateway.post(hostile))).startswith("Client.")
    assert threads.retired >= 1
    loop = asyncio.get_running_loop()
    held = await asyncio.gather(
        *(loop.run_in_executor(threads, names_known) for _ in range(4 * threads.threads))
    )
    # Each thread holds at most its bound plus the names of the one message that crossed it.
    assert max(held) - names_known() <= threads.max_names + per_message
    answer = await client.send(SERVICE, lookup())
    assert answer.response.status_code == "SCSS001"
