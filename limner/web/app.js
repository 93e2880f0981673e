// limner's web page: plain JS over the same OpenAI-compatible API any client uses.
"use strict";

const $ = (id) => document.getElementById(id);
const MIME = { png: "image/png", jpeg: "image/jpeg", webp: "image/webp" };
const state = { images: [], current: null, busy: false, references: [], masked: false };
const MAX_REFERENCES = 16;

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
  $("mask-mode").disabled = !state.current;
  $("clear-mask").disabled = !state.current;
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
  $("caption").textContent = record.size + (record.seed !== null ? " · seed " + record.seed : "") +
    " · " + record.revised;
  $("download").href = record.url;
  $("download").download = "limner-" + record.id + "-seed" + record.seed + "." +
    (record.format === "jpeg" ? "jpg" : record.format);
  drawBoxes(record.plan);
  resetMask();
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

// --- an uploaded picture (no Plan), a painted mask, reference images -------------------------
function readFile(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(new Error("cannot read " + file.name));
    reader.readAsDataURL(file);
  });
}

function imageSize(url) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve([img.naturalWidth, img.naturalHeight]);
    img.onerror = () => reject(new Error("not an image the browser can show"));
    img.src = url;
  });
}

async function upload() {
  const file = $("upload").files[0];
  if (!file) return;
  try {
    const dataUrl = await readFile(file);
    const format = { "image/png": "png", "image/jpeg": "jpeg", "image/webp": "webp" }[file.type];
    if (!format) throw new Error(file.name + ": use a PNG, JPEG or WebP image");
    const [w, h] = await imageSize(dataUrl);
    const rec = addImage({ b64_json: dataUrl.split(",")[1], revised_prompt: "uploaded " + file.name },
      { output_format: format, size: w + "x" + h, prompt: "uploaded " + file.name });
    select(rec);
    setStatus("Uploaded " + file.name + " (" + w + "×" + h + "): paint a mask or just say what to change.");
  } catch (e) {
    setStatus(e.message, true);
  } finally {
    $("upload").value = "";
  }
}

// The mask canvas has the image's own pixel size; CSS stretches it over the shown image.
function resetMask() {
  const canvas = $("mask-canvas");
  const img = $("main-image");
  const size = state.current ? state.current.size.split("x").map(Number) : [1, 1];
  canvas.width = size[0];
  canvas.height = size[1];
  state.masked = false;
  canvas.classList.toggle("painting", $("mask-mode").checked && !!state.current);
  img.dataset.masked = "false";
}

// A stroke is drawn as segments between pointer events (round caps), so a fast drag
// leaves no gaps.
function paintAt(ev, last) {
  const canvas = $("mask-canvas");
  const r = canvas.getBoundingClientRect();
  const x = (ev.clientX - r.left) * canvas.width / r.width;
  const y = (ev.clientY - r.top) * canvas.height / r.height;
  const ctx = canvas.getContext("2d");
  ctx.strokeStyle = "rgb(220, 40, 40)";
  ctx.lineWidth = Number($("brush").value) * canvas.width / Math.max(r.width, 1);
  ctx.lineCap = "round";
  ctx.beginPath();
  ctx.moveTo(last ? last[0] : x, last ? last[1] : y);
  ctx.lineTo(x, y);
  ctx.stroke();
  state.masked = true;
  $("main-image").dataset.masked = "true";
  return [x, y];
}

function initMask() {
  const canvas = $("mask-canvas");
  let last = null;
  canvas.addEventListener("pointerdown", (e) => { canvas.setPointerCapture(e.pointerId); last = paintAt(e, null); });
  canvas.addEventListener("pointermove", (e) => { if (last) last = paintAt(e, last); });
  canvas.addEventListener("pointerup", () => { last = null; });
  $("mask-mode").addEventListener("change", () =>
    canvas.classList.toggle("painting", $("mask-mode").checked && !!state.current));
  $("clear-mask").addEventListener("click", () => { resetMask(); setStatus("Mask cleared."); });
}

// OpenAI's mask: the image's size, fully transparent where the edit may change.
function maskBlob() {
  const painted = $("mask-canvas");
  const out = document.createElement("canvas");
  out.width = painted.width;
  out.height = painted.height;
  const ctx = out.getContext("2d");
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.globalCompositeOperation = "destination-out";
  ctx.drawImage(painted, 0, 0);
  return new Promise((resolve) => out.toBlob(resolve, "image/png"));
}

async function addReferences() {
  const files = Array.from($("references").files);
  $("references").value = "";
  for (const file of files) {
    if (state.references.length >= MAX_REFERENCES) {
      setStatus("At most " + MAX_REFERENCES + " references.", true);
      break;
    }
    state.references.push({ file, url: URL.createObjectURL(file) });
  }
  showReferences();
}

function showReferences() {
  const list = $("ref-list");
  list.replaceChildren();
  state.references.forEach((ref, i) => {
    const item = document.createElement("li");
    const img = document.createElement("img");
    img.src = ref.url;
    img.alt = "reference " + (i + 1);
    const name = document.createElement("span");
    name.textContent = "reference " + (i + 1);
    const drop = document.createElement("button");
    drop.type = "button";
    drop.textContent = "×";
    drop.title = "remove reference " + (i + 1);
    drop.addEventListener("click", () => { state.references.splice(i, 1); showReferences(); });
    item.append(img, name, drop);
    list.appendChild(item);
  });
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
  for (const ref of state.references) form.append("image[]", ref.file, ref.file.name);
  if (state.masked) form.append("mask", await maskBlob(), "mask.png");
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
    const notes = (result.limner && result.limner.notes) || [];
    setStatus(notes.length ? "Edited. Note: " + notes.join(" ") : "Edited.");
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
  $("upload").addEventListener("change", upload);
  $("references").addEventListener("change", addReferences);
  initMask();
  setBusy(false);
  checkHealth();
}

document.addEventListener("DOMContentLoaded", init);
