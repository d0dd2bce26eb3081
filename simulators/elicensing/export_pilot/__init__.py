"""The CIS export-permit pilot (seed 003, F3) as a service of E-licensing (ELICENSE).

Why inside ``simulators.elicensing``: order p.1 (seed L18-21) launches the pilot *inside* the
permit service of seed 002 — the same state service, export part only — and Rules p.15 names the
«Е-лицензиялау» IS as the system that sends terminations to KEDEN. So the committees' desk is a
back office of ELICENSE, served on ELICENSE's port, and its documents are E-licensing documents.

- ``goods``: order Annexes 1–3 (164 codes, data from the seed) and the committee of each;
- ``scope``: whether an export needs a permit (CIS, exemptions of order p.3, the pilot window);
- ``desk`` (the officers' steps and terms), with ``staff``, ``desk_faults`` and ``permit_life``
  (termination, execution reports); ``service`` (the SOAP services) with ``desk_http``.
"""
