"""A thin ARI client (httpx + websockets) with its own reconnect loop.

Why not a library: the old ``ari`` package is Python 2 only; ``ari-client`` spins in a hot loop
when Asterisk restarts; ``aioari`` is unmaintained and hands callbacks dicts on Asterisk 22;
``asyncari`` works but downloads the Swagger description at every connect and brings an anyio
task-group model of its own. We need one event stream and three REST calls, and must own the
reconnect and resync anyway, so a small client on two well-kept libraries is the simpler part.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import httpx
import websockets

logger = logging.getLogger(__name__)

AriHandler = Callable[[dict[str, Any]], Awaitable[None]]
OnConnect = Callable[[], Awaitable[None]]


class AriClient:
    """One Stasis application's event stream and the REST calls the orchestrator uses."""

    def __init__(self, url: str, username: str, password: str, app: str, handler: AriHandler, *,
                 on_connect: OnConnect | None = None) -> None:
        self.url = url.rstrip("/")
        self.app = app
        self.handler = handler
        self.on_connect = on_connect  # run after every (re)connect, events streaming meanwhile
        self._auth = base64.b64encode(f"{username}:{password}".encode()).decode()
        self.http = httpx.AsyncClient(base_url=self.url + "/ari", auth=(username, password), timeout=5)
        self.connected = asyncio.Event()

    async def run(self) -> None:
        """Stream events forever, reconnecting with a capped backoff."""
        ws_url = self.url.replace("http", "ws", 1) + f"/ari/events?app={quote(self.app)}"
        delay = 0.2
        while True:
            try:
                async with websockets.connect(ws_url, additional_headers={"Authorization": f"Basic {self._auth}"},
                                              open_timeout=5) as ws:
                    logger.info("ARI connected as app %s", self.app)
                    self.connected.set()
                    delay = 0.2
                    if self.on_connect is not None:
                        asyncio.ensure_future(self._connected())
                    async for raw in ws:
                        try:
                            message = json.loads(raw)
                        except ValueError:
                            logger.warning("skipped malformed ARI message: %.80r", raw)
                            continue
                        asyncio.ensure_future(self._handle(message))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # connection refused, closed, handshake failed
                logger.info("ARI not connected (%s); retrying in %.1f s", exc, delay)
            self.connected.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5)

    async def _connected(self) -> None:
        assert self.on_connect is not None
        try:
            await self.on_connect()
        except Exception:
            logger.exception("ARI: after connecting")

    async def _handle(self, message: dict[str, Any]) -> None:
        try:
            await self.handler(message)
        except Exception:
            logger.exception("ARI handler failed for %s", message.get("type"))

    async def set_variable(self, channel_id: str, name: str, value: str) -> None:
        """Set a channel variable."""
        r = await self.http.post(f"/channels/{quote(channel_id)}/variable", params={"variable": name, "value": value})
        r.raise_for_status()

    async def continue_in_dialplan(self, channel_id: str) -> None:
        """Hand a channel back to the dialplan at the priority after Stasis()."""
        r = await self.http.post(f"/channels/{quote(channel_id)}/continue")
        if r.status_code != 404:  # 404: the caller already hung up
            r.raise_for_status()

    async def app_channels(self) -> list[str]:
        """The ids of the channels in this Stasis application now."""
        r = await self.http.get(f"/applications/{quote(self.app)}")
        r.raise_for_status()
        return [str(c) for c in r.json().get("channel_ids") or []]

    async def close(self) -> None:
        """Close the HTTP client."""
        await self.http.aclose()
