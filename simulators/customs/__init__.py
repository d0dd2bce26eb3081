"""KEDEN simulator — the customs information system of the State Revenue Committee («КЕДЕН»).

Keeps the customs record of every issued licence and permit (flows F1 step 6, F2-F4, F6):
number, holder, type, goods codes, quantity and what is left of it, validity and status. The
issuing system registers a record through the gateway's AsyncChannel (``KedenRegisterRecord_v1``,
applied once per document number); anyone entitled looks records up through the SyncChannel by
number or by holder. ``models`` holds the record and its status rules, ``payload`` the XML ⇄
model mapping (contract ``xsd/keden.xsd``), ``store`` the durable table, ``service`` the one
app that serves both channels.

Paperless export declarations (F6, seed 004 Annex 5): ``declarations`` (the declaration, its
statuses and terms), ``formation`` and ``risk`` (the pure rules), ``declaration_rows`` and
``declaration_store`` (durable declarations), ``write_off``, ``clearance`` (the desk and the
official's worker) with ``clearance_intake`` and ``clearance_delivery``, ``declaration_payload``
and ``declaration_service`` (the SOAP side).
"""
