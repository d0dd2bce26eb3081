"""Simulators of the state information systems behind the gateway, one package per system.

Each simulator is a SHEP provider of its own (its WSDL and payload XSD live in ``wsdl/`` and
``xsd/``) and reaches the other systems only through the gateway. ``kit`` holds what they share.
"""
