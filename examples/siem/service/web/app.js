// The SIEM dashboard of one account: its latest events from /api/events when it opens, then live
// ones over the websocket; its counts by level (from the database) and the instance's stages from
// /api/stats; a chart of events per second drawn on a canvas by this file. It needs a session:
// without one, it asks for the API key and opens one (POST /api/session). No library, no build
// step.
"use strict";

const maxRows = 25;
const seconds = 60;
const perSecond = new Array(seconds).fill(0); // perSecond[seconds-1] is the current second
let currentSecond = Math.floor(Date.now() / 1000);

function tick() {
  const now = Math.floor(Date.now() / 1000);
  while (currentSecond < now) {
    perSecond.shift();
    perSecond.push(0);
    currentSecond++;
  }
}

function cell(text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

// addEvent shows an event at the top of the table, once; live ones count in the chart.
function addEvent(ev, live) {
  const body = document.getElementById("events");
  if ([...body.rows].some((r) => r.dataset.uid === ev.uid)) return;
  if (live) {
    tick();
    perSecond[seconds - 1]++;
  }
  const tr = document.createElement("tr");
  tr.dataset.uid = ev.uid;
  tr.append(
    cell(new Date(ev.received_at).toLocaleTimeString()),
    cell(ev.level, "lvl " + ev.level),
    cell(String(ev.severity)),
    cell(ev.type),
    cell(ev.account + " / " + ev.org),
    cell(ev.source),
    cell(ev.message),
  );
  body.prepend(tr);
  while (body.rows.length > maxRows) body.deleteRow(body.rows.length - 1);
}

// connect opens the websocket; its events wait in pending until the history is shown, so that
// none falls between the two and the table stays in order.
let pending = null;
function connect() {
  const conn = document.getElementById("conn");
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
  ws.onopen = () => { conn.textContent = "live"; conn.className = "tag on"; };
  ws.onmessage = (m) => {
    const ev = JSON.parse(m.data);
    if (pending) pending.push(ev); else addEvent(ev, true);
  };
  ws.onclose = (e) => {
    conn.textContent = "disconnected" + (e.reason ? ": " + e.reason : "") + ", retrying";
    conn.className = "tag off";
    if (!signedOut) setTimeout(connect, 1000);
  };
}

async function loadHistory() {
  pending = [];
  try {
    const res = await fetch("api/events?limit=" + maxRows, { cache: "no-store" });
    if (res.ok) for (const ev of (await res.json()).reverse()) addEvent(ev, false);
  } finally {
    const live = pending;
    pending = null;
    for (const ev of live) addEvent(ev, true);
  }
}

function renderStages(stages) {
  const box = document.getElementById("stages");
  box.replaceChildren(...stages.map((s, i) => {
    const d = document.createElement("div");
    d.className = "stage";
    d.id = "stage-" + s.name;
    const b = document.createElement("b");
    b.textContent = (i + 1) + ". " + s.name;
    const ran = document.createElement("span");
    ran.className = "ran";
    ran.textContent = s.ran;
    const more = document.createElement("small");
    more.textContent = `${s.rejected} rejected · ${s.failed} failed · ${s.avg_us.toFixed(1)} µs avg`;
    d.append(b, ran, more);
    return d;
  }));
}

let signedOut = false;
async function poll() {
  try {
    const res = await fetch("api/stats", { cache: "no-store" });
    if (res.status === 401) {
      signedOut = true;
      showLogin("the session has ended: the API key, please");
      return;
    }
    const st = await res.json();
    document.getElementById("account").textContent = "account: " + st.account;
    document.getElementById("design").textContent =
      "design: " + st.design + " · " + st.clients + (st.clients === 1 ? " client" : " clients");
    for (const [level, n] of Object.entries(st.levels)) {
      document.getElementById("count-" + level).textContent = n;
    }
    renderStages(st.stages);
  } catch (e) {
    // the service is restarting: the next poll tries again
  }
  setTimeout(poll, 500);
}

function draw() {
  tick();
  const c = document.getElementById("chart");
  const w = c.width, h = c.height, pad = 24;
  const g = c.getContext("2d");
  g.clearRect(0, 0, w, h);
  const max = Math.max(5, ...perSecond);
  g.strokeStyle = "#263140";
  g.fillStyle = "#8a98a8";
  g.font = "11px system-ui, sans-serif";
  for (const f of [0, 0.5, 1]) {
    const y = h - pad - f * (h - 2 * pad);
    g.beginPath(); g.moveTo(pad + 20, y); g.lineTo(w - 4, y); g.stroke();
    g.fillText(String(Math.round(f * max)), 2, y + 4);
  }
  const x = (i) => pad + 20 + (i / (seconds - 1)) * (w - pad - 24);
  const y = (v) => h - pad - (v / max) * (h - 2 * pad);
  g.beginPath();
  perSecond.forEach((v, i) => (i ? g.lineTo(x(i), y(v)) : g.moveTo(x(i), y(v))));
  g.strokeStyle = "#5aa9e6";
  g.lineWidth = 2;
  g.stroke();
  g.lineTo(x(seconds - 1), h - pad); g.lineTo(x(0), h - pad); g.closePath();
  g.fillStyle = "rgba(90,169,230,0.15)";
  g.fill();
  g.lineWidth = 1;
  g.fillStyle = "#8a98a8";
  g.fillText("-60 s", pad + 20, h - 6);
  g.fillText("now", w - 30, h - 6);
  requestAnimationFrame(draw);
}

function showLogin(message) {
  document.getElementById("dash").hidden = true;
  document.getElementById("login").hidden = false;
  document.getElementById("login-error").textContent = message || "";
}

function showDashboard() {
  document.getElementById("login").hidden = true;
  document.getElementById("dash").hidden = false;
  signedOut = false;
  connect();
  loadHistory();
  poll();
  if (!drawing) requestAnimationFrame(draw);
  drawing = true;
}
let drawing = false;

document.getElementById("login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const key = document.getElementById("key");
  const res = await fetch("api/session", { method: "POST", body: new URLSearchParams({ key: key.value }) });
  key.value = "";
  if (res.ok) showDashboard(); else showLogin("refused: " + (await res.text()).trim());
});

fetch("api/stats", { cache: "no-store" }).then((res) => {
  if (res.ok) showDashboard(); else showLogin("");
}, () => showLogin("the service does not answer"));
