"""The ``switchboard`` command line."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
import signal
import sys
import time
from pathlib import Path

import click

from control import cli_admin, cli_omni, cli_ops, cli_profiles, cli_route
from control.stack import DEMO_AGENTS, DEMO_PASSWORD, DEMO_PLUGINS, Stack, StackError
from switchboard.config import Settings, load_settings, plugin_sections
from switchboard.sip import DEVICES, SIP, WEBRTC

REPO = Path(__file__).resolve().parent.parent
DEFAULT_STATE = REPO / ".state" / "demo"


def _settings(state_dir: Path) -> Settings:
    """Settings of the running stack in ``state_dir`` if there is one, else from the environment."""
    stack_file = state_dir / "stack.json"
    if stack_file.exists():
        data = json.loads(stack_file.read_text())["settings"]
        known = {f.name for f in dataclasses.fields(Settings)}
        data = {k: v for k, v in data.items() if k in known}  # a stack started by an older version
        data["plugins"] = plugin_sections(data.get("plugins"))
        return dataclasses.replace(load_settings(), **data)
    return load_settings()


@click.group()
@click.option("--state-dir", type=click.Path(path_type=Path), default=DEFAULT_STATE, show_default=True,
              envvar="SWITCHBOARD_STATE_DIR", help="Where the demo stack keeps its database, logs and ports.")
@click.option("-v", "--verbose", is_flag=True)
@click.pass_context
def main(ctx: click.Context, state_dir: Path, verbose: bool) -> None:
    """Switchboard: a self-hosted contact-center voice platform for Salesforce."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, format="%(levelname)s %(message)s")
    ctx.obj = {"state_dir": state_dir}


def _instance_name(state_dir: Path) -> str:
    """The demo's Asterisk instance name: "demo" for the default state dir, one of its own for another."""
    import hashlib

    if state_dir.resolve() == DEFAULT_STATE.resolve():
        return "demo"
    return "demo-" + hashlib.sha1(str(state_dir.resolve()).encode()).hexdigest()[:8]


def _say(text: str = "", err: bool = False) -> None:
    """Print to the terminal; once it is closed (SIGHUP) the text is dropped and the stop goes on."""
    try:
        click.echo(text, err=err)
    except OSError:  # EIO on a hung-up terminal, EPIPE on a closed pipe
        pass


@main.command()
@click.option("--web-port", type=int, default=8000, show_default=True, help="0 picks a free port.")
@click.pass_context
def demo(ctx: click.Context, web_port: int) -> None:
    """Start the whole stack with demo data and restart any part that dies; Ctrl-C stops every process."""
    from control.net import free_port

    state_dir: Path = ctx.obj["state_dir"]
    if web_port:
        try:
            import socket

            with socket.socket() as s:
                s.bind(("127.0.0.1", web_port))
        except OSError:
            _say(f"Port {web_port} is busy; picking a free one.")
            web_port = free_port()
    # the demo's smart routing (salesforce_rules with the demo rules) unless $SWITCHBOARD_CONFIG's or
    # $SWITCHBOARD_PLUGINS' plugins say otherwise
    stack = Stack(state_dir, _instance_name(state_dir), demo=True, web_port=web_port or None, log=_say,
                  plugins={**DEMO_PLUGINS, **load_settings().plugins})
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    # Ctrl-C, kill and a closed terminal all stop every process in order; the children run in their
    # own sessions, so only this process gets the terminal's SIGHUP.
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, _stop)  # SIGINT too: a script that started us may have it ignored
    try:
        settings = stack.start()
        _say("")
        _say(f"  Web phone:      {settings.public_url}/phone")
        _say(f"  Agent logins:   {', '.join(a[0] for a in DEMO_AGENTS)}  (password: {DEMO_PASSWORD})")
        _say(f"  Salesforce emu: {settings.sf_emulator_url}")
        _say(f"  Logs:           {state_dir / 'logs'}")
        _say('  Ring an agent:  .venv/bin/switchboard call --from +358401234567 --queue "Customer Service EN"')
        _say("\nA part that dies is restarted. Press Ctrl-C to stop.")
        while not stopping:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    except StackError as exc:
        _say(f"error: {exc}", err=True)
        sys.exit(1)
    finally:
        _say("Stopping…")
        stack.stop()
        _say("Stopped.")


