"""What operators watch: Prometheus metrics and W3C trace context across every hop.

This package owns the metric families the gateway and the simulators expose at ``/metrics``
(``metrics``), the scrape endpoint itself (``scrape``), and trace propagation and span export
(``tracing``). It reads the other packages' state; nothing in it decides an exchange's fate.
"""
