"""The registry of senders and services: who a system is, where a serviceId goes, who may call it.

Loaded from a TOML catalogue (``catalogue.toml`` beside this file by default, ``KZGATE_CATALOGUE``
to replace it); each system's transport certificate comes from the PKI directory.
"""

from gateway.registry.catalogue import Registry, Sender, Service, load_registry

__all__ = ["Registry", "Sender", "Service", "load_registry"]
