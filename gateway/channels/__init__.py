"""Intake: what arrives from a caller, from its arrival to the answer the caller gets.

``admission`` holds the checks every inbound message passes (signature, freshness, sender,
service, access, payload schema, replay); ``exchange`` is what every channel does around its own
logic; ``sync`` is the SyncChannel SendMessage exchange and ``async_channel`` the AsyncChannel
operations; ``context`` is the intake's ``GatewayContext``. An accepted message is handed on
through ``gateway/routing/``; what then goes to the provider is delivery's business
(``gateway/delivery/``), which never imports intake.
"""
