"""Every provider WSDL the catalogue lists (GET /services) binds in a SOAP toolkit."""

from __future__ import annotations

from pathlib import Path

import pytest


def _service_wsdls() -> list[str]:
    from gateway.registry import load_registry

    services = load_registry(Path("/nonexistent-pki")).services.values()
    return sorted({service.wsdl for service in services if service.wsdl})


@pytest.mark.parametrize("wsdl", _service_wsdls())
def test_every_service_wsdl_builds_a_zeep_client(wsdl: str) -> None:
    """Each provider's own WSDL (listed by GET /services) is one a SOAP toolkit can bind."""
    import zeep

    from connectors import WSDL_DIR

    client = zeep.Client(str(WSDL_DIR / wsdl))
    operations = {
        name
        for service in client.wsdl.services.values()
        for port in service.ports.values()
        for name in port.binding._operations
    }
    assert "SendMessage" in operations
