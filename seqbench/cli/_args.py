"""Argument types shared by the commands (a bad value is a usage error:
argparse prints it with the usage line and exits 2), and ``CommandError``,
a failure a handler reports in one line (exit 1)."""

from __future__ import annotations

import argparse

__all__ = ["CommandError", "positive_int", "positive_float", "fraction"]


class CommandError(Exception):
    """A failure a handler reports as ``seqbench: error: <message>`` (exit 1)."""


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def fraction(text: str) -> float:
    """A number strictly between 0 and 1 (a significance level)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value
