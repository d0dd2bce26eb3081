"""MONITORING simulator — the state-services monitoring information system (мемлекеттік
қызметтер мониторингі АЖ / ИС мониторинга госуслуг).

Owns the record of application stage events: systems report each stage an application reaches
(REGISTERED, IN_WORK, ISSUED …) as an AsyncChannel NOTIFICATION pushed by the gateway. ``payload``
maps the StageEvent carried in ``data`` (contract ``xsd/monitoring.xsd``); ``service`` is the
IAsyncChannelClient endpoint that accepts only valid stage events into its durable inbox.
"""
