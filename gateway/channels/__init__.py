"""The channels the gateway offers state systems: what happens to a message from arrival to answer.

``admission`` holds the checks every inbound message passes (signature, freshness, sender,
service, access, payload schema, replay); ``sync`` is the SyncChannel SendMessage exchange.
"""
