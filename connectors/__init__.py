"""The SHEP kit: what any state system uses to connect to the gateway — the SOAP wire
(``soap``: hardened parsing, envelopes, the SyncChannel and AsyncChannel models, faults, schema
validation, the contracts), the WS-Security signatures and trust (``wsse``), the fault catalogue
(``errors``), and the client SDK (``client``).

The kit stands below everything else: it imports nothing of ``gateway`` or ``simulators``.
"""
