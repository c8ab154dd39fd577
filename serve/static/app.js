// The search page: one form, one results grid; every search is a call to /api/search (GET, or POST with an image).
"use strict";

const $ = (id) => document.getElementById(id);
const form = $("search-form");
const state = { like: null, file: null, maxUploadBytes: Infinity };

function chip(field, value, kind) {
  const el = document.createElement("span");
  el.className = "chip" + (kind ? " " + kind : "");
  const name = document.createElement("span");
  name.className = "field";
  name.textContent = field + ": ";
  el.append(name, String(value));
  return el;
}

function fillSelect(select, values, preferred) {
  select.replaceChildren(...values.map((value) => new Option(value, value, false, value === preferred)));
}

async function loadChoices() {
  const params = new URLSearchParams(location.search);
  try {
    const health = await (await fetch("/api/health")).json();
    fillSelect($("model"), health.models, params.get("model") || "finetuned");
    fillSelect($("rerank"), health.strategies, params.get("rerank") || "constraints");
    $("k").max = health.max_k;
    state.maxUploadBytes = health.max_upload_bytes;
  } catch (err) {
    showError({ message: "the server does not answer /api/health: " + err });
  }
  if (params.get("k")) $("k").value = params.get("k");
  if (params.get("q")) $("q").value = params.get("q");
  if (params.get("q") || params.get("like")) runSearch(params.get("like"));
}

function showError(error) {
  const box = $("error");
  box.hidden = !error;
  box.textContent = error ? (error.parameter ? `${error.parameter}: ` : "") + error.message.replace(/^\w+: /, "") : "";
}

function renderQuery(data, like, elapsedMs) {
  $("query-bar").hidden = false;
  const image = $("query-image");
  image.hidden = !(like || state.file);
  if (like) image.src = `/images/${encodeURIComponent(like)}`;
  $("query-like").hidden = !like;
  $("query-like").textContent = like ? `like item ${like}` : "";
  $("clear-image").hidden = !(like || state.file);

  const constraints = $("constraints");
  constraints.replaceChildren();
  for (const [field, value] of Object.entries(data.constraints || {})) {
    constraints.append(chip(field, [].concat(value).join(" or "), "wanted"));
  }
  for (const [field, values] of Object.entries(data.excluded || {})) {
    for (const value of values) constraints.append(chip(field, "not " + value, "excluded"));
  }
  if (!constraints.children.length) constraints.textContent = "no constraints parsed";

  const t = data.timings_ms || {};
  const parts = ["parse", "encode", "retrieve", "rerank", "total"].filter((key) => key in t);
  $("timings").textContent =
    parts.map((key) => `${key} ${Number(t[key]).toFixed(1)}`).join(" · ") + ` ms · round trip ${elapsedMs.toFixed(0)} ms`;
}

function renderResults(results) {
  const grid = $("results");
  grid.replaceChildren();
  for (const result of results) {
    const card = document.createElement("article");
    card.className = "card";
    card.dataset.itemId = result.item_id;

    const img = document.createElement("img");
    img.src = result.image;
    img.alt = `item ${result.item_id}`;
    img.title = "search by this image";
    img.addEventListener("click", () => runSearch(result.item_id));

    const body = document.createElement("div");
    body.className = "body";
    const head = document.createElement("div");
    head.className = "head";
    const id = document.createElement("span");
    id.textContent = result.item_id;
    const score = document.createElement("span");
    score.className = "score";
    score.textContent = Number(result.score).toFixed(3);
    score.title = "ranking score (with constraints: similarity + α·matches − β·conflicts)";
    const similarity = document.createElement("span");
    similarity.className = "similarity";
    similarity.textContent = "sim " + Number(result.similarity ?? result.score).toFixed(3);
    similarity.title = "cosine similarity to the query";
    head.append(id, similarity, score);

    // the explanation's fields first, highlighted (✓ holds, ✗ conflicts with the query); then the item's other fields
    const explain = document.createElement("div");
    explain.className = "chips explain";
    for (const claim of result.explanation || []) explain.append(chip(claim.field, claim.value, "match"));
    for (const claim of result.conflicts || []) explain.append(chip(claim.field, claim.value, "conflict"));
    const shown = new Set([...(result.explanation || []), ...(result.conflicts || [])].map((claim) => claim.field));
    const attributes = document.createElement("div");
    attributes.className = "chips attributes";
    for (const [field, value] of Object.entries(result.attributes || {})) {
      if (shown.has(field) || value === "unknown" || value === null || value === "") continue;
      attributes.append(chip(field, [].concat(value).join(", "), ""));
    }

    body.append(head, explain, attributes);
    card.append(img, body);
    grid.append(card);
  }
  if (!results.length) grid.textContent = "no results";
}

async function runSearch(like) {
  state.like = like || null;
  if (state.like) {
    state.file = null;
    $("image").value = "";
    $("image-label").textContent = "Image…";
  }
  const fields = {
    q: state.like ? "" : $("q").value.trim(),
    k: $("k").value,
    model: $("model").value,
    rerank: $("rerank").value,
  };
  if (state.like) {
    fields.like = state.like;
    $("q").value = "";
  }
  const started = performance.now();
  let response;
  try {
    if (state.file) {
      const body = new FormData();
      for (const [key, value] of Object.entries(fields)) body.append(key, value);
      body.append("image", state.file);
      response = await fetch("/api/search", { method: "POST", body });
    } else {
      const query = new URLSearchParams(fields);
      history.replaceState(null, "", "?" + query);
      response = await fetch("/api/search?" + query);
    }
  } catch (err) {
    showError({ message: "the server did not answer: " + err });
    return;
  }
  const data = await response.json();
  if (!response.ok) {
    showError(data.error || { message: `HTTP ${response.status}` });
    if (data.error && data.error.parameter === "image") clearImage(); // not sent again with the next search
    return;
  }
  showError(null);
  $("hint").hidden = true;
  renderQuery(data, state.like, performance.now() - started);
  renderResults(data.results);
  window.scrollTo({ top: 0 });
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  runSearch(null);
});

$("image").addEventListener("change", () => {
  const file = $("image").files[0] || null;
  if (file && file.size > state.maxUploadBytes) {
    $("image").value = "";
    const limit = state.maxUploadBytes.toLocaleString("en");
    showError({ parameter: "image", message: `${file.name} is ${file.size.toLocaleString("en")} bytes, over the limit of ${limit}` });
    return;
  }
  state.file = file;
  $("image-label").textContent = state.file ? state.file.name : "Image…";
  if (state.file) {
    $("query-image").src = URL.createObjectURL(state.file);
    runSearch(null);
  }
});

function clearImage() {
  state.file = null;
  state.like = null;
  $("image").value = "";
  $("image-label").textContent = "Image…";
  $("query-image").hidden = true;
  $("query-like").hidden = true;
  $("clear-image").hidden = true;
}

$("clear-image").addEventListener("click", clearImage);

for (const id of ["model", "rerank"]) {
  $(id).addEventListener("change", () => {
    if (!$("query-bar").hidden) runSearch(state.like);
  });
}

loadChoices();
