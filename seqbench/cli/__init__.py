"""The ``seqbench`` command line (``run``, ``results``, ``report``, ``list``,
``datasets``); ``python -m seqbench`` runs it too. See ``_main`` for the
exit statuses."""

from ._main import COMMANDS, CommandError, build_parser, main

__all__ = ["main", "build_parser", "COMMANDS", "CommandError"]
