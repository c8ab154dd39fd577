"""The HTTP face of the search library: FastAPI routes and the web page over one SearchService loaded at startup."""

from __future__ import annotations

import argparse
import io
import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import uvicorn
from fastapi import FastAPI, File, Form, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from PIL import Image, UnidentifiedImageError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipelines import numerics
from pipelines.errors import PipelineError
from pipelines.search.service import MAX_K, MODELS, STRATEGIES, QueryError, SearchService
from serve.build import load_service
from serve.deps import ServiceDep

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# The multipart envelope and the text fields ride along with the image: room for them above the image limit.
FORM_OVERHEAD_BYTES = 64 * 1024
MAX_QUERY_CHARS = 500
DRAIN_BYTES = 64 * 1024 * 1024  # past this an oversized upload is answered mid-stream and its connection closed
# A 224-px encoder needs a fraction of this; a few KiB of PNG can declare 12,000 x 12,000 pixels (432 MB as RGB).
DEFAULT_MAX_UPLOAD_MEGAPIXELS = 40.0
DECODES_AT_ONCE = 2  # uploads decoded concurrently: memory stays (this) x (the pixel cap) x 3 bytes at most
# The API names the text query `q`; the service's QueryErrors name it by its argument, `text`.
SERVICE_TO_HTTP_PARAMETER = {"text": "q"}
HTTP_PARAMETERS = ("q", "k", "model", "rerank", "like", "image")

Model = Literal["baseline", "finetuned"]  # the service's MODELS and STRATEGIES, spelled out for FastAPI's validation
Strategy = Literal["none", "constraints", "mmr", "policy"]
assert get_args(Model) == MODELS and get_args(Strategy) == STRATEGIES


class BadRequest(Exception):
    """A request the service cannot answer; becomes `{"error": {"parameter", "message"}}` with `status`."""

    def __init__(self, status: int, parameter: str | None, message: str):
        super().__init__(message)
        self.status, self.parameter, self.message = status, parameter, message


def error_response(status: int, parameter: str | None, message: str) -> JSONResponse:
    return JSONResponse({"error": {"parameter": parameter, "message": message}}, status_code=status)


class UploadLimit:
    """Refuses a request body over the image limit (plus the form around it) before anything parses it: from its
    Content-Length when it states one, else (`Transfer-Encoding: chunked`) counted as it streams, answering 413 the
    moment it passes the limit; a chunked body within the limit is held in memory (at most the limit) and handed on.

    An oversized body is read and dropped (up to DRAIN_BYTES) before the answer, so the client, still sending, gets
    the 413 instead of a reset connection.
    """

    def __init__(self, app: ASGIApp, max_image_bytes: int):
        self.app, self.max_image_bytes = app, max_image_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_image_bytes + FORM_OVERHEAD_BYTES
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None or b"transfer-encoding" not in headers:  # a stated length, or no body at all
            if length is not None and length.isdigit() and int(length) > limit:
                await self._refuse(f"{int(length):,} bytes", 0, scope, receive, send)
                return
            await self.app(scope, receive, send)  # the server stops the body at its stated length
            return
        chunks, received, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            received += len(chunks[-1])
            more = bool(message.get("more_body"))
            if received > limit:
                await self._refuse(f"at least {received:,} bytes", received, scope, receive, send, more)
                return
        body: bytes | None = b"".join(chunks)

        async def replay() -> Message:
            """The held body once, then the connection's own messages (a response waiting for the disconnect)."""
            nonlocal body
            if body is None:
                return await receive()
            message: Message = {"type": "http.request", "body": body, "more_body": False}
            body = None
            return message

        await self.app(scope, replay, send)

    async def _refuse(
        self, size: str, drained: int, scope: Scope, receive: Receive, send: Send, more: bool = True
    ) -> None:
        """Drain what the client is still sending (up to DRAIN_BYTES), then the 413 naming `size`."""
        while more and drained <= DRAIN_BYTES:
            message = await receive()
            drained += len(message.get("body", b""))
            more = message["type"] == "http.request" and bool(message.get("more_body"))
        text = f"image: the upload is {size}, over the limit of {self.max_image_bytes:,}"
        await error_response(413, "image", text)(scope, receive, send)


LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


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


