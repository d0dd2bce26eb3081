"""E-licensing («Е-лицензиялау»): the state IS that issues import/export licences and permits.

This package is the domain core of the simulator, pure and without I/O beyond reading its own
fixtures:

- ``forms``: the applicant's inputs — the licence application (licence rules, Annexes 1/2) and
  the draft permit (permit rules, Annexes 1/2);
- ``rules``: the decision on a licence by the seven refusal grounds R1–R7 (licence rules para 7),
  and the structural check of a draft permit (the permit rules define no refusal); the grounds
  themselves in ``grounds``, the facts judged in ``rule_facts``, R2/R4/R5 in ``rules_trade``, the
  fee (R6) in ``rules_fee``;
- ``documents``: the XML documents (``xsd/elicense.xsd``) — application, licence (Annexes 5/6),
  motivated refusal (Annex 4), draft permit and permit (permit rules, Annexes 4/5) — with the
  issuing system's enveloped XML-DSig as field 18; one face over ``issued_documents``,
  ``document_writing`` and ``document_reading``;
- ``records``: E-licensing's own registers (activity licences, quotas, international
  obligations, the EAEU-rule parameters), loaded from ``fixtures/``.

Design choices for the points the law leaves open are listed in ``DESIGN.md`` beside this file.
"""
