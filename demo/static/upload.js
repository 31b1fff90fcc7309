// The upload page (demo/templates/upload.html): the browser's upload progress drives
// the <progress> bar; the server's JSON answer (what it stored) is shown as text.
"use strict";

const form = document.getElementById("upload-form");
const bar = document.getElementById("progress");
const percent = document.getElementById("percent");
const stateEl = document.getElementById("upload-state");
const stored = document.getElementById("stored");

function progress(loaded, total) {
  bar.max = total;
  bar.value = loaded;
  percent.textContent = `${Math.floor((100 * loaded) / total)}%`;
}

function fail(text) {
  stateEl.className = "error";
  stateEl.textContent = text;
  form.elements.send.disabled = false;
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  stored.hidden = true;
  stateEl.className = "";
  stateEl.textContent = "uploading…";
  form.elements.send.disabled = true;
  progress(0, 1);
  const xhr = new XMLHttpRequest();
  xhr.open("POST", form.action);
  xhr.upload.addEventListener("progress", (e) => {
    if (e.lengthComputable) progress(e.loaded, e.total);
  });
  xhr.addEventListener("load", () => {
    if (xhr.status !== 200) return fail(`failed: ${xhr.status} ${xhr.responseText}`);
    const [file] = JSON.parse(xhr.responseText).files;
    document.getElementById("stored-filename").textContent = file.filename;
    document.getElementById("stored-size").textContent = `${file.size} bytes`;
    document.getElementById("stored-sha256").textContent = file.sha256;
    stored.hidden = false;
    stateEl.textContent = "stored";
    form.elements.send.disabled = false;
  });
  xhr.addEventListener("error", () => fail("failed: the connection broke"));
  xhr.send(new FormData(form));
});
