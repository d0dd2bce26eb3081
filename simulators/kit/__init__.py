"""The skeleton every simulated system stands on, so that a system's package holds only its own.

The SOAP endpoints and their shell (``endpoint``: health, ``?wsdl``/``?xsd``, fault injection,
503 when down; ``provider``, ``participant`` with its durable ``inbox``), the payload reader and
writer with the one ``PayloadError`` (``payloads``, ``xml``), a registry's look-up by BIN/IIN
(``lookup``), business answers (``answers``), create-on-first-use tables (``tables``), the
process launcher (``launch``); state identifiers (IIN/BIN), business time (clock, working
calendar), fault injection (``fault_plans`` as data, ``faults`` applying them) and fixtures.
"""
