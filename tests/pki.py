"""The test PKI every test builds: valid at each fixed business time the suite uses, and now.

Tests pin business moments (a Friday evening before Capital Day 2026, a New Year's Eve filing, a
2025 message log) on the virtual clock and verify signatures at those moments; the same tests must
pass on whatever day they run (``faketime -f '+365d' ./test``). So a test PKI is valid from before
the earliest pinned moment to past the latest one *and* for two years after the real now, never
"from yesterday" alone. Build every test PKI through ``make_test_pki``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from connectors import init_pki
from connectors.wsse.pki import SYSTEMS, Validity

# The span of business times the suite pins; a test that pins a moment outside it fails loudly
# (CertificateExpired), which is the reminder to widen it here.
EARLIEST_BUSINESS_TIME = datetime(2024, 1, 1, tzinfo=UTC)
LATEST_BUSINESS_TIME = datetime(2028, 12, 31, 23, 59, tzinfo=UTC)


def suite_validity() -> Validity:
    return Validity.covering(EARLIEST_BUSINESS_TIME, LATEST_BUSINESS_TIME)


def make_test_pki(directory: Path, systems: Iterable[str] = SYSTEMS) -> Path:
    """Create (idempotently) a test PKI in ``directory`` valid across the suite's business times."""
    init_pki(directory, systems, validity=suite_validity())
    return directory
