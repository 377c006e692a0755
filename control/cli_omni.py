"""``switchboard omni ...``: the Omni-Channel presence sync's mapping table and agents' Salesforce users.

The table is the seed's (1.3): an Omni presence status and its type beside a Switchboard status and its
type. The orchestrator reads it again within 10 s; linking an agent counts at the poller's next reload.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from switchboard import omni
from switchboard.config import Settings
from switchboard.salesforce import find_user_id, omni_statuses
from switchboard.store import Store

if TYPE_CHECKING:
    from switchboard.sfclient import SalesforceClient

SettingsOf = Callable[[click.Context], Settings]


def _client(settings: Settings) -> SalesforceClient:
    from switchboard.sfservices import SalesforceServices

    return SalesforceServices(settings).client


def salesforce_user(settings: Settings, user: str) -> str:
    """The Id of the Salesforce user ``user`` (an Id, checked, or a Username, looked up)."""
    user_id = _client(settings).call(lambda sf: find_user_id(sf, user))
    if user_id is None:
        raise click.ClickException(f"no Salesforce user {user!r}")
    return user_id


def register(main: click.Group, settings_of: SettingsOf) -> None:
    """Add ``omni ...`` to the CLI."""

    def store_of(ctx: click.Context) -> tuple[Settings, Store]:
        settings = settings_of(ctx)
        return settings, Store(settings.database_url)

    @main.group("omni")
    def omni_group() -> None:
        """Salesforce Omni-Channel presence sync: status mapping and agents' Salesforce users (seed 1.3)."""

    @omni_group.command("list")
    @click.pass_context
    def omni_list(ctx: click.Context) -> None:
        """The mapping table and the linked agents."""
        settings, store = store_of(ctx)
        kinds = {s.name: s.kind for s in store.list_statuses()}
        click.echo(f"{'Omni status':<22} {'Omni type':<9} {'Switchboard status':<20} {'type':<9} direction")
        for m in store.list_omni_mappings():
            kind = kinds.get(m.status, "system" if m.status in omni.SYSTEM_STATUSES else "?")
            click.echo(f"{m.omni_developer_name:<22} {m.omni_kind:<9} {m.status:<20} {kind:<9} {m.direction}")
        linked = [a for a in store.list_agents() if a.sf_user_id]
        sync = "on" if settings.omni_sync else "off (omni_sync)"
        limit = settings.omni_workload_limit
        click.echo(f"\nsync {sync}, every {settings.omni_poll_seconds:g} s"
                   + (f", In a Case at workload {limit}" if limit else ""))
        for a in linked:
            click.echo(f"  {a.sip_username:<14} {a.sf_user_id}")
        if not linked:
            click.echo("  no agent is linked to a Salesforce user (switchboard omni link AGENT USER)")

    @omni_group.command("map")
    @click.argument("omni_status")
    @click.argument("status")
    @click.option("--type", "omni_kind", type=click.Choice(omni.OMNI_KINDS), default="online", show_default=True,
                  help="The Omni status's type.")
    @click.option("--direction", type=click.Choice(omni.DIRECTIONS), default="both", show_default=True,
                  help="to_omni: only written to Omni (e.g. In a Call); from_omni: only read from it.")
    @click.option("--omni-id", default="", help="The status's Id (0N5…); looked up in Salesforce when left out.")
    @click.option("--label", default="", help="The status's label, for people.")
    @click.pass_context
    def omni_map(ctx: click.Context, omni_status: str, status: str, omni_kind: str, direction: str, omni_id: str,
                 label: str) -> None:
        """Map the Omni status OMNI_STATUS (its DeveloperName) to the Switchboard status STATUS."""
        settings, store = store_of(ctx)
        row = omni.OmniMapping(omni_status, status, omni_kind, omni_id, label, direction)
        problems = omni.check_mapping(row, [s.name for s in store.list_statuses()])
        if problems:
            raise click.ClickException("; ".join(problems))
        if not omni_id:
            omni_id, label = omni_status_id(settings, omni_status, label)
        store.upsert_omni_mapping(omni_status, omni_status_id=omni_id, omni_label=label, omni_kind=omni_kind,
                                  status=status, direction=direction)
        click.echo(f"{omni_status} ({omni_kind}) <-> {status} [{direction}]")

    @omni_group.command("unmap")
    @click.argument("omni_status")
    @click.pass_context
    def omni_unmap(ctx: click.Context, omni_status: str) -> None:
        """Remove the mapping of the Omni status OMNI_STATUS."""
        _, store = store_of(ctx)
        if not store.delete_omni_mapping(omni_status):
            raise click.ClickException(f"{omni_status!r} is not mapped")
        click.echo(f"{omni_status} unmapped")

    @omni_group.command("statuses")
    @click.pass_context
    def omni_statuses(ctx: click.Context) -> None:
        """The Omni presence statuses of the Salesforce org (to map)."""
        for r in _client(settings_of(ctx)).call(omni_statuses):
            click.echo(f"{r['DeveloperName']:<24} {r['Id']}  {r['MasterLabel']}")

    @omni_group.command("link")
    @click.argument("agent")
    @click.argument("user")
    @click.pass_context
    def omni_link(ctx: click.Context, agent: str, user: str) -> None:
        """Link AGENT to the Salesforce user USER (an Id, or a Username looked up); "" unlinks."""
        settings, store = store_of(ctx)
        user_id = salesforce_user(settings, user) if user else ""
        try:
            store.set_sf_user(agent, user_id)
        except LookupError as exc:
            raise click.ClickException(f"unknown agent {agent!r}") from exc
        click.echo(f"{agent}: Salesforce user {user_id or '-'}")


def omni_status_id(settings: Settings, developer_name: str, label: str) -> tuple[str, str]:
    """The Id (and the label, unless given) of the org's Omni status ``developer_name``."""
    row = next((r for r in _client(settings).call(omni_statuses) if r["DeveloperName"] == developer_name), None)
    if row is None:
        raise click.ClickException(f"Salesforce has no Omni status {developer_name!r} "
                                   "(see `switchboard omni statuses`)")
    return row["Id"], label or row["MasterLabel"]
