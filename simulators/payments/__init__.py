"""PEP simulator — the e-government payment gateway (ЭҮТШ, «Электрондық үкіметтің төлем шлюзі» /
ПШЭП, «Платёжный шлюз электронного правительства»).

Payments are created, confirmed and looked up by payer and purpose. Unlike the registries, this
system has state that changes: payments live in a table (``store``, ``sim_pep_payments``) in the
simulators' database (SQLite or PostgreSQL by URL), seeded once from ``fixtures/payments.json``,
and survive restarts. ``rules`` decides the coded answers, ``payload`` maps them to the content of
SHEP ``data`` (``xsd/pep.xsd``), ``service`` serves them (``wsdl/PEP.wsdl``; services
``PepCreatePayment_v1``, ``PepConfirmPayment_v1``, ``PepPaymentsByPayer_v1``).
"""
