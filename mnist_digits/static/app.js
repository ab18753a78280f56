// The digit reader's page: draw or bring an image, and show what the model answers.
// Plain browser JavaScript, no libraries: the page works offline.
"use strict";

const DEBOUNCE_MS = 120; // pause in the drawing before the pad is sent
const $ = (id) => document.getElementById(id);

const pad = $("pad");
const ink = pad.getContext("2d");
const numberMode = $("number-mode");
let padHasInk = false;
let lastSource = null; // what was last sent, so the number switch can re-read it

// ---- Requests: at most one in flight; the latest wins --------------------------------

let latest = null; // the newest request not yet sent: {body, kind}
let generation = 0; // bumped by every new request and by Clear: older answers are stale
let inFlight = false;

function submit(source) {
  lastSource = source;
  latest = source;
  generation += 1;
  if (!inFlight) sendLatest();
}

// "busy" while a drawing waits for its debounce or any answer is awaited: a hook for tests and styles.
let debouncing = false;
function markState() {
  document.body.dataset.state = inFlight || latest || debouncing ? "busy" : "idle";
}

async function sendLatest() {
  const source = latest;
  const sentGeneration = generation;
  latest = null;
  inFlight = true;
  markState();
  try {
    const body = await source.body();
    const url = "/api/predict" + (numberMode.checked ? "?number=1" : "");
    const options = { method: "POST", body };
    if (source.type) options.headers = { "Content-Type": source.type };
    const response = await fetch(url, options);
    const answer = await response.json();
    // A newer drawing (or Clear) came while this one was read: its answer is dropped.
    if (sentGeneration === generation) show(answer, source);
  } catch (error) {
    if (sentGeneration === generation) showError("The server did not answer: is mnist-serve still running?");
  } finally {
    inFlight = false;
    if (latest) sendLatest();
    else markState();
  }
}

// ---- The drawing pad ------------------------------------------------------------------

function clearPad() {
  ink.fillStyle = "#fff";
  ink.fillRect(0, 0, pad.width, pad.height);
  padHasInk = false;
}

function padPoint(event) {
  const rect = pad.getBoundingClientRect();
  return [(event.clientX - rect.left) * pad.width / rect.width,
          (event.clientY - rect.top) * pad.height / rect.height];
}

let drawing = false;
let debounceTimer = 0;

function padChanged() {
  clearTimeout(debounceTimer);
  debouncing = true;
  markState();
  debounceTimer = setTimeout(() => {
    debouncing = false;
    submit({ kind: "drawing", type: "image/png",
             body: () => new Promise((resolve) => pad.toBlob(resolve, "image/png")) });
  }, DEBOUNCE_MS);
}

pad.addEventListener("pointerdown", (event) => {
  if (event.button !== 0) return;
  event.preventDefault();
  pad.setPointerCapture(event.pointerId);
  drawing = true;
  padHasInk = true;
  ink.lineWidth = Number($("pen-width").value);
  ink.lineCap = "round";
  ink.lineJoin = "round";
  ink.strokeStyle = "#000";
  const [x, y] = padPoint(event);
  ink.beginPath();
  ink.moveTo(x, y);
  ink.lineTo(x, y); // a tap leaves a dot
  ink.stroke();
  padChanged();
});

pad.addEventListener("pointermove", (event) => {
  if (!drawing) return;
  // A fast pen reports several points per frame: draw them all for a smooth line.
  const points = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
  for (const point of points.length ? points : [event]) {
    const [x, y] = padPoint(point);
    ink.lineTo(x, y);
  }
  ink.stroke();
  padChanged();
});

function endStroke() {
  if (!drawing) return;
  drawing = false;
  padChanged();
}
pad.addEventListener("pointerup", endStroke);
pad.addEventListener("pointercancel", endStroke);

$("clear").addEventListener("click", () => {
  clearTimeout(debounceTimer);
  debouncing = false;
  clearPad();
  generation += 1; // an answer still on its way is for the old drawing
  latest = null;
  markState();
  lastSource = null;
  resetAnswer("Draw a digit to start.");
});

$("pen-width").addEventListener("input", (event) => {
  $("pen-width-value").textContent = event.target.value;
});

numberMode.addEventListener("change", () => {
  // A number needs room: the pad becomes twice as wide (and starts blank).
  pad.width = numberMode.checked ? 560 : 280;
  pad.classList.toggle("wide", numberMode.checked);
  clearPad();
  if (lastSource && lastSource.kind === "upload") submit(lastSource);
  else resetAnswer(numberMode.checked ? "Write a number." : "Draw a digit to start.");
});

