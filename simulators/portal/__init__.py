"""EGOV_PORTAL simulator — the e-government portal's applicant cabinet (жеке кабинет / личный
кабинет).

Owns, for now, only the portal's IAsyncChannelClient endpoint: results and status notifications
the gateway pushes land in its durable inbox, where testers read them (``GET /ops/inbox``,
``GET /ops/notifications``). Its business logic comes later.
"""