def decode_upload(
    upload: UploadFile, max_bytes: int, max_pixels: int, decoding: threading.BoundedSemaphore
) -> Image.Image | None:
    """The uploaded image, fully decoded as RGB; None when the form's file field was left empty. The header's
    pixel count is checked against `max_pixels` before a pixel is decoded, and at most DECODES_AT_ONCE uploads
    decode at once (`decoding`), so no upload, nor many together, can take the machine's memory."""
    data = upload.file.read(max_bytes + 1)
    if not data and not upload.filename:
        return None
    name = upload.filename or "the upload"
    if len(data) > max_bytes:
        raise BadRequest(413, "image", f"image: {name} is over the upload limit of {max_bytes:,} bytes")
    if not data:
        raise BadRequest(400, "image", f"image: {name} is empty")
    try:
        with Image.open(io.BytesIO(data)) as image:  # reads the header only
            if image.width * image.height > max_pixels:
                raise BadRequest(
                    413,
                    "image",
                    f"image: {name} is {image.width:,} x {image.height:,} pixels, over the limit of "
                    f"{max_pixels / 1e6:g} megapixels",
                )
            with decoding:
                return image.convert("RGB")  # decodes every pixel: a truncated file fails here, not in the encoder
    except UnidentifiedImageError:
        raise BadRequest(415, "image", f"image: {name} is not an image (no format Pillow reads)") from None
    except Image.DecompressionBombError as exc:  # Pillow's own refusal, far above the cap, at open
        raise BadRequest(413, "image", f"image: {name} declares too many pixels ({exc})") from None
    except (OSError, ValueError) as exc:
        raise BadRequest(415, "image", f"image: {name} could not be decoded ({exc})") from None


