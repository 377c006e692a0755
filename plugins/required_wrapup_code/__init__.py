"""A queue that requires a wrap-up code keeps its agent in wrap-up until they pick one: choosing a status
(which otherwise ends a wrap-up early) is refused with a reason the agent sees."""

from __future__ import annotations

from typing import Any

from switchboard.hookspecs import Veto, hookimpl

REASON = "Pick a wrap-up code for your last call first."


@hookimpl
def status_change_requested(current: dict[str, Any]) -> Veto | None:
    """Refuse any status while the current wrap-up waits for a required code."""
    wrapup = current.get("wrapup")
    return Veto(REASON) if wrapup and wrapup.get("required") else None
