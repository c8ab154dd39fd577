"""What keeps the server answering under hostile or heavy load: the upload limit counted as the body streams, the
Host check, the bounded search queue (503 with Retry-After beyond it) and the deadlines on a request's head and body.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

T = TypeVar("T")

# The multipart envelope and the text fields ride along with the image: room for them above the image limit.
FORM_OVERHEAD_BYTES = 64 * 1024
DRAIN_BYTES = 64 * 1024 * 1024  # past this an oversized upload is answered mid-stream and its connection closed
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


def error_response(status: int, parameter: str | None, message: str) -> JSONResponse:
    return JSONResponse({"error": {"parameter": parameter, "message": message}}, status_code=status)


class UploadLimit:
    """Refuses a request body over the image limit (plus the form around it) before anything parses it: at once
    from a Content-Length that says so, and in any case by counting the body as it streams (chunked, or framed
    otherwise than its Content-Length claims), answering 413 the moment it passes the limit. Nothing is buffered
    here: the app reads the body as it arrives.

    Past the limit the app is told the client went away (its answer, if any, is dropped), what the client is still
    sending is read and dropped up to DRAIN_BYTES, so it gets the 413 instead of a reset connection, and the 413
    closes the connection.
    """

    def __init__(self, app: ASGIApp, max_image_bytes: int):
        self.app, self.max_image_bytes = app, max_image_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_image_bytes + FORM_OVERHEAD_BYTES
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > limit:
            await self._refuse(f"{int(length):,} bytes", 0, scope, receive, send)
            return
        received, over = 0, False

        async def counted() -> Message:
            nonlocal received, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    return {"type": "http.disconnect"}
            return message

        async def unless_over(message: Message) -> None:
            if not over:
                await send(message)

        try:
            await self.app(scope, counted, unless_over)
        except Exception:
            if not over:
                raise  # the app's failure over an oversized body (it saw a disconnect) is not one
        if over:
            await self._refuse(f"at least {received:,} bytes", received, scope, receive, send)

    async def _refuse(self, size: str, drained: int, scope: Scope, receive: Receive, send: Send) -> None:
        """Drain what the client is still sending (up to DRAIN_BYTES), then the 413 naming `size`, closing."""
        more = True
        while more and drained <= DRAIN_BYTES:
            message = await receive()
            drained += len(message.get("body", b""))
            more = message["type"] == "http.request" and bool(message.get("more_body"))
        text = f"image: the upload is {size}, over the limit of {self.max_image_bytes:,}"
        response = error_response(413, "image", text)
        response.headers["Connection"] = "close"
        await response(scope, receive, send)


class HostCheck:
    """Answers 400 to a request whose Host header names another server than this one: a web page on another site
    that a DNS-rebinding trick points at 127.0.0.1 sends its own name as Host, so it cannot use the local API.
    `allowed` None (the server bound to every interface) lets every Host through."""

    def __init__(self, app: ASGIApp, allowed: frozenset[str] | None):
        self.app, self.allowed = app, allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.allowed is not None:
            host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
            name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host  # an IPv6 literal is [::1]:port
            name = name.removeprefix("[").split("]", 1)[0].lower()
            if name not in self.allowed:
                names = ", ".join(sorted(self.allowed))
                text = f"Host: {host!r} is not this server's name ({names}); ask it by one of those"
                await error_response(400, None, text)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def allowed_hosts(bound: str) -> frozenset[str] | None:
    """The Host names a server bound to `bound` answers: the loopback names for a loopback address, the address
    itself otherwise; None (any) when bound to every interface."""
    if bound in ("0.0.0.0", "::", ""):
        return None
    return frozenset(LOOPBACK_NAMES) if bound in LOOPBACK_NAMES else frozenset({bound.lower()})


class Busy(Exception):
    """The search queue is full: a 503 whose Retry-After is `retry_after` seconds."""

    def __init__(self, retry_after: int, message: str):
        super().__init__(message)
        self.retry_after, self.message = retry_after, message


class SearchQueue:
    """Searches run one at a time (a limiter of one over AnyIO's worker threads: the model and the index are
    shared, and 2 cores gain nothing from more); up to `size` more wait their turn as coroutines, holding no thread,
    so health checks, item images and static files never queue behind them. Past that, `admit` refuses with Busy
    (503 and a Retry-After of the queue's expected wait). An upload holds one of `decodes` tokens (`uploads`) from
    its decode to the end of its search, so at most that many decoded images are in memory at once.
    """

    def __init__(self, size: int, decodes: int):
        self.size = size
        self.searching = anyio.CapacityLimiter(1)
        self.uploads = anyio.CapacityLimiter(decodes)
        self.admitted = 0  # running and waiting; touched on the event loop only
        self.seconds = 0.2  # a moving average of one search, for Retry-After

    @contextlib.asynccontextmanager
    async def admit(self) -> AsyncIterator[None]:
        if self.admitted > self.size:
            wait = max(1, math.ceil(self.admitted * self.seconds))
            raise Busy(wait, f"busy: {self.admitted} searches are running or waiting (the queue holds {self.size})")
        self.admitted += 1
        try:
            yield
        finally:
            self.admitted -= 1

    async def search(self, function: Callable[..., T], *args: Any) -> T:
        async with self.searching:  # the clock starts when this search's turn comes
            start = time.perf_counter()
            result = await anyio.to_thread.run_sync(function, *args)
        self.seconds = 0.8 * self.seconds + 0.2 * (time.perf_counter() - start)
        return result


class DeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol with the two deadlines it lacks: a connection must send a request's head within
    `head_timeout` seconds of opening (or of its previous response), and the body within `body_timeout` of the head;
    past either it is closed. Without them a client trickling a byte at a time holds a connection for good.
    uvicorn's keep-alive timeout still closes an idle connection between requests first."""

    head_timeout: float  # set by with_timeouts
    body_timeout: float
    _deadline: asyncio.TimerHandle | None = None

    @classmethod
    def with_timeouts(cls, head: float, body: float) -> type[DeadlineProtocol]:
        return type("DeadlineProtocol", (cls,), {"head_timeout": head, "body_timeout": body})

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.head_timeout)

    def handle_events(self) -> None:
        cycle = self.cycle
        super().handle_events()
        if self.cycle is not cycle:  # a request's head arrived: its body's clock starts
            self._arm(self.body_timeout)
        current = self.cycle
        if current is not None and not current.more_body and not current.response_complete:
            self._arm(None)  # the whole request is in, its answer on the way: no deadline

    def on_response_complete(self) -> None:
        self._arm(self.head_timeout)  # before the pipelined next request, which handle_events re-arms
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._arm(None)
        super().connection_lost(exc)

    def _arm(self, seconds: float | None) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = None if seconds is None else self.loop.call_later(seconds, self._expire)

    def _expire(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.logger.info("closed a connection whose request did not arrive in time")
            self.transport.close()
