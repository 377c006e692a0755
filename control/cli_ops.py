"""Operations commands: agents' live presence, the Salesforce API budget, failed jobs, refused records."""

from __future__ import annotations

import json
import time

import click
import redis
from rq import Queue
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry

from switchboard.config import Settings


def _redis(settings: Settings) -> redis.Redis:
    return redis.Redis.from_url(settings.redis_url)


def presence_line(agent: str, view: dict, now: float) -> str:
    """One agent's presence as the CLI shows it: what their page shows, their own status, paused queues."""
    from switchboard.omni import shown_status

    shown = shown_status(view)
    own = view.get("status", "")
    parts = [f"{agent:<14} {shown}" + (f" (then {own})" if shown != own else "")]
    if view.get("until"):
        parts.append(f"until {time.strftime('%H:%M', time.localtime(view['until']))}")
    paused = [f"{q['name']} ({q['reason']})" for q in view.get("queues", []) if q.get("paused")]
    parts.append("paused in " + ", ".join(paused) if paused else "takes queue calls")
    parts.append(f"{max(0, now - view.get('at', now)):.0f} s ago")
    return "  ".join(parts)


def register(main: click.Group, settings_of: callable) -> None:  # type: ignore[valid-type]
    """Add the operations commands to the CLI."""

    @main.command("presence")
    @click.pass_context
    def presence(ctx: click.Context) -> None:
        """Every agent's presence as their page shows it now (the orchestrator keeps it in Redis)."""
        from switchboard.contracts import LIVE_PRESENCE_KEY

        try:
            live = _redis(settings_of(ctx)).hgetall(LIVE_PRESENCE_KEY)
        except redis.RedisError as exc:
            raise click.ClickException(f"Redis: {exc}") from exc
        if not live:
            click.echo("no presence yet (is the orchestrator running?)")
        now = time.time()
        for agent, raw in sorted(live.items()):
            click.echo(presence_line(agent.decode(), json.loads(raw), now))

    @main.command("sf-usage")
    @click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
    @click.pass_context
    def sf_usage(ctx: click.Context, as_json: bool) -> None:
        """Salesforce API requests spent per call, and the org's remaining daily requests."""
        from switchboard.meter import Meter

        snap = Meter(_redis(settings_of(ctx))).snapshot()
        if as_json:
            click.echo(json.dumps(snap, indent=2, sort_keys=True))
            return
        rpc = snap.get("requests_per_call")
        click.echo(f"API requests:          {snap.get('api_requests', 0)}  (logins: {snap.get('logins', 0)})")
        click.echo(f"Call activities:       {snap.get('calls_logged', 0)}")
        click.echo(f"Requests per call:     {rpc if rpc is not None else '-'}")
        click.echo(f"Caller lookups:        {snap.get('lookup_cache_misses', 0)} sent, "
                   f"{snap.get('lookup_cache_hits', 0)} from cache")
        if "org_max" in snap:
            click.echo(f"Org daily requests:    {snap['org_remaining']} of {snap['org_max']} remaining")
        else:
            click.echo("Org daily requests:    not seen yet (no API response since start)")
        if "latency_p95_s" in snap:
            click.echo(f"Call end -> activity:  p50 {snap['latency_p50_s']:.2f} s, p95 {snap['latency_p95_s']:.2f} s")
        if snap.get("dead_letters"):
            click.echo(f"Refused records:       {snap['dead_letters']} (see `switchboard sf-outbox`)")

    @main.group()
    def jobs() -> None:
        """Background jobs (RQ)."""

    @jobs.command("failed")
    @click.pass_context
    def jobs_failed(ctx: click.Context) -> None:
        """List jobs that failed for good, with their last error."""
        settings = settings_of(ctx)
        conn = _redis(settings)
        registry = FailedJobRegistry(settings.rq_queue, connection=conn)
        ids = registry.get_job_ids()
        if not ids:
            click.echo("no failed jobs")
        for job in Job.fetch_many(ids, connection=conn):
            if job is None:
                continue
            last = (job.exc_info or "").strip().splitlines()[-1:] or ["?"]
            click.echo(f"{job.id}  {job.func_name}  {last[0]}")

    @jobs.command("requeue")
    @click.argument("job_ids", nargs=-1)
    @click.option("--all", "all_", is_flag=True, help="Requeue every failed job.")
    @click.pass_context
    def jobs_requeue(ctx: click.Context, job_ids: tuple[str, ...], all_: bool) -> None:
        """Put failed jobs back in the queue."""
        settings = settings_of(ctx)
        conn = _redis(settings)
        registry = FailedJobRegistry(settings.rq_queue, connection=conn)
        ids = registry.get_job_ids() if all_ else list(job_ids)
        if not ids:
            raise click.ClickException("name job ids or use --all")
        queue = Queue(settings.rq_queue, connection=conn)
        unknown = []
        for jid in ids:
            try:
                registry.requeue(jid)
            except (InvalidJobOperation, NoSuchJobError):
                unknown.append(jid)
                continue
            click.echo(f"requeued {jid}")
        click.echo(f"{len(queue)} job(s) queued")
        if unknown:
            raise click.ClickException(f"not failed jobs (see `switchboard jobs failed`): {', '.join(unknown)}")

    @main.command("plugins")
    @click.pass_context
    def plugins(ctx: click.Context) -> None:
        """The installed plugins: loaded (with their hooks), disabled by the configuration, or failed (why)."""
        from switchboard.plugins import plugin_manager

        statuses = plugin_manager(settings_of(ctx).plugins).statuses
        if not statuses:
            click.echo("no plugins installed")
        for plugin in statuses:
            detail = ", ".join(plugin.hooks) if plugin.status == "loaded" else plugin.error
            click.echo(f"{plugin.name}  {plugin.status}" + (f"  {detail}" if detail else ""))
        if any(p.status == "failed" for p in statuses):
            ctx.exit(1)

    @main.command("sf-outbox")
    @click.option("--retry", is_flag=True, help="Send every refused record again.")
    @click.pass_context
    def sf_outbox(ctx: click.Context, retry: bool) -> None:
        """Records waiting for Salesforce, and those Salesforce refused (with its errors)."""
        from worker.outbox import Outbox

        conn = _redis(settings_of(ctx))
        for sobject in ("Task", "Case"):
            box = Outbox(conn, sobject, "Call_Id__c")
            dead = box.dead_letters()
            click.echo(f"{sobject}: {box.pending()} waiting, {len(dead)} refused")
            for ext_id, data in dead.items():
                errors = "; ".join(f"{e.get('statusCode')}: {e.get('message')}" for e in data["errors"])
                click.echo(f"  {ext_id}  {errors}")
            if retry and dead:
                click.echo(f"  requeued {box.retry_dead()}")
