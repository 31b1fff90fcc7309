// The chat page (demo/templates/chat.html): one WebSocket, every message shown as text.
"use strict";

const list = document.getElementById("messages");
const form = document.getElementById("chat-form");
const stateEl = document.getElementById("chat-state");
const url = new URL(list.dataset.wsPath, location.href);
url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
const ws = new WebSocket(url);

// textContent, never innerHTML: what a peer sends is text, whatever it looks like
function show(from, text) {
  const item = document.createElement("li");
  const who = document.createElement("span");
  who.className = "from";
  who.textContent = from;
  const body = document.createElement("span");
  body.className = "text";
  body.textContent = text;
  item.append(who, body);
  list.append(item);
  list.scrollTop = list.scrollHeight;
}

ws.addEventListener("open", () => {
  stateEl.textContent = "open";
  form.querySelector("button").disabled = false;
});
ws.addEventListener("close", (event) => {
  stateEl.textContent = `closed (${event.code})`;
  form.querySelector("button").disabled = true;
});
ws.addEventListener("message", (event) => {
  const msg = JSON.parse(event.data);
  if (msg.you !== undefined) {
    document.getElementById("me").textContent = msg.you;
    document.getElementById("me-line").hidden = false;
  } else {
    show(msg.from, msg.text);
  }
});
form.addEventListener("submit", (event) => {
  event.preventDefault();
  ws.send(form.elements.text.value);
  form.elements.text.value = "";
});
