"""The W3C trace context a participant sends with an outgoing call (``traceparent``).

The kit only propagates the current context; starting spans and exporting them is the running
process's business (the gateway's is ``gateway.observability.tracing``).
"""

from opentelemetry import propagate


def trace_headers() -> dict[str, str]:
    """``traceparent`` (and ``tracestate``) of the current span, to send with a request."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier
