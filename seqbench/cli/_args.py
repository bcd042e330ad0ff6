"""Argument types shared by the commands (a bad value is a usage error:
argparse prints it with the usage line and exits 2), and ``CommandError``,
a failure a handler reports in one line (exit 1)."""

from __future__ import annotations

import argparse

__all__ = ["CommandError", "positive_int", "positive_float", "fraction"]


class CommandError(Exception):
    """A failure a handler reports as ``seqbench: error: <message>`` (exit 1)."""


def _number(text: str, cast, what: str, ok, rule: str):
    """``text`` read by ``cast``; an ``ArgumentTypeError`` saying ``rule``
    when it is not a number or ``ok(value)`` is false."""
    try:
        value = cast(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
    if not ok(value):
        raise argparse.ArgumentTypeError(f"{rule}, got {text}")
    return value


def positive_int(text: str) -> int:
    return _number(text, int, "a whole number", lambda v: v >= 1, "must be at least 1")


def positive_float(text: str) -> float:
    return _number(text, float, "a number", lambda v: v > 0, "must be a positive number")


def fraction(text: str) -> float:
    """A number strictly between 0 and 1 (a significance level)."""
    return _number(text, float, "a number", lambda v: 0 < v < 1, "must be between 0 and 1")
