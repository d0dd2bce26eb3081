"""Listen to the gateway's events on RabbitMQ and check each one's transport signature.

Each event's body is the signed XML of the message it is about (signed by the gateway); its AMQP
headers carry messageId, correlationId, serviceId, sender, receiver, type and state. The
signature is checked with signxml, an XML-DSig implementation independent of the gateway's, and
must cover the SOAP Body.

    .venv/bin/python examples/events_consumer.py --binding 'message.#' \\
        --gateway-cert var/pki/GATEWAY.pem [--count 10]
"""

from __future__ import annotations

import argparse
import asyncio

import aio_pika
from lxml import etree
from signxml import XMLVerifier

SOAP_BODY = "{http://schemas.xmlsoap.org/soap/envelope/}Body"


async def consume(url: str, exchange: str, binding: str, cert: str, count: int) -> None:
    connection = await aio_pika.connect_robust(url)
    async with connection:
        channel = await connection.channel()
        events = await channel.declare_exchange(exchange, aio_pika.ExchangeType.TOPIC, durable=True)
        queue = await channel.declare_queue(exclusive=True)  # this listener's own, deleted after
        await queue.bind(events, routing_key=binding)
        print(f"listening on {exchange} for {binding}", flush=True)
        seen = 0
        async with queue.iterator() as messages:
            async for message in messages:
                async with message.process():  # ack once handled
                    signed = XMLVerifier().verify(message.body, x509_cert=cert).signed_xml
                    if signed.tag != SOAP_BODY:
                        raise ValueError("the signature does not cover the SOAP Body")
                    headers = {k: str(v) for k, v in (message.headers or {}).items()}
                    print(
                        f"{message.routing_key} {headers.get('messageId')} "
                        f"{headers.get('state')} signature ok, "
                        f"{len(etree.tostring(signed))} signed bytes",
                        flush=True,
                    )
                seen += 1
                if seen == count:
                    return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--amqp", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--exchange", default="kzgate.events")
    parser.add_argument("--binding", default="message.#", help="topic, e.g. licence.* or #")
    parser.add_argument("--gateway-cert", default="var/pki/GATEWAY.pem")
    parser.add_argument("--count", type=int, default=0, help="stop after N events (0: never)")
    args = parser.parse_args()
    with open(args.gateway_cert, encoding="ascii") as pem:
        cert = pem.read()
    asyncio.run(consume(args.amqp, args.exchange, args.binding, cert, args.count))


if __name__ == "__main__":
    main()
