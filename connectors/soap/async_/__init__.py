"""AsyncChannel v10: message models of the gateway's four operations and of the PUSH interface.

Gateway side (participant → SHEP, sheet §3.1): ``sendMessage``, ``getMessageStatus``,
``sendDeliveryNotification``, ``getMessages``; each has ``parse_<op>`` for the received request,
``build_<op>_response`` for the answer, and, for participants (tests, the SDK),
``build_<op>_envelope`` and ``parse_<op>_response``.

PUSH side (SHEP → participant, sheet §3.2): ``build_send_message_envelope`` delivers a message,
``build_change_status_notification`` reports a state change; the participant's answers are read
with ``parse_send_message_response`` / ``parse_change_status_notification_response``.

Parsing is tolerant like ``sync``: children by local name, empty optional elements are absent,
dates with any offset or none. It does not validate: run ``schema.validate_operation(op, "async")``
first for a precise ``Client.Schema.Invalid``. ``data`` is kept as received and copied verbatim.

The package's face re-exports every message (``models``), operation (``operations``) and PUSH
message (``push``); ``messages`` holds the parts they share.
"""

from connectors.soap.async_ import models, operations, push
from connectors.soap.async_.models import *  # noqa: F403
from connectors.soap.async_.operations import *  # noqa: F403
from connectors.soap.async_.push import *  # noqa: F403

__all__ = [*models.__all__, *operations.__all__, *push.__all__]
