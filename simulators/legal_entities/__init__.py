"""GBDUL simulator — the state database "Legal entities" (ГБД ЮЛ, «Заңды тұлғалар» МДҚ).

Owns the registry's business core: the organization model and its read-only fixtures (``store``),
the look-up decision by BIN (``rules``) and the payload that travels inside SHEP ``data``
(``payload``, contract ``xsd/gbdul.xsd``). The HTTP/SOAP endpoint lives elsewhere.
"""
