"""Admin commands: availability statuses, queue wrap-up, agents' work numbers and settings, workflow fields.

Everything lands in the database; nothing needs a restart: the orchestrator reloads statuses and work
numbers on a ``provision`` command (Asterisk's dialplan and queues are reloaded, never restarted), a
queue's wrap-up is read when a call ends, and the web app and worker re-read the workflow settings
within ``switchboard.store.live.REFRESH_SECONDS``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click
import phonenumbers

from switchboard.config import ADMIN_SETTINGS, OUTBOUND_OTHER_OBJECT, SEARCH_SCOPES, ConfigError, Settings
from switchboard.config import check_admin_setting as _check
from switchboard.sip import DEVICES, SIP, WEBRTC, phone_account
from switchboard.store import Store

SettingsOf = Callable[[click.Context], Settings]
STATUS_TYPES = ("available", "busy", "dnd", "offwork")
WORKFLOWS = ("case", "case_dialog", "contact_account", "contact_lead")
# switchboard admin workflow set: option -> admin setting
WORKFLOW_OPTIONS = {
    "search_in": "workflow_search_in", "contact_columns": "workflow_contact_columns",
    "account_columns": "workflow_account_columns", "lead_columns": "workflow_lead_columns",
    "case_columns": "workflow_case_columns", "case_search_fields": "workflow_case_search_fields",
    "outbound_other_object": "outbound_other_object",
}


def notify_orchestrator(settings: Settings) -> bool:
    """Ask the running orchestrator to provision again (agents, work numbers, statuses); False if none ran."""
    import redis

    from switchboard.commands import encode
    from switchboard.contracts import COMMAND_CHANNEL, PROVISION

    try:
        return bool(redis.Redis.from_url(settings.redis_url).publish(COMMAND_CHANNEL, encode(PROVISION)))
    except redis.RedisError:
        return False


def applied(settings: Settings) -> str:
    """The note that ends an admin command's output."""
    return "" if notify_orchestrator(settings) else " (no orchestrator running: applied at its next start)"


