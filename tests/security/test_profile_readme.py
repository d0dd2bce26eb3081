"""The README states the transport-signature profile; the verifier enforces exactly that one."""

from __future__ import annotations

import re

from connectors.wsse.dsig import TRANSPORT_PROFILE
from gateway.paths import PROJECT_ROOT

BEGIN, END = "<!-- profile:begin -->\n", "\n<!-- profile:end -->"


def _readme_profile() -> dict[str, set[str]]:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index(BEGIN) + len(BEGIN) : readme.index(END)]
    rows: dict[str, set[str]] = {}
    for line in table.splitlines()[2:]:
        role, allowed = (cell.strip() for cell in line.strip("|").split("|"))
        uris = re.findall(r"`([^`]+)`", allowed)
        # "…#rsa-sha384" abbreviates the namespace of the row's first URI.
        base = uris[0].split("#")[0]
        rows[role] = {base + u[1:] if u.startswith("…") else u for u in uris}
    return rows


def test_the_readme_profile_is_the_enforced_one() -> None:
    rows = _readme_profile()
    assert rows == {
        "SignedInfo canonicalization": set(TRANSPORT_PROFILE.c14n),
        "Reference transforms": set(TRANSPORT_PROFILE.transforms),
        "digest": set(TRANSPORT_PROFILE.digest),
        "signature": set(TRANSPORT_PROFILE.signature),
    }
    assert TRANSPORT_PROFILE.final_c14n == TRANSPORT_PROFILE.c14n
