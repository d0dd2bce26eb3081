"""Delivery: what happens to a message after the gateway accepted it — the provider-facing
queue worker (``connector``) that takes a message off a system's queue and hands it to the
provider's endpoint.
"""