// ---- Images brought by the file picker, drag and drop, or paste --------------------

function sendFile(file) {
  if (!file) return;
  if (file.type && !file.type.startsWith("image/")) {
    showError(`That is not an image (${file.type}).`);
    return;
  }
  const photo = $("photo");
  if (photo.src.startsWith("blob:")) URL.revokeObjectURL(photo.src);
  photo.src = URL.createObjectURL(file);
  $("photo-seen").removeAttribute("src");
  $("photo-row").hidden = false;
  submit({ kind: "upload", body: async () => { const form = new FormData(); form.append("image", file); return form; } });
}

$("upload").addEventListener("change", (event) => sendFile(event.target.files[0]));

const dropzone = $("dropzone");
for (const name of ["dragenter", "dragover"]) {
  dropzone.addEventListener(name, (event) => { event.preventDefault(); dropzone.classList.add("over"); });
}
dropzone.addEventListener("dragleave", () => dropzone.classList.remove("over"));
dropzone.addEventListener("drop", (event) => {
  event.preventDefault();
  dropzone.classList.remove("over");
  sendFile(event.dataTransfer.files[0]);
});
// A file dropped beside the zone must not make the browser leave the page to show it.
window.addEventListener("dragover", (event) => event.preventDefault());
window.addEventListener("drop", (event) => event.preventDefault());

document.addEventListener("paste", (event) => {
  const item = [...event.clipboardData.items].find((entry) => entry.type.startsWith("image/"));
  if (item) {
    event.preventDefault();
    sendFile(item.getAsFile());
  }
});

// ---- The answer ----------------------------------------------------------------------

function percent(value) {
  return `${(100 * value).toFixed(1)}%`;
}

function resetAnswer(message) {
  $("digit").textContent = "";
  $("confidence").textContent = "";
  $("uncertain").hidden = true;
  $("preview").hidden = true;
  $("number-digits").hidden = true;
  drawChart(null);
  setStatus(message, false);
}

function setStatus(message, isError) {
  const status = $("status");
  status.textContent = message;
  status.classList.toggle("error", isError);
}

function showError(message) {
  resetAnswer(message);
  setStatus(message, true);
}

function show(answer, source) {
  if (answer.error) {
    showError(answer.error === "no digit found" ? "No digit found: draw or send one." : answer.error);
    return;
  }
  const digits = answer.digits || [answer];
  $("digit").textContent = answer.number !== undefined ? answer.number : String(answer.digit);
  const lowest = Math.min(...digits.map((digit) => digit.confidence));
  $("confidence").textContent = answer.number !== undefined
    ? `lowest digit confidence ${percent(lowest)}` : `confidence ${percent(answer.confidence)}`;
  $("uncertain").hidden = !answer.uncertain;
  $("preview").src = digits[0].preview;
  $("preview").hidden = false;
  if (source.kind === "upload") $("photo-seen").src = digits[0].preview;
  showNumberDigits(answer.number !== undefined ? digits : []);
  drawChart(answer.number !== undefined ? null : answer.probabilities);
  setStatus(answer.note || (source.kind === "upload" ? "Read from your image." : "Read from your drawing."), false);
}

function showNumberDigits(digits) {
  const box = $("number-digits");
  box.replaceChildren(...digits.map((digit, index) => {
    const figure = document.createElement("figure");
    const image = document.createElement("img");
    image.src = digit.preview;
    image.className = "pixelated";
    image.alt = `digit ${index + 1} as the model saw it`;
    const caption = document.createElement("figcaption");
    caption.textContent = `${digit.digit} ${percent(digit.confidence)}${digit.uncertain ? " uncertain" : ""}`;
    figure.append(image, caption);
    return figure;
  }));
  box.hidden = digits.length === 0;
}

function drawChart(probabilities) {
  const chart = $("chart");
  const values = probabilities || new Array(10).fill(0);
  const top = probabilities ? values.indexOf(Math.max(...values)) : -1;
  chart.replaceChildren(...values.map((value, digit) => {
    const row = document.createElement("li");
    row.className = digit === top ? "top" : "";
    row.setAttribute("aria-label", `${digit}: ${percent(value)}`);
    const label = document.createElement("span");
    label.textContent = String(digit);
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.style.width = `${100 * value}%`;
    const text = document.createElement("span");
    text.className = "value";
    text.textContent = percent(value);
    row.append(label, bar, text);
    return row;
  }));
}

clearPad();
drawChart(null);
markState();
