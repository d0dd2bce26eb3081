"""The SOAP layer: bytes in, SyncChannel messages out, and back again.

This package owns everything between the raw HTTP body and the gateway's message model:

* ``parser`` — hardened XML parsing (size, depth, DOCTYPE/XXE/entity refusals);
* ``envelope`` — the SOAP 1.1 envelope split and the mustUnderstand rule;
* ``sync`` — SyncChannel v10 ``SendMessage`` request/response models and envelope builders;
* ``async_`` — AsyncChannel v10: its messages (``models``), the gateway's four operations
  (``operations``), the PUSH side (``push``) and their shared parts (``messages``);
* ``fields`` — the tolerant field readers and writers both channels share, so they report a
  missing or unreadable field in the same words;
* ``faults`` — SOAP faults carrying a SHEP ``ErrorInfo`` and their parsing;
* ``schema`` — validation against the channel XSD and the services' payload XSDs;
* ``contracts`` — serving the WSDL/XSD contracts with their locations rewritten.

Signing and verifying is not here (see ``connectors.wsse``); this layer never mutates a parsed
tree, so signatures made over the received bytes stay verifiable.
"""
