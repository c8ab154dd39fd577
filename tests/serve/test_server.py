"""The HTTP API on a tiny real build, called over HTTP: searches, item images, the page, one 4xx per bad input."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import urllib.request
from urllib.parse import urlencode

import pytest
from PIL import Image
from serving import (
    REPO,
    call,
    free_port,
    get_json,
    multipart,
    post_search,
    raw_request,
    server_command,
    server_env,
)

QUERY = "red t-shirts"


def search(server: str, **params) -> tuple[int, dict]:
    return get_json(f"{server}/api/search?{urlencode(params)}")


def image_bytes(server: str, item_id: str) -> bytes:
    status, headers, body = call(f"{server}/images/{item_id}")
    assert status == 200, body
    return body


@pytest.mark.slow
def test_health_lists_the_choices(server):
    status, health = get_json(f"{server}/api/health")
    assert status == 200
    assert health["status"] == "ok"
    assert health["models"] == ["baseline", "finetuned"]
    assert health["strategies"] == ["none", "constraints", "mmr", "policy"]
    assert health["max_k"] == 100


@pytest.mark.slow
def test_text_search_returns_explained_results_with_images(server):
    status, data = search(server, q=QUERY, k=7)
    assert status == 200, data
    assert data["constraints"].get("color") == "red"
    assert data["constraints"].get("category") == "tees"
    results = data["results"]
    assert len(results) == 7
    assert len({r["item_id"] for r in results}) == 7
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    for result in results:
        assert result["image"] == f"/images/{result['item_id']}"
        # every explanation claim and every conflict is about the item's own fields
        for claim in result["explanation"]:
            assert result["attributes"][claim["field"]] == claim["value"], (result["item_id"], claim)
        for claim in result["conflicts"]:
            assert result["attributes"][claim["field"]] != "unknown", (result["item_id"], claim)
    # constraint rerank puts red tees first when the catalog has them
    assert results[0]["attributes"]["color"] == "red"
    assert set(data["timings_ms"]) >= {"parse", "encode", "retrieve", "rerank", "total"}


@pytest.mark.slow
def test_every_model_and_strategy_answers(server):
    for model in ("baseline", "finetuned"):
        for rerank in ("none", "constraints", "mmr", "policy"):
            status, data = search(server, q=QUERY, k=5, model=model, rerank=rerank)
            assert status == 200, (model, rerank, data)
            assert len(data["results"]) == 5, (model, rerank)


@pytest.mark.slow
def test_negation_is_a_conflict_not_a_match(server):
    status, data = search(server, q="t-shirts not red", k=10, rerank="constraints")
    assert status == 200, data
    assert data["excluded"].get("color") == ["red"]
    assert all(r["attributes"]["color"] != "red" for r in data["results"][:5])


@pytest.mark.slow
def test_like_and_an_upload_of_the_same_image_find_the_same_neighbours(server):
    _, first = search(server, q=QUERY, k=5)
    item_id = first["results"][-1]["item_id"]
    status, liked = search(server, like=item_id, k=5, rerank="none", model="baseline")
    assert status == 200, liked
    liked_ids = [r["item_id"] for r in liked["results"]]
    assert item_id not in liked_ids and len(liked_ids) == 5  # like=<id> searches by it, leaving it out
    assert liked_ids != [r["item_id"] for r in first["results"]]
    upload = {"image": (f"{item_id}.jpg", image_bytes(server, item_id), "image/jpeg")}
    status, uploaded = post_search(server, {"k": "6", "model": "baseline", "rerank": "none"}, upload)
    assert status == 200, uploaded
    uploaded_ids = [r["item_id"] for r in uploaded["results"]]
    # the upload goes through encode_kv's backbone and preprocessing: the item itself first, then its neighbours
    assert uploaded_ids[0] == item_id
    assert uploaded_ids[1:4] == liked_ids[:3]
    status, data = post_search(server, {"q": "red", "k": "4", "like": ""}, upload)  # text and image together
    assert status == 200, data
    assert len(data["results"]) == 4 and data["constraints"].get("color") == "red"


@pytest.mark.slow
def test_item_images_and_the_page_are_served(server):
    _, data = search(server, q=QUERY, k=1)
    image = Image.open(io.BytesIO(image_bytes(server, data["results"][0]["item_id"])))
    assert image.size[0] > 0 and image.size[1] > 0
    status, headers, page = call(f"{server}/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert b'src="/static/app.js"' in page and b'id="results"' in page
    for asset in ("app.js", "style.css"):
        status, _, body = call(f"{server}/static/{asset}")
        assert status == 200 and body
    status, _, schema = call(f"{server}/openapi.json")
    assert status == 200 and {"/api/search", "/images/{item_id}", "/api/health"} <= set(json.loads(schema)["paths"])
    assert call(f"{server}/docs")[0] == 404  # Swagger UI would load its scripts from a CDN
    # nothing on the page comes from elsewhere
    for asset in (page, call(f"{server}/static/app.js")[2], call(f"{server}/static/style.css")[2]):
        assert b"http://" not in asset and b"https://" not in asset


BAD_GETS = [
    ({}, "q"),
    ({"q": "   "}, "q"),
    ({"q": "red " * 200}, "q"),
    ({"q": "red", "k": "0"}, "k"),
    ({"q": "red", "k": "101"}, "k"),
    ({"q": "red", "k": "ten"}, "k"),
    ({"q": "red", "k": "2.5"}, "k"),
    ({"q": "red", "model": "resnet"}, "model"),
    ({"q": "red", "rerank": "random"}, "rerank"),
    ({"like": "no-such-item"}, "like"),  # a 404: the next test
]


@pytest.mark.slow
@pytest.mark.parametrize(("params", "parameter"), BAD_GETS, ids=[str(p)[:40] for p, _ in BAD_GETS])
def test_bad_query_is_one_4xx_json_error_and_the_server_keeps_serving(server, params, parameter):
    status, headers, body = call(f"{server}/api/search?{urlencode(params)}")
    assert 400 <= status < 500, (status, body)
    assert headers["content-type"] == "application/json"
    error = json.loads(body)["error"]
    assert error["parameter"] == parameter, error
    assert error["message"].startswith(f"{parameter}:"), error
    assert b"Traceback" not in body
    status, data = search(server, q=QUERY, k=3)
    assert status == 200 and len(data["results"]) == 3


@pytest.mark.slow
def test_unknown_items_empty_form_fields_and_other_methods_get_their_own_status(server):
    """An unknown `like` item is a 404 (like an unknown item's image); an empty form field is a 400 naming it
    (FastAPI alone would read it as the default); a method a path lacks is a 405 whose Allow names all it has."""
    status, data = search(server, like="no-such-item")
    assert status == 404 and data["error"]["parameter"] == "like", data
    status, data = post_search(server, {"q": QUERY, "model": ""}, {})
    assert status == 400 and data["error"] == {
        "parameter": "model",
        "message": "model: the field is empty; leave it out for the default",
    }, data
    status, headers, body = call(urllib.request.Request(f"{server}/api/search", method="DELETE"))
    assert status == 405 and headers["allow"] == "GET, POST", (headers, body)
    status, headers, body = call(urllib.request.Request(f"{server}/static/app.js", data=b"", method="POST"))
    assert status == 405 and headers["allow"] == "GET, HEAD", (headers, body)


@pytest.mark.slow
def test_bad_uploads_are_refused_and_the_server_keeps_serving(server):
    _, health = get_json(f"{server}/api/health")
    limit = health["max_upload_bytes"]
    _, first = search(server, q=QUERY, k=1)
    jpeg = image_bytes(server, first["results"][0]["item_id"])
    cases = [
        ({"image": ("notes.jpg", b"this is not an image", "image/jpeg")}, 415),
        ({"image": ("cut.jpg", jpeg[: len(jpeg) // 2], "image/jpeg")}, 415),  # truncated: fails when decoded
        ({"image": ("empty.jpg", b"", "image/jpeg")}, 400),
        ({"image": ("big.jpg", b"\xff" * (limit + 1), "image/jpeg")}, 413),  # over the limit, under Content-Length's
        ({"image": ("huge.jpg", b"\xff" * (limit + 200_000), "image/jpeg")}, 413),  # refused from Content-Length
    ]
    for files, expected in cases:
        status, data = post_search(server, {"q": "red", "k": "3"}, files)
        assert status == expected, (files["image"][0], status, data)
        assert data["error"]["parameter"] == "image", data
        assert data["error"]["message"].startswith("image:"), data
        status, data = search(server, q=QUERY, k=3)
        assert status == 200 and len(data["results"]) == 3
    status, data = post_search(server, {"q": "red", "k": "0"}, {})
    assert status == 400 and data["error"]["parameter"] == "k", data


def declared_pixels(fmt: str, size: tuple[int, int]) -> bytes:
    """A few KiB of image whose header declares `size`: a decompression bomb (tens of megapixels as RGB)."""
    buffer = io.BytesIO()
    Image.new("1" if fmt == "PNG" else "P", size).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.slow
@pytest.mark.parametrize(("fmt", "size"), [("PNG", (12_000, 12_000)), ("GIF", (8_000, 6_000))])
def test_an_image_declaring_too_many_pixels_is_refused_before_it_is_decoded(server, fmt, size):
    bomb = declared_pixels(fmt, size)
    assert len(bomb) < 100_000  # the bytes are nothing; the pixels, 144 and 48 megapixels
    status, data = post_search(server, {"q": "red", "k": "3"}, {"image": (f"bomb.{fmt.lower()}", bomb, "image/png")})
    assert status == 413, data
    assert data["error"]["parameter"] == "image"
    assert f"{size[0]:,} x {size[1]:,} pixels, over the limit of 40 megapixels" in data["error"]["message"]
    status, data = search(server, q=QUERY, k=3)
    assert status == 200 and len(data["results"]) == 3


@pytest.mark.slow
def test_a_chunked_upload_is_counted_as_it_streams(server):
    _, health = get_json(f"{server}/api/health")
    _, first = search(server, q=QUERY, k=1)
    jpeg = image_bytes(server, first["results"][0]["item_id"])
    body, content_type = multipart({"k": "3"}, {"image": ("item.jpg", jpeg, "image/jpeg")})
    chunked = {"Content-Type": content_type}
    status, data = raw_request(server, "POST", "/api/search", chunked, body)  # within the limit: answered as usual
    assert status == 200 and len(data["results"]) == 3, data
    huge = b"\xff" * (health["max_upload_bytes"] + 2 * 2**20)
    body, content_type = multipart({"k": "3"}, {"image": ("huge.jpg", huge, "image/jpeg")})
    status, data = raw_request(server, "POST", "/api/search", {"Content-Type": content_type}, body)
    assert status == 413 and data["error"]["parameter"] == "image", data
    # refused as it streamed, by the count of the bytes received (not after the whole body was spooled and parsed)
    assert data["error"]["message"].startswith("image: the upload is at least "), data
    # a small Content-Length beside the chunked framing changes nothing: the server frames by the chunks, and so
    # does the count (http.client sends a body as given once Content-Length is set: the chunks are framed here)
    framed = b"".join(
        b"%x\r\n%s\r\n" % (len(body[i : i + 2**16]), body[i : i + 2**16]) for i in range(0, len(body), 2**16)
    )
    smuggled = {"Content-Type": content_type, "Content-Length": "10", "Transfer-Encoding": "chunked"}
    status, data = raw_request(server, "POST", "/api/search", smuggled, framed + b"0\r\n\r\n")
    assert status == 413 and data["error"]["message"].startswith("image: the upload is at least "), data
    status, data = search(server, q=QUERY, k=3)
    assert status == 200 and len(data["results"]) == 3


@pytest.mark.slow
def test_a_request_naming_another_host_is_refused(server):
    """A page on another site that DNS rebinding points at 127.0.0.1 sends its own name as Host."""
    port = server.rsplit(":", 1)[1]
    for host in (f"evil.example:{port}", "attacker.test", f"127.0.0.1.evil.example:{port}"):
        status, data = raw_request(server, "GET", f"/api/search?{urlencode({'q': QUERY})}", {"Host": host})
        assert status == 400 and data["error"]["message"].startswith(f"Host: {host!r} is not this server"), data
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "LOCALHOST"):
        status, data = raw_request(server, "GET", "/api/health", {"Host": host})
        assert status == 200 and data["status"] == "ok", (host, data)


@pytest.mark.slow
def test_unknown_item_image_and_route_are_json_404s(server):
    status, _, body = call(f"{server}/images/no-such-item")
    assert status == 404 and json.loads(body)["error"]["parameter"] == "item_id"
    status, _, body = call(f"{server}/api/nothing-here")
    assert status == 404 and "error" in json.loads(body)


@pytest.mark.slow
def test_an_image_missing_or_linked_outside_the_catalog_is_a_404_naming_the_catalog_path(server, built_project):
    """A symlink planted under data/raw/ is not followed out of it; no answer names a path of the server's disk."""
    _, data = search(server, q=QUERY, k=1)
    item = data["results"][0]["item_id"]
    root = built_project.root
    image = next((root / "data/raw").rglob(f"{item}.*"))
    listed = image.relative_to(root).as_posix()
    kept = image.with_name(image.name + ".kept")
    image.rename(kept)
    try:
        status, _, body = call(f"{server}/images/{item}")
        message = json.loads(body)["error"]["message"]
        assert status == 404 and message == f"item_id: the image of {item!r} is missing ({listed})"
        outside = root / "secret.jpg"
        outside.write_bytes(kept.read_bytes())
        image.symlink_to(outside)
        status, _, body = call(f"{server}/images/{item}")
        message = json.loads(body)["error"]["message"]
        assert status == 404 and "lies outside the catalog folder data/raw" in message and str(root) not in message
    finally:
        image.unlink(missing_ok=True)
        kept.rename(image)
    assert call(f"{server}/images/{item}")[0] == 200


@pytest.mark.slow
def test_the_openapi_schema_documents_the_statuses_the_api_answers(server):
    """400 (never FastAPI's 422), 404, 413, 415, 500 and 503, each with the error body the handlers write; the
    upload form's optional fields are a value or absent (multipart has no null)."""
    schema = json.loads(call(f"{server}/openapi.json")[2])
    documented = {
        (path, method): set(operation["responses"])
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    }
    assert documented[("/api/search", "get")] == {"200", "400", "404", "500", "503"}
    assert documented[("/api/search", "post")] == {"200", "400", "404", "413", "415", "500", "503"}
    assert documented[("/images/{item_id}", "get")] == {"200", "404"}
    assert not any("422" in statuses for statuses in documented.values())
    error = schema["paths"]["/api/search"]["get"]["responses"]["400"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/ErrorBody"}
    assert set(schema["components"]["schemas"]) == {"ErrorBody", "ErrorDetail", "Body_post_search_api_search_post"}
    form = schema["components"]["schemas"]["Body_post_search_api_search_post"]["properties"]
    assert not any("anyOf" in field for field in form.values()) and form["like"]["type"] == "string"


def test_missing_build_is_one_error_line_and_no_server(tmp_path):
    (tmp_path / "params.yaml").write_bytes((REPO / "params.yaml").read_bytes())
    result = subprocess.run(
        server_command(tmp_path, free_port()),
        cwd=REPO,
        env=server_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "dvc repro" in lines[0] and "Traceback" not in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("corrupted", ["artifacts/store/image_keys.npy", "artifacts/index/image.faiss"])
def test_a_build_whose_files_changed_since_they_were_written_is_not_served(built_project, tmp_path, corrupted):
    """A same-size edit (a block of bytes zeroed) passes every size and header check; the sha256 that the store's
    manifest and the index's sidecar record catches it at start, in one line, before anything is served."""
    root = tmp_path / "build"
    shutil.copytree(built_project.root, root, ignore=shutil.ignore_patterns(".dvc", ".git"))
    path = root / corrupted
    data = bytearray(path.read_bytes())
    data[-8192:-4096] = bytes(4096)
    path.write_bytes(bytes(data))
    result = subprocess.run(
        server_command(root, free_port()), cwd=REPO, env=server_env(), capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 1
    lines = [line for line in result.stderr.strip().splitlines() if "WARNING" not in line]
    assert lines[-1].startswith("error: ") and "sha256" in lines[-1] and corrupted.split("/")[-1] in lines[-1]
    assert "Traceback" not in result.stderr


def test_help_runs_without_a_build():
    result = subprocess.run(
        [sys.executable, "-m", "serve", "--help"], cwd=REPO, env=server_env(), capture_output=True, text=True
    )
    assert result.returncode == 0 and "--port" in result.stdout
