"""What operators watch: Prometheus metrics and W3C trace context across every hop.

This package owns the metric families the gateway exposes at ``/metrics`` (``metrics``), the
gateway's scrape endpoint (``scrape``) and the broker's share of tracing (``tracing``: trace
context in AMQP headers). What every process shares — trace setup, spans and the HTTP middleware,
the exposition of a scrape — is the kit's ``connectors.tracing`` and ``connectors.scrape``. It
reads the other packages' state; nothing in it decides an exchange's fate.
"""
