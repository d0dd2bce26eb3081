"""KGD simulator — the tax authority, State Revenue Committee (КГД, Мемлекеттік кірістер комитеті).

Two read-only registries behind one SHEP SyncChannel endpoint: the monthly calculation index
(MRP, АЕК / МРП) of each year (``fixtures/mrp.json``, configurable) and taxpayers' tax-debt
information by BIN/IIN (``fixtures/tax_debts.json``). ``rules`` decides the answers, ``payload``
maps them to the content of SHEP ``data`` (``xsd/kgd.xsd``), ``service`` serves them
(``wsdl/KGD.wsdl``; services ``KgdMrpByYear_v1`` and ``KgdTaxDebt_v1``).
"""
