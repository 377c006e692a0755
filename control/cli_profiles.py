"""``switchboard profile ...``: agent profiles (Puzzel's user profiles), their skill level per queue, and which
profile an agent works under.

An agent's memberships follow their profile (switchboard.profiles: penalty = 10 - skill, so the most skilled
are offered a queue's calls first); the running orchestrator renders the members again and reloads them in
Asterisk at once, without dropping calls or pauses (docs/routing.md).
"""

from __future__ import annotations

from collections.abc import Callable

import click

from control.cli_admin import applied
from switchboard.config import Settings
from switchboard.profiles import SKILL_MAX, penalty_for
from switchboard.store import Store

SettingsOf = Callable[[click.Context], Settings]


def register(main: click.Group, settings_of: SettingsOf) -> None:
    """Add ``profile ...`` to the CLI."""

    def store_of(ctx: click.Context) -> tuple[Settings, Store]:
        settings = settings_of(ctx)
        return settings, Store(settings.database_url)

    @main.group("profile")
    def profile() -> None:
        """Agent profiles: queues with a skill level (1..10) each, and pick mode."""

    @profile.command("list")
    @click.pass_context
    def profile_list(ctx: click.Context) -> None:
        """The profiles, their skills and the agents working under each."""
        _, store = store_of(ctx)
        profiles = store.list_profiles()
        if not profiles:
            click.echo("no profiles (switchboard profile add NAME)")
            return
        users: dict[int, list[str]] = {}
        for a in store.list_agents():
            if a.profile_id is not None:
                users.setdefault(a.profile_id, []).append(a.sip_username)
        for p in profiles:
            ordered = sorted(p.skills, key=lambda k: (-k.skill, k.queue.name))
            skills = ", ".join(f"{k.queue.name} {k.skill}" for k in ordered)
            click.echo(f"{p.name:<24} {'pick mode' if p.pick_mode else 'offered':<9}  {skills or 'no queues'}"
                       f"  agents: {', '.join(users.get(p.id, [])) or '-'}")

    @profile.command("add")
    @click.argument("name")
    @click.option("--pick-mode/--no-pick-mode", default=None,
                  help="Its agents pick calls from the queues themselves instead of being offered them.")
    @click.pass_context
    def profile_add(ctx: click.Context, name: str, pick_mode: bool | None) -> None:
        """Create the profile NAME (or change its pick mode)."""
        name = name.strip()
        if not name or len(name) > 100:
            raise click.BadParameter("a profile name has 1 to 100 characters", param_hint="NAME")
        _, store = store_of(ctx)
        row = store.save_profile(name, pick_mode=pick_mode)
        click.echo(f"profile {name!r}" + (", pick mode" if row.pick_mode else ""))

    @profile.command("skill")
    @click.argument("name")
    @click.argument("queue")
    @click.argument("level", type=click.IntRange(0, SKILL_MAX))
    @click.pass_context
    def profile_skill(ctx: click.Context, name: str, queue: str, level: int) -> None:
        """Set the skill LEVEL (1 lowest .. 10 highest; 0 takes the queue out) of the profile NAME in QUEUE (its
        name, label or number); the agents under it follow at once."""
        settings, store = store_of(ctx)
        q = store.find_queue(queue)
        if q is None:
            raise click.ClickException(f"unknown queue {queue!r}")
        try:
            agents = store.set_profile_skill(name, q.name, level or None)
        except LookupError as exc:
            raise click.ClickException(str(exc)) from exc
        what = f"skill {level} (penalty {penalty_for(level)})" if level else "no longer in it"
        click.echo(f"{name}: {q.name} {what}" + (f"; agents {', '.join(agents)} follow" if agents else "")
                   + (applied(settings) if agents else ""))

    @profile.command("remove")
    @click.argument("name")
    @click.pass_context
    def profile_remove(ctx: click.Context, name: str) -> None:
        """Delete the profile NAME; its agents keep their queues, without a profile."""
        _, store = store_of(ctx)
        try:
            agents = store.delete_profile(name)
        except LookupError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"profile {name!r} removed" + (f"; {', '.join(agents)} keep their queues" if agents else ""))

    @profile.command("use")
    @click.argument("agent")
    @click.argument("name")
    @click.pass_context
    def profile_use(ctx: click.Context, agent: str, name: str) -> None:
        """AGENT works under the profile NAME from now on: their queues become its queues ("" : no profile,
        queues as they are)."""
        settings, store = store_of(ctx)
        try:
            store.use_profile(agent, name or None)
        except LookupError as exc:
            raise click.ClickException(str(exc)) from exc
        if not name:
            click.echo(f"{agent}: no profile (queues as they are)")
            return
        queues = ", ".join(f"{m.queue.name} (penalty {m.penalty})" for m in sorted(
            next(a for a in store.list_agents() if a.sip_username == agent).memberships, key=lambda m: m.penalty))
        click.echo(f"{agent}: profile {name!r}, queues {queues or '-'}" + applied(settings))
