"""The HTTP face of the search library: FastAPI routes and the web page over one SearchService loaded at startup."""

from __future__ import annotations

import argparse
import io
import logging
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import anyio.to_thread
import uvicorn
from fastapi import FastAPI, File, Form, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, JSONResponse
from fastapi.routing import APIRoute
from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles

from pipelines import numerics, paths
from pipelines.errors import PipelineError
from pipelines.search.service import (
    MAX_K,
    MODELS,
    STRATEGIES,
    CorruptScores,
    QueryError,
    SearchService,
    UnknownItem,
)
from serve.build import load_service
from serve.deps import ServiceDep
from serve.guards import (
    LOOPBACK_NAMES,
    Busy,
    DeadlineProtocol,
    HostCheck,
    SearchQueue,
    UploadLimit,
    allowed_hosts,
    error_response,
)

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_QUERY_CHARS = 500
# A 224-px encoder needs a fraction of this; a few KiB of PNG can declare 12,000 x 12,000 pixels (432 MB as RGB).
DEFAULT_MAX_UPLOAD_MEGAPIXELS = 40.0
DECODES_AT_ONCE = 2  # uploads decoded and searched at once: (this) x (the pixel cap) x 3 bytes of pixels at most
# Searches waiting behind the running one before the next is refused with 503: about 16 x 0.2 s = 3 s of wait.
DEFAULT_MAX_QUEUED_SEARCHES = 16
DEFAULT_HEAD_TIMEOUT_S, DEFAULT_BODY_TIMEOUT_S = 10.0, 60.0
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


class ErrorDetail(BaseModel):
    parameter: str | None  # the request parameter at fault (q, k, model, rerank, like, image, item_id), or null
    message: str


class ErrorBody(BaseModel):
    """Every 4xx and 5xx answer's body."""

    error: ErrorDetail


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """A route's documented error answers, each with the error body."""
    return {status: {"model": ErrorBody, "description": ERROR_STATUSES[status]} for status in statuses}


ERROR_STATUSES = {
    400: "A parameter is invalid: `error.parameter` names it",
    404: "Unknown item (`like`, `item_id`), or its image is missing",
    413: "The upload is over the byte or pixel limit",
    415: "The upload is not an image Pillow decodes",
    500: "The build gave a non-finite score (corrupt artifacts), or an unexpected failure",
    503: "The search queue is full: retry after the Retry-After header's seconds",
}


