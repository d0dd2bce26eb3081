"""Fault codes of the exchange itself: who may call what, the AsyncChannel, the providers and
the gateway.
"""

from __future__ import annotations

from connectors.errors.codes import declare

__all__ = [
    "ASYNC_CORRELATION_REQUIRED",
    "ASYNC_MESSAGE_ID_REUSED",
    "ASYNC_NOT_RECEIVER",
    "ASYNC_UNKNOWN_MESSAGE",
    "AUTH_BACKOFF",
    "BROKER_UNAVAILABLE",
    "DEADLINE",
    "INTERNAL",
    "PROVIDER_BAD_ANSWER",
    "PROVIDER_BAD_SIGNATURE",
    "PROVIDER_FAULT",
    "PROVIDER_TIMEOUT",
    "PROVIDER_UNREACHABLE",
    "SERVICE_NOT_ALLOWED",
    "UNKNOWN_SENDER",
    "UNKNOWN_SERVICE",
    "WRONG_CHANNEL",
    "WRONG_PASSWORD",
]


# --- Who may call what -------------------------------------------------------------------------
UNKNOWN_SENDER = declare(
    "Client.Auth.UnknownSender",
    "The senderId is not registered",
    "Use the senderId issued to your system when it was registered with the gateway.",
)
WRONG_PASSWORD = declare(
    "Client.Auth.WrongPassword",
    "The sender's password is wrong or missing",
    "Send the password issued with the senderId in requestInfo/sender/password.",
)
SERVICE_NOT_ALLOWED = declare(
    "Client.Auth.ServiceNotAllowed",
    "This sender may not call this service",
    "Ask the service's owner to grant your system access in the gateway registry.",
)
AUTH_BACKOFF = declare(
    "Client.Auth.TooManyAttempts",
    "Too many wrong passwords for this sender: wait before trying again",
    "The detail says how many seconds to wait; each further wrong password doubles it. Check the "
    "password issued with the senderId.",
)
UNKNOWN_SERVICE = declare(
    "Client.Routing.UnknownService",
    "No service is registered under this serviceId",
    "serviceId is case-sensitive; GET /services lists the catalogue.",
    "SCE004",
)
WRONG_CHANNEL = declare(
    "Client.Routing.WrongChannel",
    "The service is not offered on this channel",
    "Call asynchronous services through the AsyncChannel; GET /services gives each one's mode.",
    "SCE004",
)

# --- The AsyncChannel ----------------------------------------------------------------------------
ASYNC_MESSAGE_ID_REUSED = declare(
    "Client.Async.MessageIdReused",
    "This messageId was already used for a different message",
    "Resending the same message under its messageId is safe; a new message needs a new id "
    "(or leave messageId empty and the gateway assigns one).",
)
ASYNC_CORRELATION_REQUIRED = declare(
    "Client.Async.CorrelationRequired",
    "A NOTIFICATION, UPDATE or RESPONSE must carry the correlationId of its REQUEST",
    "Copy correlationId from the sendMessage answer of the original REQUEST.",
)
ASYNC_UNKNOWN_MESSAGE = declare(
    "Client.Async.UnknownMessage",
    "No message with this messageId was sent by or to this sender",
    "Use the messageId returned by sendMessage; only its sender and receiver may ask after it.",
)
ASYNC_NOT_RECEIVER = declare(
    "Client.Async.NotReceiver",
    "Only the receiving system may fetch or acknowledge these messages",
    "getMessages and sendDeliveryNotification are for the system that provides the service.",
)
BROKER_UNAVAILABLE = declare(
    "Server.Broker.Unavailable",
    "The message broker did not confirm the message; it was not accepted",
    "Send the same message again (same messageId): it will be accepted once.",
)

# --- Providers and the gateway itself ----------------------------------------------------------
PROVIDER_UNREACHABLE = declare(
    "Server.Provider.Unreachable",
    "The provider's system could not be reached",
    "Retry later; the provider is down or its endpoint is misconfigured.",
    "SCE004",
)
PROVIDER_TIMEOUT = declare(
    "Server.Provider.Timeout",
    "The provider did not answer in time",
    "Retry later; the timeout is in /health (providerTimeoutSeconds).",
)
PROVIDER_FAULT = declare(
    "Server.Provider.Fault",
    "The provider answered with a fault",
    "See subError for the provider's own code and message.",
    "SCE909",
)
PROVIDER_BAD_ANSWER = declare(
    "Server.Provider.InvalidAnswer",
    "The provider's answer is malformed or breaks the channel schema",
    "The provider must answer a signed SendMessageResponse; report it to its owner.",
    "SCE909",
)
PROVIDER_BAD_SIGNATURE = declare(
    "Server.Provider.SignatureRejected",
    "The provider's answer failed transport-signature verification",
    "subError gives the exact reason; the provider must sign with its registered key.",
    "SCE006",
)
DEADLINE = declare(
    "Server.Gateway.Deadline",
    "The gateway could not finish checking the message within its deadline",
    "Retry later; a message refused this way every time is too heavy to check: make it smaller. "
    "The deadline is in /health (requestDeadlineSeconds).",
)
INTERNAL = declare(
    "Server.Internal",
    "The gateway failed while handling the message",
    "Retry; if it persists, report the sessionId to the gateway operator.",
    "SCE909",
)
