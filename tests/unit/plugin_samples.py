"""Plugins for tests/unit/test_plugins.py, loaded through (fake) entry points."""

from __future__ import annotations

from switchboard.hookspecs import hookimpl


class Counting:
    """Counts the calls that ended."""

    def __init__(self) -> None:
        self.ended = 0

    @hookimpl
    def call_ended(self) -> None:
        self.ended += 1


class Misspelt:
    @hookimpl
    def call_offered(self, agnet: str) -> None:
        pass


counting = Counting()
misspelt = Misspelt()
