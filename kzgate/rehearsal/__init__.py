"""Rehearsals as files: a tester's scenario (YAML) played against a running kzgate system.

This package owns the scenario format (``model``, on ``terms``, ``actions`` and ``checks``: pydantic
models whose JSON Schema is published at ``examples/scenarios/scenario.schema.json``), reading a
file with the line of every field (``loader``), playing the steps (``engine``: the actions in
``filings``, the expectations on the virtual business clock in ``expectations``, what a run yields
in ``results``), and the readable and JUnit reports (``report``). ``kzgate scenario`` is its
command.

It lives in the product, above the gateway and the simulators, because it is a *client* of the
whole system: it speaks the simulators' language (working days, refusal grounds, deadlines, the
shared virtual clock, fault plans) and reaches them only over HTTP (``/ops/*``) and signed SOAP
through the gateway (the ``connectors.client`` SDK and the CLI's public helpers, its neighbours in
``kzgate``), never their internals.
"""
