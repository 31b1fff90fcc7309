// The live checks of the demo page (demo/templates/index.html): each calls an endpoint
// with fetch() and compares what comes back with what the cheatsheet promises.
"use strict";

// "GET /path → 200 body": one line per request, as shown on the page.
async function show(method, path, body) {
  const r = await fetch(path, { method, body, cache: "no-store" });
  return `${method} ${path} → ${r.status} ${await r.text()}`;
}

// "PUT /path → 405": the status only, for answers whose body does not matter.
async function status(method, path) {
  const r = await fetch(path, { method, cache: "no-store" });
  return `${method} ${path} → ${r.status}`;
}

const loginForm = document.getElementById("login-form");
const scriptUrl = new URL(document.currentScript.src); // /static/checks.js?v=<its hash>

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

const checks = [
  {
    id: "hello",
    expected: "GET /hello → 200 Hello, Anonymous\nGET /hello/Squall → 200 Hello, Squall",
    run: async () => [await show("GET", "/hello"), await show("GET", "/hello/Squall")],
  },
  {
    id: "redirect",
    expected: "GET /redirect → redirected to /destination → 200 You have arrived at /destination",
    run: async () => {
      const r = await fetch("/redirect", { cache: "no-store" });
      const where = r.redirected ? "redirected to " + new URL(r.url).pathname : "not redirected";
      return [`GET /redirect → ${where} → ${r.status} ${await r.text()}`];
    },
  },
  {
    id: "json",
    expected: 'GET /json → 200 application/json {"some":"data"}',
    run: async () => {
      const r = await fetch("/json", { cache: "no-store" });
      const type = (r.headers.get("Content-Type") || "").split(";")[0];
      return [`GET /json → ${r.status} ${type} ${JSON.stringify(await r.json())}`];
    },
  },
  {
    id: "regex",
    expected: "GET /number/42 → 200 Number 42\nGET /number/forty-two → 404",
    run: async () => [await show("GET", "/number/42"), await status("GET", "/number/forty-two")],
  },
  {
    id: "routes",
    expected: "GET /get → 200 handle_get answered GET\nPOST /post → 200 handle_post answered POST\nGET /post → 405",
    run: async () => [
      await show("GET", "/get"),
      await show("POST", "/post"),
      await status("GET", "/post"),
    ],
  },
  {
    id: "view",
    expected: "GET /view → 200 MyView.get\nPOST /view → 200 MyView.post\nPUT /view → 405",
    run: async () => [
      await show("GET", "/view"),
      await show("POST", "/view"),
      await status("PUT", "/view"),
    ],
  },
  {
    id: "templates",
    expected:
      "GET /greet?name=<b>Squall</b> → 200 text/html Hello, <b>Squall</b>! (no <b> element)",
    run: async () => {
      const name = "<b>Squall</b>";
      const r = await fetch("/greet?name=" + encodeURIComponent(name), { cache: "no-store" });
      const type = (r.headers.get("Content-Type") || "").split(";")[0];
      const page = new DOMParser().parseFromString(await r.text(), "text/html");
      const greeting = page.getElementById("greeting");
      const bold = greeting.querySelector("b") ? "a <b> element!" : "no <b> element";
      return [`GET /greet?name=${name} → ${r.status} ${type} ${greeting.textContent} (${bold})`];
    },
  },
  {
    id: "form",
    get expected() {
      return "POST /login → 200 Logged in as " + loginForm.elements.login.value;
    },
    run: async () => [await show("POST", "/login", new URLSearchParams(new FormData(loginForm)))],
  },
  {
    id: "upload",
    expected: "POST /upload hello.txt (11 bytes) → 200 hello.txt 11 bytes, sha256 as computed here",
    run: async () => {
      const data = new TextEncoder().encode("hello world");
      const body = new FormData();
      body.append("file", new Blob([data], { type: "text/plain" }), "hello.txt");
      const r = await fetch("/upload", { method: "POST", body, cache: "no-store" });
      const [file] = (await r.json()).files;
      const digest = hex(await crypto.subtle.digest("SHA-256", data));
      const sha = file.sha256 === digest ? "as computed here" : `${file.sha256} != ${digest}`;
      return [
        `POST /upload hello.txt (11 bytes) → ${r.status} ${file.filename} ${file.size} bytes, sha256 ${sha}`,
      ];
    },
  },
  {
    id: "static",
    expected:
      "this script: GET /static/checks.js?v=<hash> → 200\nagain with If-None-Match → 304",
    run: async () => {
      const path = scriptUrl.pathname + scriptUrl.search;
      const version = /^\?v=[\w%-]{40,}$/.test(scriptUrl.search) ? "?v=<hash>" : scriptUrl.search;
      const r = await fetch(path, { cache: "no-store" });
      const etag = r.headers.get("ETag");
      const again = await fetch(path, { cache: "no-store", headers: { "If-None-Match": etag } });
      return [
        `this script: GET ${scriptUrl.pathname}${version} → ${r.status}`,
        `again with If-None-Match → ${again.status}`,
      ];
    },
  },
  {
    id: "sse",
    expected: "GET /clock/events → 200 text/event-stream, 2 tick events",
    run: async () => {
      const stop = new AbortController();
      const r = await fetch("/clock/events", { cache: "no-store", signal: stop.signal });
      const type = r.headers.get("Content-Type");
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      let ticks = 0;
      while (ticks < 2) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
        ticks = (text.match(/^event: tick\r?$/gm) || []).length;
      }
      stop.abort();
      return [`GET /clock/events → ${r.status} ${type}, ${Math.min(ticks, 2)} tick events`];
    },
  },
  {
    id: "chat",
    expected: 'WebSocket /chat/ws → open, sent "hello <b>x</b>", the broadcast came back',
    run: () =>
      new Promise((resolve) => {
        const url = new URL("/chat/ws", location.href);
        url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
        const ws = new WebSocket(url);
        const text = "hello <b>x</b>";
        const done = (result) => {
          ws.close();
          resolve([`WebSocket /chat/ws → ${result}`]);
        };
        let me;
        ws.onmessage = (event) => {
          const msg = JSON.parse(event.data);
          if (msg.you !== undefined) {
            me = msg.you; // the server's welcome: we are a peer now
            ws.send(text);
          } else if (msg.from === me && msg.text === text) {
            done(`open, sent "${text}", the broadcast came back`);
          }
        };
        ws.onerror = () => done("error");
      }),
  },
];

