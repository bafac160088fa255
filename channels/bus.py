"""Wake-up bus between the Rasa server processes (Redis publish/subscribe).

The database is the source of truth for everything that must be delivered; every process's pump
also polls it each second. The bus only makes cross-process delivery immediate: when a process
changes something (an agent reply, a queued customer, an accepted session), it publishes a
one-byte note and every other process wakes its pump at once. A lost note costs at most the poll
interval, so Redis being down slows delivery to about a second and loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any, Callable, Optional

logger = logging.getLogger(__name__)

CHANNEL = "intake:changed"
RETRY_SECONDS = 2.0
WARN_EVERY = 60.0
# The subscription waits for notes this long at a time; a quiet channel is no error. (It used to
# block in `listen()` under the client's 5 s socket timeout, so every quiet 5 s dropped the
# subscription with a TimeoutError, and notes published in the 2 s before it was back were lost.)
WAIT_SECONDS = 1.0
# A subscription idle this long is checked with a PING, so a connection that died silently is found.
HEALTH_CHECK_SECONDS = 15


class RedisBus:
    def __init__(self, url: str, on_remote_change: Callable[[], None]) -> None:
        self.url = url
        self.on_remote_change = on_remote_change
        self.origin = uuid.uuid4().hex.encode()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._client: Any = None
        self._listener: Optional[asyncio.Task] = None
        self._publishing = False
        self._last_warning = 0.0
        self.connected = False

    async def start(self) -> None:
        import redis.asyncio as redis

        self._loop = asyncio.get_running_loop()
        self._client = redis.Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=5,
                                            health_check_interval=HEALTH_CHECK_SECONDS)
        self._listener = self._loop.create_task(self._listen_forever())

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            try:
                await self._listener
            except (asyncio.CancelledError, Exception):
                pass
            self._listener = None
        if self._client is not None:
            try:
                await self._client.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass
            self._client = None

    def publish(self) -> None:
        """Tell the other processes; callable from any thread, coalesces bursts."""
        loop = self._loop
        if loop is None or loop.is_closed() or self._publishing:
            return
        self._publishing = True
        loop.call_soon_threadsafe(lambda: loop.create_task(self._publish()))

    async def ping(self) -> bool:
        try:
            return bool(self._client is not None and await self._client.ping())
        except Exception:  # noqa: BLE001 - any failure means "not reachable"
            return False

    async def _publish(self) -> None:
        self._publishing = False  # changes after this point need a note of their own
        try:
            await self._client.publish(CHANNEL, self.origin)
        except Exception as error:  # noqa: BLE001 - the poll covers a lost note
            self._warn("publish", error)

    async def _listen_forever(self) -> None:
        while True:
            pubsub = self._client.pubsub()
            try:
                await pubsub.subscribe(CHANNEL)
                self.connected = True
                self.on_remote_change()  # catch up on what happened while we were not listening
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=WAIT_SECONDS)
                    if message and message.get("type") == "message" and message.get("data") != self.origin:
                        self.on_remote_change()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - reconnect after any failure
                self._warn("subscribe", error)
            finally:
                self.connected = False
                try:
                    await pubsub.close()
                except Exception:  # noqa: BLE001
                    pass
            await asyncio.sleep(RETRY_SECONDS)

    def _warn(self, what: str, error: Exception) -> None:
        now = time.monotonic()
        if now - self._last_warning >= WARN_EVERY:
            self._last_warning = now
            logger.warning("wake-up bus %s failed (%s); delivery falls back to polling", what, error.__class__.__name__)
