// limner's web page: plain JS over the same OpenAI-compatible API any client uses.
"use strict";

const $ = (id) => document.getElementById(id);
const MIME = { png: "image/png", jpeg: "image/jpeg", webp: "image/webp" };
const state = { images: [], current: null, busy: false };

// --- talking to the server ------------------------------------------------------------
function authHeaders(extra) {
  const headers = Object.assign({}, extra || {});
  const key = $("api-key").value.trim();
  if (key) headers["Authorization"] = "Bearer " + key;
  return headers;
}

async function errorText(resp) {
  try {
    const body = await resp.json();
    if (body.error && body.error.message) return body.error.message;
  } catch (e) { /* not JSON: fall through to the status line */ }
  return resp.status + " " + resp.statusText;
}

async function postJSON(path, body) {
  const resp = await fetch(path, {
    method: "POST", headers: authHeaders({ "Content-Type": "application/json" }),
    body: JSON.stringify(body),
  });
  if (!resp.ok) throw new Error(await errorText(resp));
  return resp;
}

// Reads a server-sent event stream, calling onEvent(event) for each JSON event.
async function readEvents(resp, onEvent) {
  const reader = resp.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const data = block.split("\n").filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).trim()).join("\n");
      if (data) onEvent(JSON.parse(data));
    }
  }
}

async function checkHealth() {
  const pill = $("health");
  try {
    const resp = await fetch("/healthz");
    const body = await resp.json();
    pill.textContent = body.status + " · " + body.renderer;
    pill.className = "pill " + (resp.ok ? "ok" : "bad");
  } catch (e) {
    pill.textContent = "offline";
    pill.className = "pill bad";
  }
}

// --- reading the controls ----------------------------------------------------------------
function chosenSize() {
  const v = $("size").value;
  return v === "custom" ? $("custom-size").value.trim() : v;
}

function requestOptions() {
  const opts = {
    size: chosenSize(), quality: $("quality").value, background: $("background").value,
    n: parseInt($("n").value, 10) || 1, output_format: $("format").value,
  };
  const seed = $("seed").value.trim();
  if (seed !== "") opts.seed = parseInt(seed, 10);
  return opts;
}

function setStatus(text, isError) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
}

function setBusy(busy) {
  state.busy = busy;
  $("generate").disabled = busy;
  $("edit-button").disabled = busy || !state.current;
  $("edit-input").disabled = !state.current;
}

// --- images ---------------------------------------------------------------------------------
function b64ToBlob(b64, mime) {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Blob([bytes], { type: mime });
}

function addImage(item, meta) {
  const record = {
    id: state.images.length + 1, b64: item.b64_json, format: meta.output_format,
    size: meta.size, plan: item.limner ? item.limner.plan : null,
    seed: item.limner ? item.limner.seed : null, revised: item.revised_prompt || "",
    prompt: meta.prompt, instruction: meta.instruction || null, parent: meta.parent || null,
    error: null,
  };
  record.url = URL.createObjectURL(b64ToBlob(record.b64, MIME[record.format]));
  state.images.push(record);
  addThumb(record);
  return record;
}

function addThumb(record) {
  const img = document.createElement("img");
  img.className = "thumb";
  img.src = record.url;
  img.alt = "image " + record.id;
  img.title = (record.instruction || record.prompt) + (record.seed !== null ? " · seed " + record.seed : "");
  img.dataset.id = record.id;
  img.addEventListener("click", () => select(record));
  $("gallery").appendChild(img);
}

function select(record) {
  state.current = record;
  $("empty").hidden = true;
  $("figure").hidden = false;
  $("image-actions").hidden = false;
  $("main-image").src = record.url;
  $("caption").textContent = record.size + " · seed " + record.seed + " · " + record.revised;
  $("download").href = record.url;
  $("download").download = "limner-" + record.id + "-seed" + record.seed + "." +
    (record.format === "jpeg" ? "jpg" : record.format);
  drawBoxes(record.plan);
  $("plan-details").hidden = !record.plan;
  $("plan-json").textContent = record.plan ? JSON.stringify(record.plan, null, 2) : "";
  for (const t of document.querySelectorAll(".thumb")) {
    t.classList.toggle("selected", Number(t.dataset.id) === record.id);
  }
  showConversation(record);
  setBusy(state.busy);
}

function showPreview(b64, format) {
  $("empty").hidden = true;
  $("figure").hidden = false;
  $("main-image").src = "data:" + MIME[format] + ";base64," + b64;
  $("overlay").replaceChildren();
}

