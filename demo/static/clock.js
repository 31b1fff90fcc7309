// The clock page (demo/templates/clock.html): every "tick" event of the stream is shown.
"use strict";

const clockEl = document.getElementById("clock");
const ticksEl = document.getElementById("ticks");
const stateEl = document.getElementById("stream-state");
const source = new EventSource(document.querySelector("a[href$='/events']").href);
let ticks = 0;

source.addEventListener("open", () => {
  stateEl.textContent = "open";
});
source.addEventListener("error", () => {
  stateEl.textContent = source.readyState === EventSource.CLOSED ? "closed" : "reconnecting…";
});
source.addEventListener("tick", (event) => {
  ticks += 1;
  clockEl.textContent = event.data;
  ticksEl.textContent = String(ticks);
});
