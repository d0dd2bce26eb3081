"""What makes two filings the same application: their canonical form, signatures aside — for any
element name a form may carry, Cyrillic included (the fuzzer found ASCII copies breaking)."""

from __future__ import annotations

from lxml import etree

from simulators.elicensing.service_wire import content_digest


def test_a_non_ascii_element_name_is_digested_like_any_other() -> None:
    one = etree.fromstring("<a><Атауы>Алтын Дала</Атауы></a>".encode())
    same = etree.fromstring("<a>\n<Атауы>Алтын Дала</Атауы></a>".replace("\n", "").encode())
    other = etree.fromstring("<a><Атауы>Алтын Дала Агро</Атауы></a>".encode())
    assert content_digest(one) == content_digest(same) != content_digest(other)