// The Plan's boxes are normalised [x0, y0, x1, y1]; CSS percentages place them exactly.
function drawBoxes(plan) {
  const overlay = $("overlay");
  overlay.replaceChildren();
  if (!plan) return;
  for (const el of plan.elements) {
    const [x0, y0, x1, y1] = el.box;
    const box = document.createElement("div");
    box.className = "box " + el.kind;
    box.style.left = x0 * 100 + "%";
    box.style.top = y0 * 100 + "%";
    box.style.width = (x1 - x0) * 100 + "%";
    box.style.height = (y1 - y0) * 100 + "%";
    box.title = el.id;
    const label = document.createElement("span");
    label.textContent = el.kind === "text" ? "\u201c" + el.content + "\u201d"
      : el.label + (el.color ? " (" + el.color + ")" : "");
    box.appendChild(label);
    overlay.appendChild(box);
  }
  overlay.classList.toggle("hidden", !$("show-boxes").checked);
}

// --- the conversation: the chain of edits that led to the selected image -------------------
function lineage(record) {
  const chain = [];
  for (let r = record; r; r = r.parent) chain.unshift(r);
  return chain;
}

function showConversation(record) {
  const list = $("conversation");
  list.replaceChildren();
  for (const r of lineage(record)) {
    const turn = document.createElement("li");
    turn.className = "turn";
    const said = document.createElement("div");
    said.className = "said" + (r.instruction ? "" : " first");
    said.textContent = r.instruction || r.prompt;
    const img = document.createElement("img");
    img.src = r.url;
    img.alt = "result";
    img.addEventListener("click", () => select(r));
    turn.append(said, img);
    list.appendChild(turn);
  }
}

// --- actions -------------------------------------------------------------------------------
async function generate() {
  const prompt = $("prompt").value.trim();
  if (!prompt) { setStatus("Write a prompt first.", true); return; }
  const body = Object.assign({ model: "limner", prompt }, requestOptions());
  const started = performance.now();
  setBusy(true);
  setStatus("Planning and drawing…");
  try {
    let first = null;
    if ($("stream").checked) {
      body.stream = true;
      body.partial_images = 2;
      const resp = await postJSON("/v1/images/generations", body);
      await readEvents(resp, (ev) => {
        if (ev.type === "error") throw new Error(ev.error.message);
        if (ev.type.endsWith("partial_image")) {
          showPreview(ev.b64_json, ev.output_format);
          setStatus("Preview " + (ev.partial_image_index + 1) + "…");
        } else {
          const rec = addImage(ev, { output_format: ev.output_format, size: ev.size, prompt });
          first = first || rec;
        }
      });
    } else {
      const resp = await postJSON("/v1/images/generations", body);
      const result = await resp.json();
      for (const item of result.data) {
        const rec = addImage(item, { output_format: result.output_format, size: result.size, prompt });
        first = first || rec;
      }
    }
    if (first) select(first);
    setStatus("Done in " + ((performance.now() - started) / 1000).toFixed(2) + " s.");
  } catch (e) {
    setStatus(e.message, true);
  } finally {
    setBusy(false);
    checkHealth();
  }
}

async function edit() {
  const current = state.current;
  const instruction = $("edit-input").value.trim();
  if (!current || !instruction) return;
  const form = new FormData();
  form.append("image", b64ToBlob(current.b64, MIME[current.format]), "image");
  form.append("prompt", instruction);
  form.append("model", "limner");
  form.append("output_format", current.format);
  setBusy(true);
  setStatus("Editing…");
  try {
    const resp = await fetch("/v1/images/edits", { method: "POST", headers: authHeaders(), body: form });
    if (!resp.ok) throw new Error(await errorText(resp));
    const result = await resp.json();
    const rec = addImage(result.data[0], {
      output_format: result.output_format, size: result.size, prompt: current.prompt,
      instruction, parent: current,
    });
    $("edit-input").value = "";
    select(rec);
    setStatus("Edited.");
  } catch (e) {
    setStatus(e.message, true);
  } finally {
    setBusy(false);
  }
}

function init() {
  $("api-key").value = localStorage.getItem("limner-api-key") || "";
  $("api-key").addEventListener("change", () => localStorage.setItem("limner-api-key", $("api-key").value));
  $("size").addEventListener("change", () => { $("custom-size-label").hidden = $("size").value !== "custom"; });
  $("generate").addEventListener("click", generate);
  $("prompt").addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) generate(); });
  $("edit-button").addEventListener("click", edit);
  $("edit-input").addEventListener("keydown", (e) => { if (e.key === "Enter") edit(); });
  $("show-boxes").addEventListener("change", () => $("overlay").classList.toggle("hidden", !$("show-boxes").checked));
  setBusy(false);
  checkHealth();
}

document.addEventListener("DOMContentLoaded", init);