@main.command()
@click.option("--from", "caller", required=True, help="The customer's number, e.g. +358401234567.")
@click.option("--name", default="", help="The customer's caller name.")
@click.option("--queue", "queue", help="Queue label (\"Customer Service EN\"), name or number.")
@click.option("--to", "to", help="An inbound number instead of a queue, e.g. an agent's work number.")
@click.option("--hangup-after", type=float, default=0, help="Hang the customer up after this many seconds.")
@click.pass_context
def call(ctx: click.Context, caller: str, name: str, queue: str | None, to: str | None, hangup_after: float) -> None:
    """Place a demo customer call into a queue, or to an inbound number: a SIP call over the trunk, as a
    carrier's comes (the customer plays a prompt until hung up)."""
    from control.democall import place_call
    from switchboard.store import Store

    if bool(queue) == bool(to):
        raise click.UsageError("give either --queue or --to")
    settings = _settings(ctx.obj["state_dir"])
    if queue:
        q = Store(settings.database_url).find_queue(queue)
        if q is None:
            raise click.ClickException(f"unknown queue {queue!r}")
        target, number = q.label, q.number
    else:
        target = number = cli_admin.work_number(str(to), settings.default_region) or str(to)
    try:
        channel = asyncio.run(place_call(settings, caller, name, number, hangup_after))
    except Exception as exc:  # connection refused, AMI error
        raise click.ClickException(f"could not place the call: {exc}") from exc
    click.echo(f"Calling {target} ({number}) from {caller}: {channel}")


@main.group()
def db() -> None:
    """Database commands."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Apply Alembic migrations to the configured database."""
    from switchboard.store import upgrade

    settings = _settings_of(ctx)
    upgrade(settings.database_url)
    click.echo("database is up to date")


@main.group()
def agent() -> None:
    """Agent provisioning."""


@agent.command("add")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="The agent's full name.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, help="Web login password.")
@click.option("--queue", "queues", multiple=True, help="Queue name, label or number (repeatable).")
@click.option("--work-number", default="", help="The agent's personal work number (a DID on the trunk).")
@click.option("--device", type=click.Choice(DEVICES), default=WEBRTC, show_default=True,
              help="webrtc: the web phone; sip: a desk phone or softphone (prints the account it registers with).")
@click.pass_context
def agent_add(ctx: click.Context, username: str, display_name: str, password: str, queues: tuple[str, ...],
              work_number: str, device: str) -> None:
    """Create an agent; Asterisk learns the new endpoint within a second, without a restart."""
    from switchboard.sip import derive_sip_password
    from switchboard.store import Store

    if not re.fullmatch(r"[A-Za-z0-9_.\-]{1,40}", username):
        raise click.ClickException("a user name may hold only letters, digits, '.', '_' and '-' (at most 40)")
    settings = _settings_of(ctx)
    store = Store(settings.database_url)
    names = []
    for key in queues:
        q = store.find_queue(key)
        if q is None:
            raise click.ClickException(f"unknown queue {key!r}")
        names.append(q.name)
    if not settings.secret_key:
        raise click.ClickException("SWITCHBOARD_SECRET_KEY is not set")
    number = cli_admin.set_work_number(store, settings, username, work_number)
    try:
        store.create_user(username, password, display_name, sip_username=username,
                          sip_password=derive_sip_password(settings.secret_key, username, 1))
    except Exception as exc:  # IntegrityError: taken
        raise click.ClickException(f"cannot create agent {username!r}: {exc.__class__.__name__}") from exc
    store.add_member(username, names)
    if number:
        store.update_user(username, work_number=number)
    if device != WEBRTC:
        store.set_device(username, device)
    click.echo(f"agent {username} created in {', '.join(names) or 'no queues'}"
               + (f", work number {number}" if number else "") + f", device {device}" + cli_admin.applied(settings))
    if device == SIP:
        cli_admin.echo_phone_account(settings, store, username)


@main.command("install-asterisk")
def install_asterisk() -> None:
    """Install Asterisk 22 into the cached chroot (no-op when it is there)."""
    from control.asterisk import asterisk_version, ensure_chroot

    root = ensure_chroot(log=click.echo)
    click.echo(f"{asterisk_version(root)} in {root}")


def _settings_of(ctx: click.Context) -> Settings:
    root = ctx.find_root()
    return _settings(root.obj["state_dir"])


cli_ops.register(main, _settings_of)
cli_admin.register(main, agent, _settings_of)
cli_omni.register(main, _settings_of)
cli_route.register(main, _settings_of)
cli_profiles.register(main, _settings_of)


@agent.command("set-workflow")
@click.argument("username")
@click.argument("workflow", type=click.Choice(cli_admin.WORKFLOWS))
@click.pass_context
def agent_set_workflow(ctx: click.Context, username: str, workflow: str) -> None:
    """Choose a user's phone workflow (seed section 2): case, case_dialog, contact_account, contact_lead."""
    from switchboard.store import Store

    try:
        Store(_settings_of(ctx).database_url).update_user(username, phone_workflow=workflow)
    except LookupError as exc:
        raise click.ClickException(f"unknown user {username!r}") from exc
    click.echo(f"{username} now uses the {workflow} phone workflow")


if __name__ == "__main__":
    main()

