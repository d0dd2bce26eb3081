"""The operators' and testers' web console at ``/console``.

This package owns the console: operator login (``auth``), what each page shows and each action
does (``backend``, shared with the JSON API and the CLI twins), the sequence diagram of a flow
(``diagram``), and the HTTP routes, pages and their small script (``routes``, ``templates/``,
``static/``). It reads the message log, the broker and the simulators' ops endpoints; it changes
nothing but what an operator asks for (a replay, a checkpoint, a clock, a fault plan).
"""
