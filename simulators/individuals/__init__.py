"""GBDFL simulator — the state database "Individuals" (ГБД ФЛ, «Жеке тұлғалар» МДҚ).

Owns the registry's business core: the person model and its read-only fixtures (``store``), the
look-up decision by IIN (``rules``), the payload that travels inside SHEP ``data`` (``payload``,
contract ``xsd/gbdfl.xsd``) and the SyncChannel endpoint (``service``, ``wsdl/GBDFL.wsdl``).
"""
