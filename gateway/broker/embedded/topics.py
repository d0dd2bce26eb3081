"""AMQP topic matching, which the embedded broker does itself when it fans an event out."""

from __future__ import annotations


def topic_matches(binding_key: str, routing_key: str) -> bool:
    """AMQP topic matching: words split on '.', ``*`` is one word, ``#`` zero or more."""
    return _match(tuple(binding_key.split(".")), tuple(routing_key.split(".")))


def _match(pattern: tuple[str, ...], words: tuple[str, ...]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_match(rest, words[i:]) for i in range(len(words) + 1))
    if not words:
        return False
    return head in ("*", words[0]) and _match(rest, words[1:])


__all__ = ["topic_matches"]
