"""The integration gateway: plays the e-government gateway (ШЭП, SHEP) between state systems.

It authenticates senders, checks transport signatures, routes by serviceId, keeps a hash-chained
record of every hop and hands messages to providers. One concern per sub-package.
"""