def create_app(
    service: SearchService,
    *,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
    max_upload_pixels: int = int(DEFAULT_MAX_UPLOAD_MEGAPIXELS * 1e6),
    hosts: frozenset[str] | None = frozenset(LOOPBACK_NAMES),
) -> FastAPI:
    """The routes over an already loaded service: the API, the item images, the page and a health check. `hosts`:
    the Host names it answers (HostCheck)."""
    app = FastAPI(
        title="Fashion search",
        summary="Text and image search over the pipeline's built index, with constraint rerank and explanations.",
        docs_url=None,  # Swagger UI and ReDoc load their scripts from a CDN: only the schema, /openapi.json
        redoc_url=None,
    )
    app.state.service = service  # handed to the routes by serve.deps.ServiceDep
    app.add_middleware(UploadLimit, max_image_bytes=max_upload_bytes)
    app.add_middleware(HostCheck, allowed=hosts)  # added last, so it runs first
    lock = threading.Lock()  # one search at a time: the model and the index are shared, and 2 cores gain nothing
    decoding = threading.BoundedSemaphore(DECODES_AT_ONCE)

    @app.exception_handler(BadRequest)
    async def _bad_request(request: Request, exc: BadRequest) -> JSONResponse:
        return error_response(exc.status, exc.parameter, exc.message)

    @app.exception_handler(QueryError)
    async def _bad_query(request: Request, exc: QueryError) -> JSONResponse:
        """A 400 naming the HTTP parameter (`q` for the service's `text`); None when no parameter carries it."""
        parameter = SERVICE_TO_HTTP_PARAMETER.get(exc.param, exc.param)
        if parameter not in HTTP_PARAMETERS:
            return error_response(400, None, str(exc))
        return error_response(400, parameter, f"{parameter}: {exc.reason}")

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        loc = [str(part) for part in first.get("loc", ())]
        parameter = loc[-1] if len(loc) > 1 else None
        got = f", got {first['input']!r}" if isinstance(first.get("input"), (str, int, float)) else ""
        message = first["msg"].removeprefix("Value error, ")
        return error_response(400, parameter, f"{parameter or 'request'}: {message[:1].lower()}{message[1:]}{got}")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, None, f"{request.url.path}: {exc.detail}")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("search failed on %s", request.url)
        return error_response(500, None, f"internal error ({type(exc).__name__}); the server log has the details")

    def search(service: SearchService, **query: Any) -> JSONResponse:
        if not query["text"].strip() and query["image"] is None and not query["like"]:
            raise BadRequest(400, "q", "q: the query is empty: type some text, upload an image or pass like=<item_id>")
        with lock:
            response = service.search(**query).to_dict()
        for result in response["results"]:
            result["image"] = f"/images/{result['item_id']}"
        return JSONResponse(response)  # as built: FastAPI's response-model encoding would only add time

    @app.get("/api/search", summary="Search by text and/or a catalog item's image (like)")
    def get_search(
        service: ServiceDep,
        q: Annotated[str, Query(max_length=MAX_QUERY_CHARS)] = "",
        k: Annotated[int, Query(ge=1, le=MAX_K)] = 10,
        model: Model = "finetuned",
        rerank: Strategy = "constraints",
        like: str | None = None,
    ) -> JSONResponse:
        return search(service, text=q, image=None, like=like or None, k=k, model=model, rerank=rerank)

    @app.post("/api/search", summary="Search by an uploaded image (multipart) plus the same fields")
    def post_search(
        service: ServiceDep,
        image: Annotated[UploadFile | None, File()] = None,
        q: Annotated[str, Form(max_length=MAX_QUERY_CHARS)] = "",
        k: Annotated[int, Form(ge=1, le=MAX_K)] = 10,
        model: Annotated[Model, Form()] = "finetuned",
        rerank: Annotated[Strategy, Form()] = "constraints",
        like: Annotated[str | None, Form()] = None,
    ) -> JSONResponse:
        picture = decode_upload(image, max_upload_bytes, max_upload_pixels, decoding) if image is not None else None
        return search(service, text=q, image=picture, like=like or None, k=k, model=model, rerank=rerank)

    @app.get("/api/health", summary="Liveness, and the choices the page offers")
    def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "models": list(MODELS),
            "strategies": list(STRATEGIES),
            "max_k": MAX_K,
            "max_upload_bytes": max_upload_bytes,
            "max_upload_pixels": max_upload_pixels,
        }

    @app.get("/images/{item_id}", summary="An item's catalog image", response_class=FileResponse)
    def item_image(service: ServiceDep, item_id: str) -> FileResponse:
        try:
            path = Path(service.image_path(item_id))
        except (KeyError, ValueError):
            raise BadRequest(404, "item_id", f"item_id: unknown item {item_id!r}") from None
        if not path.is_file():
            raise BadRequest(404, "item_id", f"item_id: the image of {item_id!r} is missing ({path})")
        return FileResponse(path, headers={"Cache-Control": "public, max-age=3600"})

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def main(argv: list[str] | None = None) -> None:
    """`python -m serve`: load the built workspace once, then serve it; a missing build is one line."""
    parser = argparse.ArgumentParser(prog="python -m serve", description=main.__doc__)
    parser.add_argument("--root", type=Path, default=Path("."), help="the built workspace (default: .)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8000), help="default: $PORT or 8000")
    parser.add_argument(
        "--max-upload-mb", type=float, default=DEFAULT_MAX_UPLOAD_BYTES / 2**20, help="largest accepted image upload"
    )
    parser.add_argument(
        "--max-upload-megapixels",
        type=float,
        default=DEFAULT_MAX_UPLOAD_MEGAPIXELS,
        help="largest accepted image, by the pixel count its header declares (checked before decoding)",
    )
    parser.add_argument(
        "--no-verify",
        dest="verify",
        action="store_false",
        help="skip hashing the store and index at start (the model's weights are checked either way)",
    )
    parser.add_argument("--verbose", action="store_true", help="debug logging and full tracebacks")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    numerics.warn_if_unpinned()
    try:
        start = time.perf_counter()
        service = load_service(args.root, verify=args.verify)
    except (PipelineError, OSError) as exc:
        if args.verbose:
            raise
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    app = create_app(
        service,
        max_upload_bytes=int(args.max_upload_mb * 2**20),
        max_upload_pixels=int(args.max_upload_megapixels * 1e6),
        hosts=allowed_hosts(args.host),
    )
    numerics.log_pinned()
    log.info(
        "loaded %s in %.1f s", "and verified the build" if args.verify else "the build", time.perf_counter() - start
    )
    log.info("serving %s on http://%s:%d", args.root.resolve(), args.host, args.port)
    uvicorn.run(app, host=args.host, port=args.port, log_level="debug" if args.verbose else "info")
