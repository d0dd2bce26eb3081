"""Delivery: what goes to a provider after the gateway accepted a message.

``connector`` is the provider-facing queue worker, one per system: it takes a message off the
system's queue and hands it to the system — a SyncChannel request as the answering end of the RPC
(``gateway/routing/sync_rpc.py``), an AsyncChannel message or a status notification as a push —
with retries, dead letters and the notification that follows. ``context`` is its narrow
``DeliveryContext``, built once by ``gateway/assembly.py``; delivery never imports intake
(``gateway/channels/``), which ``tests/test_architecture.py`` enforces.
"""