async function runCheck(check) {
  const section = document.getElementById(check.id);
  let actual;
  try {
    actual = (await check.run()).join("\n");
  } catch (err) {
    actual = "error: " + err;
  }
  const ok = actual === check.expected;
  document.getElementById(check.id + "-result").textContent = actual;
  section.className = ok ? "pass" : "fail";
  section.querySelector(".badge").textContent = ok ? "✓ pass" : "✗ fail";
  section.querySelector(".expected")?.remove();
  if (!ok) {
    const note = document.createElement("div");
    note.className = "expected";
    note.textContent = "expected:\n" + check.expected;
    section.append(note);
  }
  return ok;
}

async function runAll() {
  const statusEl = document.getElementById("status");
  statusEl.className = "";
  statusEl.textContent = "running checks…";
  const results = await Promise.all(checks.map(runCheck));
  const failed = checks.filter((_, i) => !results[i]).map((c) => c.id);
  statusEl.className = failed.length ? "fail" : "pass";
  statusEl.textContent = failed.length
    ? `${failed.length} of ${checks.length} checks failed: ${failed.join(", ")}`
    : "all checks passed";
}

loginForm.addEventListener("submit", (event) => {
  event.preventDefault();
  runAll();
});
document.getElementById("rerun").addEventListener("click", runAll);
runAll();
