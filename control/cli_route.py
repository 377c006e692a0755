"""``switchboard route ...``: why a call went where it went, and the routing rules' check."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

import click

from switchboard.config import Settings
from switchboard.routing import explain
from switchboard.store import Store

SettingsOf = Callable[[click.Context], Settings]


def register(main: click.Group, settings_of: SettingsOf) -> None:
    """Add ``route ...`` to the CLI."""

    @main.group("route")
    def route_group() -> None:
        """Smart routing: decision traces of routed calls (docs/routing.md)."""

    @route_group.command("explain")
    @click.argument("call_id")
    @click.option("--json", "as_json", is_flag=True, help="The stored trace as JSON.")
    @click.pass_context
    def route_explain(ctx: click.Context, call_id: str, as_json: bool) -> None:
        """Why call CALL_ID went where it went: who decided, the rules matched, the data used, the time taken."""
        trace = Store(settings_of(ctx).database_url).get_trace(call_id)
        if trace is None:
            raise click.ClickException(f"no routing trace for call {call_id!r} (not an inbound call, or not routed)")
        click.echo(json.dumps(trace, indent=2, ensure_ascii=False) if as_json else explain(trace))

    @route_group.command("check")
    @click.argument("rules", default="demo")
    @click.pass_context
    def route_check(ctx: click.Context, rules: str) -> None:
        """Check a salesforce_rules file (RULES: a path, or `demo`): every problem with its line."""
        from plugins.salesforce_rules.rules import check_rules

        try:  # queue names are checked too where the database is at hand
            queues = [q.name for q in Store(settings_of(ctx).database_url).list_queues()] or None
        except Exception:
            queues = None
        problems = check_rules(rules, queues)
        for problem in problems:
            click.echo(problem, err=True)
        if problems:
            raise click.ClickException(f"{len(problems)} problem(s) in {rules}")
        click.echo(f"{rules}: the rules are valid")

    @route_group.command("recent")
    @click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
    @click.pass_context
    def route_recent(ctx: click.Context, limit: int) -> None:
        """The newest routed calls: when, caller, outcome, who decided, where."""
        traces = Store(settings_of(ctx).database_url).recent_traces(limit)
        click.echo(f"{'when':<19} {'call id':<22} {'caller':<16} {'outcome':<9} {'plugin':<18} decision")
        for t in traces:
            when = datetime.fromtimestamp(float(t.get("at") or 0)).strftime("%Y-%m-%d %H:%M:%S")
            d = t.get("decision") or {}
            where = ", ".join(f"{k}={d[k]}" for k in ("queue", "priority", "skip_ivr", "agent") if d.get(k))
            click.echo(f"{when:<19} {t.get('call_id', ''):<22} {t.get('caller_number', '')!s:<16} "
                       f"{t.get('outcome', ''):<9} {t.get('plugin', ''):<18} {where or '-'}")
        if not traces:
            click.echo("no routed calls yet")