def decode_upload(upload: UploadFile, max_bytes: int, max_pixels: int) -> Image.Image | None:
    """The uploaded image, fully decoded as RGB; None when the form's file field was left empty. The header's
    pixel count is checked against `max_pixels` before a pixel is decoded (and the caller decodes at most
    DECODES_AT_ONCE at a time), so no upload, nor many together, can take the machine's memory."""
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
    max_queued_searches: int = DEFAULT_MAX_QUEUED_SEARCHES,
    hosts: frozenset[str] | None = frozenset(LOOPBACK_NAMES),
) -> FastAPI:
    """The routes over an already loaded service: the API, the item images, the page and a health check. `hosts`:
    the Host names it answers (HostCheck). Searches go through a SearchQueue of `max_queued_searches`; health,
    images and the page are async routes that never wait for it."""
    app = FastAPI(
        title="Fashion search",
        summary="Text and image search over the pipeline's built index, with constraint rerank and explanations.",
        docs_url=None,  # Swagger UI and ReDoc load their scripts from a CDN: only the schema, /openapi.json
        redoc_url=None,
    )
    app.state.service = service  # handed to the routes by serve.deps.ServiceDep
    app.add_middleware(UploadLimit, max_image_bytes=max_upload_bytes)
    app.add_middleware(HostCheck, allowed=hosts)  # added last, so it runs first
    queue = SearchQueue(max_queued_searches, DECODES_AT_ONCE)
    folders = image_folders(service.image_root)  # item images are served from inside these only

    @app.exception_handler(BadRequest)
    async def _bad_request(request: Request, exc: BadRequest) -> JSONResponse:
        return error_response(exc.status, exc.parameter, exc.message)

    @app.exception_handler(Busy)
    async def _busy(request: Request, exc: Busy) -> JSONResponse:
        response = error_response(503, None, f"{exc.message}; retry in {exc.retry_after} s")
        response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(CorruptScores)
    async def _corrupt(request: Request, exc: CorruptScores) -> JSONResponse:
        log.error("%s", exc)
        return error_response(500, None, str(exc))

    @app.exception_handler(QueryError)
    async def _bad_query(request: Request, exc: QueryError) -> JSONResponse:
        """A 400 naming the HTTP parameter (`q` for the service's `text`), or 404 for an item the catalog does not
        hold (`like`); the parameter is None when no HTTP parameter carries it."""
        status = 404 if isinstance(exc, UnknownItem) else 400
        parameter = SERVICE_TO_HTTP_PARAMETER.get(exc.param, exc.param)
        if parameter not in HTTP_PARAMETERS:
            return error_response(status, None, str(exc))
        return error_response(status, parameter, f"{parameter}: {exc.reason}")

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
        response = error_response(exc.status_code, None, f"{request.url.path}: {exc.detail}")
        response.headers.update(exc.headers or {})  # a 405's Allow, as the route that refused it wrote it
        routes = [r for r in app.routes if isinstance(r, APIRoute) and r.path_regex.match(request.url.path)]
        methods = {method for route in routes for method in route.methods or ()}
        if exc.status_code == 405 and methods:  # an API path: every route's methods, not only the first route's
            response.headers["Allow"] = ", ".join(sorted(methods))
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("search failed on %s", request.url)
        return error_response(500, None, f"internal error ({type(exc).__name__}); the server log has the details")

    def search(service: SearchService, query: dict[str, Any]) -> JSONResponse:
        """One search, on the queue's worker thread."""
        response = service.search(**query).to_dict()
        for result in response["results"]:
            result["image"] = f"/images/{result['item_id']}"
        return JSONResponse(response)  # as built: FastAPI's response-model encoding would only add time

    def check_not_empty(text: str, picture: Image.Image | None, like: str | None) -> None:
        if not text.strip() and picture is None and not like:
            raise BadRequest(400, "q", "q: the query is empty: type some text, upload an image or pass like=<item_id>")

    search_errors = errors(400, 404, 500, 503)

    @app.get("/api/search", summary="Search by text and/or a catalog item's image (like)", responses=search_errors)
    async def get_search(
        service: ServiceDep,
        q: Annotated[str, Query(max_length=MAX_QUERY_CHARS)] = "",
        k: Annotated[int, Query(ge=1, le=MAX_K)] = 10,
        model: Model = "finetuned",
        rerank: Strategy = "constraints",
        like: str | None = None,
    ) -> JSONResponse:
        check_not_empty(q, None, like)
        query = {"text": q, "image": None, "like": like or None, "k": k, "model": model, "rerank": rerank}
        async with queue.admit():
            return await queue.search(search, service, query)

    @app.post(
        "/api/search",
        summary="Search by an uploaded image (multipart) plus the same fields",
        responses={**search_errors, **errors(413, 415)},
    )
    async def post_search(
        request: Request,
        service: ServiceDep,
        image: Annotated[UploadFile | None, File()] = None,
        q: Annotated[str, Form(max_length=MAX_QUERY_CHARS)] = "",
        k: Annotated[int, Form(ge=1, le=MAX_K)] = 10,
        model: Annotated[Model, Form()] = "finetuned",
        rerank: Annotated[Strategy, Form()] = "constraints",
        like: Annotated[str | None, Form()] = None,
    ) -> JSONResponse:
        form = await request.form()  # as FastAPI parsed it (cached): it reads an empty field as its default
        for name in ("k", "model", "rerank"):
            if form.get(name) == "":
                raise BadRequest(400, name, f"{name}: the field is empty; leave it out for the default")
        async with queue.admit():
            query: dict[str, Any] = {"text": q, "like": like or None, "k": k, "model": model, "rerank": rerank}
            if image is None:
                check_not_empty(q, None, like)
                return await queue.search(search, service, {**query, "image": None})
            async with queue.uploads:  # held until the search is done: DECODES_AT_ONCE decoded images at most
                picture = await anyio.to_thread.run_sync(decode_upload, image, max_upload_bytes, max_upload_pixels)
                check_not_empty(q, picture, like)
                return await queue.search(search, service, {**query, "image": picture})

    @app.get("/api/health", summary="Liveness, and the choices the page offers")
    async def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "models": list(MODELS),
            "strategies": list(STRATEGIES),
            "max_k": MAX_K,
            "max_upload_bytes": max_upload_bytes,
            "max_upload_pixels": max_upload_pixels,
            "searches_queued": queue.admitted,
            "max_queued_searches": max_queued_searches,
        }

    @app.get("/images/{item_id}", summary="An item's catalog image", response_class=FileResponse, responses=errors(404))
    async def item_image(service: ServiceDep, item_id: str) -> FileResponse:
        try:
            path = Path(service.image_path(item_id))
        except (KeyError, ValueError):
            raise BadRequest(404, "item_id", f"item_id: unknown item {item_id!r}") from None
        listed = Path(os.path.relpath(path, service.image_root)).as_posix()  # as the catalog lists it
        real = path.resolve()
        if not any(real.is_relative_to(folder) for folder in folders):
            message = f"item_id: the image of {item_id!r} ({listed}) lies outside the catalog folder {paths.RAW_DIR}"
            raise BadRequest(404, "item_id", message)
        if not real.is_file():
            raise BadRequest(404, "item_id", f"item_id: the image of {item_id!r} is missing ({listed})")
        return FileResponse(real, headers={"Cache-Control": "public, max-age=3600"})

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.openapi = lambda: openapi_schema(app)  # type: ignore[method-assign]
    return app


