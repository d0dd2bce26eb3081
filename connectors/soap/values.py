"""Reading and writing the simple values of SHEP messages: dates, ids and element text."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone

from lxml import etree

from connectors.soap.namespaces import local_name

# Kazakhstan has one UTC+5 zone since 2024-03-01; current traffic without an offset means it
# (sheet §6). A fixed offset, not tzdata, so an outdated tzdata cannot turn it into +06:00.
KZ_TZ = timezone(timedelta(hours=5), "Asia/Almaty")

_DATETIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})T(?P<time>\d{2}:\d{2}:\d{2})(?:\.(?P<frac>\d+))?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?"
)


def parse_datetime(text: str) -> datetime:
    """An xs:dateTime as an aware datetime; no offset means Kazakhstan time (+05:00).

    Raises ValueError when the text is not an xs:dateTime.
    """
    match = _DATETIME.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not an xs:dateTime: {text[:40]!r}")
    # Senders use 0..9 fraction digits; Python keeps microseconds, so cut (not round) to 6.
    frac = (match["frac"] or "")[:6].ljust(6, "0")
    stamp = datetime.fromisoformat(f"{match['date']}T{match['time']}.{frac}")
    tz = match["tz"]
    if tz is None:
        return stamp.replace(tzinfo=KZ_TZ)
    return datetime.fromisoformat(f"{stamp.isoformat()}{'+00:00' if tz == 'Z' else tz}")


def format_datetime(moment: datetime) -> str:
    """The form the gateway emits: Kazakhstan time with milliseconds, e.g. ``…T12:00:00.000+05:00``.

    A naive datetime is taken as Kazakhstan time, like a received date without offset.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=KZ_TZ)
    return moment.astimezone(KZ_TZ).isoformat(timespec="milliseconds")


def new_session_id() -> str:
    """A fresh sessionId in the braced GUID form SHEP emits (sheet §6)."""
    return f"{{{uuid.uuid4()}}}"


def child(parent: etree._Element, name: str) -> etree._Element | None:
    """The first element child with this local name, in any namespace (sheet §7.4)."""
    for element in parent.iterchildren(tag=etree.Element):
        if local_name(element) == name:
            return element
    return None


def children(parent: etree._Element, name: str) -> list[etree._Element]:
    """Every element child with this local name, in document order."""
    return [e for e in parent.iterchildren(tag=etree.Element) if local_name(e) == name]


XML_WHITESPACE = " \t\r\n"


def text_of(element: etree._Element | None) -> str | None:
    """An element's text content, stripped; None when absent or empty (sheet §7.5)."""
    if element is None:
        return None
    text = element.text if len(element) == 0 else "".join(element.itertext())
    # XML whitespace only: str.strip() would also take a no-break space (U+00A0) and other
    # Unicode spaces away, and "EGOV_PORTAL\u00a0" would be read as the registered EGOV_PORTAL.
    text = (text or "").strip(XML_WHITESPACE)
    return text or None


def add_text(parent: etree._Element, name: str, value: str | None) -> None:
    """Append an unqualified ``<name>value</name>``; optional values that are None are left out."""
    if value is None:
        return
    etree.SubElement(parent, name).text = value
