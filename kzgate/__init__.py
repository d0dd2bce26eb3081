"""The product: the ``kzgate`` command line and the rehearsal engine that drive the gateway and
the simulators together.

- ``cli``: the ``kzgate`` command (``main``), one module per command group — start the system
  (``up``, ``serve``), send signed requests, read the message log, steer the simulators' clocks
  and faults, play the demos and the officer, run hostile envelopes (``attack``);
- ``rehearsal``: a tester's scenario (YAML) played against a running system, with its readable
  and JUnit reports (``kzgate scenario``).

It is the top layer: it stands on ``gateway``, ``simulators`` and the ``connectors`` kit, and
nothing of those imports it (``tests/test_architecture.py``). That is why it is a package of its
own: a command that starts the gateway beside every simulator, or a demo that files a licence and
then reads the simulator's store, needs both sides, which stand on the kit and never on each other.
"""
