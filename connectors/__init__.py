"""Connectors between the gateway and state systems, and the client SDK a state system (or a test)
uses to call the gateway: build the SyncChannel request, sign it, send it, verify the answer.
"""