def image_folders(root: Path) -> tuple[Path, ...]:
    """Where an item's image may lie once links are resolved: the catalog folder (data/raw) and, in a DVC workspace
    whose cache links files into place (`cache.type` with symlink), the DVC cache those links point into."""
    folders = [(root / paths.RAW_DIR).resolve()]
    if (root / ".dvc").is_dir():
        from dvc.repo import Repo

        with Repo(str(root)) as repo:
            if "symlink" in str(repo.config["cache"].get("type", "")):
                folders.append(Path(repo.cache.local.path).resolve())
    return tuple(folders)


def openapi_schema(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema without the 422 it lists for every route with parameters (this API answers invalid
    parameters with 400 and the error body, documented per route), and with the upload form's optional fields
    as what multipart can send: a value, or no field at all (FastAPI writes `anyOf: [..., null]`)."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
        for operations in schema["paths"].values():
            for operation in operations.values():
                operation["responses"].pop("422", None)
        for body in schema.get("components", {}).get("schemas", {}).values():
            if body.get("title", "").startswith("Body_"):  # a multipart form: a field is sent or left out, never null
                for name, field in body["properties"].items():
                    kinds = [kind for kind in field.pop("anyOf", []) if kind.get("type") != "null"]
                    if kinds:
                        body["properties"][name] = {**field, **kinds[0]}
        for unused in ("HTTPValidationError", "ValidationError"):
            schema.get("components", {}).get("schemas", {}).pop(unused, None)
        app.openapi_schema = schema
    return app.openapi_schema


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
        "--max-queued-searches",
        type=int,
        default=DEFAULT_MAX_QUEUED_SEARCHES,
        help="searches that may wait behind the running one; past that a search is answered 503 with Retry-After",
    )
    parser.add_argument(
        "--head-timeout",
        type=float,
        default=DEFAULT_HEAD_TIMEOUT_S,
        help="seconds a connection has to send a request's headers before it is closed",
    )
    parser.add_argument(
        "--body-timeout",
        type=float,
        default=DEFAULT_BODY_TIMEOUT_S,
        help="seconds a request has to send its body after its headers before the connection is closed",
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
        max_queued_searches=args.max_queued_searches,
        hosts=allowed_hosts(args.host),
    )
    numerics.log_pinned()
    log.info(
        "loaded %s in %.1f s", "and verified the build" if args.verify else "the build", time.perf_counter() - start
    )
    log.info("serving %s on http://%s:%d", args.root.resolve(), args.host, args.port)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        http=DeadlineProtocol.with_timeouts(args.head_timeout, args.body_timeout),
        log_level="debug" if args.verbose else "info",
    )