def work_number(text: str, region: str) -> str:
    """A work number as E.164 (``+358501234567``); '' clears it; raises click.BadParameter otherwise."""
    if not text.strip():
        return ""
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise click.BadParameter(f"{text!r} is not a phone number") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise click.BadParameter(f"{text!r} is not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def check_work_number(store: Store, username: str, number: str) -> None:
    """Refuse a work number that is another user's or a queue's inbound number."""
    if not number:
        return
    owner = store.user_with_work_number(number)
    if owner is not None and owner.username != username:
        raise click.ClickException(f"{number} is already the work number of {owner.username}")
    queue = next((q for q in store.list_queues() if q.number == number), None)
    if queue is not None:
        raise click.ClickException(f"{number} is the number of the queue {queue.label!r}")


def register(main: click.Group, agent: click.Group, settings_of: SettingsOf) -> None:
    """Add ``admin ...`` and ``agent set`` / ``agent list`` to the CLI."""

    def store_of(ctx: click.Context) -> tuple[Settings, Store]:
        settings = settings_of(ctx)
        return settings, Store(settings.database_url)

    @main.group()
    def admin() -> None:
        """Tenant configuration: statuses, queue wrap-up, workflow fields (applied without a restart)."""

    # statuses -------------------------------------------------------------------------------------
    @admin.group("status")
    def status() -> None:
        """Named availability statuses of the four types (seed 1.2.2), optionally timed."""

    @status.command("list")
    @click.pass_context
    def status_list(ctx: click.Context) -> None:
        """List the statuses agents choose from."""
        _, store = store_of(ctx)
        for s in store.list_statuses():
            minutes = f"{s.duration_minutes} min" if s.duration_minutes else "continuous"
            click.echo(f"{s.name:<24} {s.kind:<10} {minutes}")

    @status.command("set")
    @click.argument("name")
    @click.option("--type", "kind", type=click.Choice(STATUS_TYPES), required=True,
                  help="available, busy, dnd or offwork: which calls reach the agent.")
    @click.option("--minutes", type=click.IntRange(1, 7 * 24 * 60), default=None,
                  help="The agent is Available again after this long (e.g. 'Busy (60 min)').")
    @click.pass_context
    def status_set(ctx: click.Context, name: str, kind: str, minutes: int | None) -> None:
        """Create or change the status NAME, e.g. set "Busy (60 min)" --type busy --minutes 60."""
        name = name.strip()
        if not name or len(name) > 100:
            raise click.BadParameter("a status name has 1 to 100 characters", param_hint="NAME")
        settings, store = store_of(ctx)
        store.upsert_status(name, kind, minutes)
        click.echo(f"status {name!r}: {kind}" + (f", {minutes} min" if minutes else "") + applied(settings))

    @status.command("rename")
    @click.argument("name")
    @click.argument("new_name")
    @click.pass_context
    def status_rename(ctx: click.Context, name: str, new_name: str) -> None:
        """Rename the status NAME; agents in it and their schedules keep it under NEW_NAME."""
        new_name = new_name.strip()
        if not new_name or len(new_name) > 100:
            raise click.BadParameter("a status name has 1 to 100 characters", param_hint="NEW_NAME")
        settings, store = store_of(ctx)
        try:
            store.rename_status(name, new_name)
        except (LookupError, ValueError) as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"status {name!r} is now {new_name!r}" + applied(settings))

    @status.command("delete")
    @click.argument("name")
    @click.pass_context
    def status_delete(ctx: click.Context, name: str) -> None:
        """Delete the status NAME: agents in it keep its type and end time; its schedules are dropped."""
        settings, store = store_of(ctx)
        try:
            users, dropped = store.delete_status(name)
        except LookupError as exc:
            raise click.ClickException(str(exc)) from exc
        kept = f"; {', '.join(users)} keep its type until they choose another" if users else ""
        schedules = f"; {dropped} scheduled availabilit{'y' if dropped == 1 else 'ies'} dropped" if dropped else ""
        click.echo(f"status {name!r} deleted{kept}{schedules}" + applied(settings))

    # queues ---------------------------------------------------------------------------------------
    @admin.group("queue")
    def queue() -> None:
        """Service pool queues: wrap-up time and codes, SLA threshold."""

    @queue.command("list")
    @click.pass_context
    def queue_list(ctx: click.Context) -> None:
        """List the queues with their numbers and wrap-up."""
        _, store = store_of(ctx)
        for q in store.list_queues():
            codes = json.loads(q.wrapup_codes or "[]")
            wrapup = f"wrap-up {q.wrapup_seconds} s" if q.wrapup_seconds else "no wrap-up time"
            need = ", code required" if q.wrapup_required and codes else ""
            click.echo(f"{q.name:<10} {q.label:<24} {q.number:<16} SLA {q.sla_seconds} s; {wrapup}{need}; codes: "
                       f"{', '.join(codes) or '-'}")

    @queue.command("wrapup")
    @click.argument("queue_key", metavar="QUEUE")
    @click.option("--seconds", type=click.IntRange(0, 3600), default=None,
                  help="Wrap-up time after an answered call (0: none).")
    @click.option("--code", "codes", multiple=True, help="A wrap-up code (repeatable; replaces the codes).")
    @click.option("--no-codes", is_flag=True, help="Remove every wrap-up code.")
    @click.option("--required/--optional", default=None,
                  help="Whether the agent must pick a code (wrap-up lasts until they do).")
    @click.pass_context
    def queue_wrapup(ctx: click.Context, queue_key: str, seconds: int | None, codes: tuple[str, ...],
                     no_codes: bool, required: bool | None) -> None:
        """Set QUEUE's wrap-up (name, label or number); options left out keep their value."""
        settings, store = store_of(ctx)
        q = store.find_queue(queue_key)
        if q is None:
            raise click.ClickException(f"unknown queue {queue_key!r}")
        if codes and no_codes:
            raise click.UsageError("give --code or --no-codes, not both")
        cleaned = [c.strip()[:100] for c in codes if c.strip()]
        new_codes = [] if no_codes else cleaned or json.loads(q.wrapup_codes or "[]")
        new_seconds = q.wrapup_seconds if seconds is None else seconds
        new_required = q.wrapup_required if required is None else required
        if new_required and not new_codes:
            raise click.ClickException("a required wrap-up code needs codes (--code)")
        store.set_queue_wrapup(q.name, new_seconds, new_codes, new_required)
        click.echo(f"{q.label}: wrap-up {new_seconds} s, codes {', '.join(new_codes) or '-'}"
                   + (" (required)" if new_required else "") + applied(settings))

    @queue.command("sla")
    @click.argument("queue_key", metavar="QUEUE")
    @click.argument("seconds", type=click.IntRange(1, 3600))
    @click.pass_context
    def queue_sla(ctx: click.Context, queue_key: str, seconds: int) -> None:
        """Set QUEUE's SLA threshold: its callers should be answered within SECONDS. A waiting caller's SLA
        score is their wait over it; an agent in several queues is offered the highest score first."""
        settings, store = store_of(ctx)
        q = store.find_queue(queue_key)
        if q is None:
            raise click.ClickException(f"unknown queue {queue_key!r}")
        store.set_queue_sla(q.name, seconds)
        click.echo(f"{q.label}: SLA threshold {seconds} s" + applied(settings))

    # workflow settings ----------------------------------------------------------------------------
    @admin.group("workflow")
    def workflow() -> None:
        """The phone workflows' search fields, result columns and outbound relation (seed section 2)."""

    @workflow.command("show")
    @click.pass_context
    def workflow_show(ctx: click.Context) -> None:
        """Print the workflow settings in effect (and which ones an admin changed)."""
        from switchboard.config import with_overrides

        settings, store = store_of(ctx)
        overrides = store.admin_settings()
        effective = with_overrides(settings, overrides)
        for name in ADMIN_SETTINGS:
            value = getattr(effective, name)
            shown = ",".join(value) if isinstance(value, tuple) else value
            click.echo(f"{name:<30} {shown or '-'}" + ("  (admin)" if name in overrides else ""))

    @workflow.command("set")
    @click.option("--search-in", type=click.Choice(SEARCH_SCOPES, case_sensitive=False),
                  help="Where the name search looks (SOSL IN ... FIELDS).")
    @click.option("--contact-columns", help='Extra result columns of contacts, e.g. "Title,Email" ("" none).')
    @click.option("--account-columns", help="Extra result columns of accounts.")
    @click.option("--lead-columns", help="Extra result columns of leads.")
    @click.option("--case-columns", help="Extra columns of the CaseDialog's case list.")
    @click.option("--case-search-fields", help='Fields "search another case" looks in besides the case '
                                               'number, e.g. "Subject" (filterable text fields).')
    @click.option("--outbound-other-object", type=click.Choice(OUTBOUND_OTHER_OBJECT),
                  help="Relate an outbound call dialled from a non-contact record to it, or not (default).")
    @click.pass_context
    def workflow_set(ctx: click.Context, **options: Any) -> None:
        """Change workflow settings for everyone; they apply within seconds, without a restart."""
        changes = {WORKFLOW_OPTIONS[k]: v for k, v in options.items() if v is not None}
        if not changes:
            raise click.UsageError("give at least one setting to change (see --help)")
        _, store = store_of(ctx)
        for name, raw in changes.items():
            try:
                value = _check(name, raw)
            except ConfigError as exc:
                raise click.BadParameter(str(exc)) from exc
            store.set_admin_setting(name, list(value) if isinstance(value, tuple) else value)
            click.echo(f"{name} = {','.join(value) if isinstance(value, tuple) else value}")

    @workflow.command("reset")
    @click.argument("names", nargs=-1, type=click.Choice(ADMIN_SETTINGS))
    @click.pass_context
    def workflow_reset(ctx: click.Context, names: tuple[str, ...]) -> None:
        """Forget the admin's changes to NAMES (all when none given): back to the configured values."""
        _, store = store_of(ctx)
        for name in names or ADMIN_SETTINGS:
            store.set_admin_setting(name, None)
        click.echo(f"reset {', '.join(names) if names else 'every workflow setting'}")

    # agents ---------------------------------------------------------------------------------------
    @agent.command("set")
    @click.argument("username")
    @click.option("--work-number", help='The agent\'s personal work number (a DID on the trunk); "" clears it.')
    @click.option("--workflow", "phone_workflow", type=click.Choice(WORKFLOWS), help="The phone workflow.")
    @click.option("--outbound-other-object", type=click.Choice([*OUTBOUND_OTHER_OBJECT, "tenant"]),
                  help="This user's own outbound setting; 'tenant' follows `admin workflow set`.")
    @click.option("--device", type=click.Choice(DEVICES), help="webrtc: the web phone; sip: a desk phone or "
                  "softphone over UDP/TCP (prints the account it registers with).")
    @click.option("--rotate", is_flag=True, help="Give the agent a new SIP password (the old one stops working).")
    @click.pass_context
    def agent_set(ctx: click.Context, username: str, work_number: str | None, phone_workflow: str | None,
                  outbound_other_object: str | None, device: str | None, rotate: bool) -> None:
        """Change an agent's work number, phone workflow, outbound setting, device or SIP password (no restart)."""
        settings, store = store_of(ctx)
        fields: dict[str, str] = {}
        if work_number is not None:
            fields["work_number"] = set_work_number(store, settings, username, work_number)
        if phone_workflow is not None:
            fields["phone_workflow"] = phone_workflow
        if outbound_other_object is not None:
            fields["outbound_other_object"] = "" if outbound_other_object == "tenant" else outbound_other_object
        if not fields and device is None and not rotate:
            raise click.UsageError("give at least one setting to change (see --help)")
        if (device is not None or rotate) and not settings.secret_key:
            raise click.ClickException("SWITCHBOARD_SECRET_KEY is not set")
        try:
            if fields:
                store.update_user(username, **fields)
            if device is not None:
                store.set_device(username, device)
                fields["device"] = device
            if rotate:
                fields["sip_generation"] = str(store.rotate_sip_password(username, settings.secret_key))
        except LookupError as exc:
            raise click.ClickException(f"unknown agent {username!r}") from exc
        shown = ", ".join(f"{k} = {v or '-'}" for k, v in fields.items())
        reprovision = {"work_number", "device", "sip_generation"} & set(fields)
        click.echo(f"{username}: {shown}" + (applied(settings) if reprovision else ""))
        if device == SIP or (rotate and store.get_agent(username).device == SIP):
            echo_phone_account(settings, store, username)
        elif rotate:
            click.echo("The web phone picks the new password up at its next page load.")

    @agent.command("phone")
    @click.argument("username")
    @click.pass_context
    def agent_phone(ctx: click.Context, username: str) -> None:
        """Print the account a SIP phone registers with as this agent."""
        settings, store = store_of(ctx)
        if not settings.secret_key:
            raise click.ClickException("SWITCHBOARD_SECRET_KEY is not set")
        try:
            echo_phone_account(settings, store, username)
        except LookupError as exc:
            raise click.ClickException(f"unknown agent {username!r}") from exc

    @agent.command("list")
    @click.pass_context
    def agent_list(ctx: click.Context) -> None:
        """List the agents with their device, workflow, work number and queues."""
        _, store = store_of(ctx)
        for a in store.list_agents():
            u = a.user
            queues = ",".join(sorted(m.queue.name for m in a.memberships)) or "-"
            click.echo(f"{a.sip_username:<14} {u.display_name:<22} {a.device or WEBRTC:<7} {u.phone_workflow:<16} "
                       f"{u.work_number or '-':<16} outbound:{u.outbound_other_object or 'tenant':<7} {queues}")


def echo_phone_account(settings: Settings, store: Store, username: str) -> None:
    """Print what a SIP phone needs to register as the agent ``username`` (raises UnknownAgentError)."""
    agent = store.get_agent(username)
    click.echo(f"\nSIP phone account of {username}" + ("" if agent.device == SIP else
                                                        " (the agent's device is still the web phone)") + ":")
    for line in phone_account(settings, username, agent.sip_generation).lines():
        click.echo(f"  {line}")


def set_work_number(store: Store, settings: Settings, username: str, raw: str) -> str:
    """``raw`` as a checked E.164 work number for ``username`` ('' clears it)."""
    number = work_number(raw, settings.default_region)
    check_work_number(store, username, number)
    return number
