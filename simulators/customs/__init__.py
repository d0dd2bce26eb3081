"""KEDEN simulator — the customs information system of the State Revenue Committee («КЕДЕН»).

Keeps the customs record of every issued licence and permit (flows F1 step 6, F2-F4, F6):
number, holder, type, goods codes, quantity and what is left of it, validity and status. The
issuing system registers a record through the gateway's AsyncChannel (``KedenRegisterRecord_v1``,
applied once per document number); anyone entitled looks records up through the SyncChannel by
number or by holder. ``models`` holds the record and its status rules, ``payload`` the XML ⇄
model mapping (contract ``xsd/keden.xsd``), ``store`` the durable table, ``service`` the one
app that serves both channels.
"""
