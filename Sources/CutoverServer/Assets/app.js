// The Cutover console: fills the server-rendered page shells from /api/v1. No build step.
"use strict";

const page = document.getElementById("page");
const content = document.getElementById("content");
const notice = document.getElementById("notice");
const token = () => localStorage.getItem("cutoverToken");

function esc(value) {
  return String(value ?? "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}
function say(text, good) { notice.textContent = text || ""; notice.className = good ? "good" : ""; }
function status(s) { return `<span class="status ${esc(s)}">${esc(s)}</span>`; }
function when(t) { return t ? esc(t.replace("T", " ").replace(/\.\d+Z$/, "")) : "–"; }
function count(n) { return Number(n || 0).toLocaleString("en-US"); }

async function api(path, options = {}) {
  const headers = { "Content-Type": "application/json" };
  if (token()) headers.Authorization = "Bearer " + token();
  const response = await fetch("/api/v1" + path, { ...options, headers });
  if (response.status === 401 && page.dataset.page !== "login") { location.href = "/login"; throw new Error("sign in first"); }
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") || "";
  const body = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) throw new Error(body.error ? body.error.message + (body.error.hint ? " — " + body.error.hint : "") : response.statusText);
  return body;
}
const post = (path, body) => api(path, { method: "POST", body: JSON.stringify(body || {}) });
function formData(form) { return Object.fromEntries(new FormData(form).entries()); }
function onSubmit(id, handler) {
  document.getElementById(id).addEventListener("submit", async (event) => {
    event.preventDefault();
    try { say(""); await handler(formData(event.target), event.target); } catch (error) { say(error.message); }
  });
}

function table(headers, rows) {
  if (!rows.length) return `<p class="muted">Nothing yet.</p>`;
  return `<table><thead><tr>${headers.map((h) => `<th class="${h.startsWith("#") ? "num" : ""}">${esc(h.replace(/^#/, ""))}</th>`).join("")}</tr></thead>
    <tbody>${rows.map((r) => `<tr>${r.map((c, i) => `<td class="${headers[i].startsWith("#") ? "num" : ""}">${c}</td>`).join("")}</tr>`).join("")}</tbody></table>`;
}

// Every how many points an x-axis label fits without overlapping its neighbours (~6.5 px a character at the chart's font size).
function labelStride(points, span) {
  const longest = Math.max(...points.map((p) => String(p.label).length));
  const fit = Math.max(1, Math.floor(span / (longest * 6.5 + 10)));
  return Math.max(1, Math.ceil(points.length / fit));
}

// An SVG line chart of points [{label, value}] with values in 0…max.
function lineChart(points, { max = 100, suffix = "%", height = 160 } = {}) {
  if (!points.length) return `<p class="muted">No data yet.</p>`;
  const width = 640, left = 36, bottom = 22, top = 10;
  const x = (i) => left + (points.length === 1 ? (width - left) / 2 : (i * (width - left - 10)) / (points.length - 1));
  const y = (v) => top + (height - top - bottom) * (1 - v / max);
  const path = points.map((p, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(p.value).toFixed(1)}`).join(" ");
  const grid = [0, max / 2, max].map((v) => `<line x1="${left}" x2="${width}" y1="${y(v)}" y2="${y(v)}" stroke="#e3e7ed"/><text x="2" y="${y(v) + 4}">${v}${suffix}</text>`).join("");
  const dots = points.map((p, i) => `<circle cx="${x(i)}" cy="${y(p.value)}" r="3.5" fill="#2458d3"><title>${esc(p.label)}: ${p.value.toFixed(1)}${suffix}</title></circle>`).join("");
  const stride = labelStride(points, width - left);
  const labels = points.map((p, i) => i % stride === 0 ? `<text x="${x(i)}" y="${height - 4}" text-anchor="${i === 0 && points.length > 1 ? "start" : "middle"}">${esc(p.label)}</text>` : "").join("");
  return `<svg viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="chart">${grid}<path d="${path}" fill="none" stroke="#2458d3" stroke-width="2"/>${dots}${labels}</svg>`;
}

function barChart(points, { height = 160, empty = "No data yet." } = {}) {
  if (!points.length) return `<p class="muted">${esc(empty)}</p>`;
  const width = 640, left = 36, bottom = 22, max = Math.max(1, ...points.map((p) => p.value));
  const step = (width - left) / points.length;
  const stride = labelStride(points, width - left);
  const bars = points.map((p, i) => {
    const h = (height - bottom - 10) * (p.value / max);
    return `<rect x="${left + i * step + 4}" y="${height - bottom - h}" width="${Math.max(2, step - 8)}" height="${h}" fill="#7d9be6"><title>${esc(p.label)}: ${count(p.value)}</title></rect>` +
      (i % stride === 0 ? `<text x="${left + i * step + step / 2}" y="${height - 4}" text-anchor="middle">${esc(p.label)}</text>` : "");
  }).join("");
  return `<svg viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="chart"><text x="2" y="14">${count(max)}</text>${bars}</svg>`;
}

// The pipeline builder: steps from the check catalogue, each with a form made from the check's
// parameters; saved as typed steps (the server writes the YAML).
function pipelineBuilder(box, projectID, catalogue, tables) {
  const steps = [];
  const categories = [...new Set(catalogue.map((c) => c.category))];
  const input = (prm) => {
    const name = `p-${prm.name}`, req = prm.required ? "required" : "";
    const label = `${esc(prm.name)}${prm.required ? " *" : ""} <span class="muted">${esc(prm.description)}</span>`;
    if (prm.kind === "choice") return `<label>${label}<select name="${name}"><option value=""></option>${prm.choices.map((c) => `<option>${esc(c)}</option>`).join("")}</select></label>`;
    if (prm.kind === "sql") return `<label>${label}<textarea name="${name}" ${req}></textarea></label>`;
    const type = ["number", "integer"].includes(prm.kind) ? `type="number" step="${prm.kind === "integer" ? 1 : "any"}"` : "";
    const hint = ["columns", "list"].includes(prm.kind) ? ` placeholder="comma-separated"` : "";
    return `<label>${label}<input name="${name}" ${type} ${req}${hint}></label>`;
  };
  box.innerHTML = `<form id="step" class="builder">
      <div class="inline"><label>Category <select id="category">${categories.map((c) => `<option>${esc(c)}</option>`).join("")}</select></label>
        <label>Check <select id="check" name="check"></select></label>
        <label>Table * <input name="table" list="project-tables" required size="28"></label>
        <label>Side <select name="side"><option value="">default</option><option>source</option><option>target</option><option>both</option></select></label>
        <label>Severity <select name="severity"><option value="">error</option><option>warn</option></select></label></div>
      <p class="muted" id="summary"></p><div id="fields" class="inline"></div><p><button>Add step</button></p></form>
    <datalist id="project-tables">${tables().map((t) => `<option value="${esc(t.source)}">`).join("")}</datalist>
    <p><button type="button" class="secondary" id="suggest">Suggest steps from the source's profile</button></p><div id="profiles"></div>
    <div id="steps"></div>
    <form id="save" class="inline"><label>Pipeline name <input name="name" required value="checks"></label><button>Save pipeline</button>
      <button type="button" class="secondary" id="run-all">Run these steps now</button></form>
    <details><summary>Import YAML</summary><form id="import"><p><label>Pipeline name <input name="name" required></label></p>
      <p><label>YAML <textarea name="content" required placeholder="steps:&#10;  - check: row_count&#10;    table: main.orders"></textarea></label></p><button>Save as pipeline</button></form></details>`;
  const category = box.querySelector("#category"), check = box.querySelector("#check");
  const showChecks = () => {
    check.innerHTML = catalogue.filter((c) => c.category === category.value).map((c) => `<option>${esc(c.name)}</option>`).join("");
    showFields();
  };
  const showFields = () => {
    const chosen = catalogue.find((c) => c.name === check.value);
    box.querySelector("#summary").textContent = chosen ? chosen.summary.replace(/`/g, "") : "";
    box.querySelector("#fields").innerHTML = chosen ? chosen.parameters.map(input).join("") : "";
  };
  category.onchange = showChecks;
  check.onchange = showFields;
  showChecks();
  const render = () => {
    box.querySelector("#steps").innerHTML = steps.length ? table(["#", "check", "table", "fields", ""], steps.map((step, i) => [i + 1, esc(step.check), esc(step.table),
      `<code>${esc(Object.entries(step).filter(([k]) => !["check", "table"].includes(k)).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(", ") : v}`).join("; "))}</code>`,
      `<button type="button" class="secondary" data-one="${i}">Run</button> <button type="button" class="secondary" data-up="${i}" ${i ? "" : "disabled"}>↑</button> <button type="button" class="secondary" data-down="${i}" ${i < steps.length - 1 ? "" : "disabled"}>↓</button> <button type="button" class="secondary" data-drop="${i}">Remove</button>`]))
      : `<p class="muted">No steps yet: pick a check, fill in its fields, Add step.</p>`;
    const move = (i, j) => { [steps[i], steps[j]] = [steps[j], steps[i]]; render(); };
    box.querySelectorAll("[data-up]").forEach((b) => { b.onclick = () => move(+b.dataset.up, +b.dataset.up - 1); });
    box.querySelectorAll("[data-down]").forEach((b) => { b.onclick = () => move(+b.dataset.down, +b.dataset.down + 1); });
    box.querySelectorAll("[data-drop]").forEach((b) => { b.onclick = () => { steps.splice(+b.dataset.drop, 1); render(); }; });
    box.querySelectorAll("[data-one]").forEach((b) => { b.onclick = () => runNow([steps[+b.dataset.one]], `step ${+b.dataset.one + 1}`); });
  };
  // JSON is YAML: unsaved steps run as a pipeline of the project, recorded with the run.
  const runNow = async (chosen, name) => {
    try {
      const run = await post("/validations", { project: projectID, name, pipeline: JSON.stringify({ name, steps: chosen }) });
      location.href = "/validations/" + run.run_id;
    } catch (error) { say(error.message); }
  };
  box.querySelector("#run-all").onclick = () => steps.length ? runNow(steps, box.querySelector("#save [name=name]").value || "checks") : say("add a step first");
  box.querySelector("#suggest").onclick = async () => {
    say("profiling the source…", true);
    try {
      const suggested = await post(`/projects/${encodeURIComponent(projectID)}/suggest`, {});
      steps.push(...suggested.steps);
      render();
      box.querySelector("#profiles").innerHTML = `<details><summary>What the suggestion read: ${suggested.profiles.length} table(s), their roles, keys and relationships</summary>${table(["table", "role", "surrogate key", "business keys", "relationships"],
        suggested.profiles.map((t) => [esc(t.table), esc(t.role), esc(t.surrogate_key || "–"), esc((t.business_keys || []).map((k) => k.join("+")).join(", ") || "–"),
          esc(t.relationships.map((r) => `${r.column} → ${r.parent}.${r.parent_column}${r.declared ? "" : " (inferred)"}`).join("; ") || "–")]))}</details>`;
      say(`${suggested.steps.length} step(s) suggested for ${suggested.tables} table(s)`, true);
    } catch (error) { say(error.message); }
  };
  render();
  onSubmit("step", async (data, form) => {
    const chosen = catalogue.find((c) => c.name === data.check);
    const step = { check: data.check, table: data.table.trim() };
    // A table mapped to a target of another name: the step reads that target.
    const mapped = tables().find((t) => t.source === step.table);
    if (mapped && mapped.target && mapped.target !== step.table) step.target_table = mapped.target;
    if (data.side) step.side = data.side;
    if (data.severity) step.severity = data.severity;
    for (const prm of chosen.parameters) {
      const raw = (data[`p-${prm.name}`] || "").trim();
      if (!raw) continue;
      if (prm.kind === "number") step[prm.name] = Number(raw);
      else if (prm.kind === "integer") step[prm.name] = parseInt(raw, 10);
      else if (["columns", "list"].includes(prm.kind)) step[prm.name] = raw.split(",").map((v) => v.trim()).filter((v) => v);
      else step[prm.name] = raw;
    }
    steps.push(step);
    render();
    for (const field of form.querySelectorAll("#fields input, #fields textarea")) field.value = "";
  });
  onSubmit("import", async (data) => {
    await post(`/projects/${encodeURIComponent(projectID)}/pipelines`, { name: data.name, content: data.content });
    location.reload();
  });
  onSubmit("save", async (data) => {
    if (!steps.length) throw new Error("add a step first");
    await post(`/projects/${encodeURIComponent(projectID)}/pipelines`, { name: data.name, steps });
    location.reload();
  });
}

// Tables as nodes on a circle, join pairs as edges as thick as their executions.
function joinGraph(joins) {
  if (!joins.length) return `<p class="muted">No joins in the workload.</p>`;
  const tableOf = (column) => column.split(".").slice(0, -1).join(".");
  const nodes = [...new Set(joins.flatMap((j) => [tableOf(j.left), tableOf(j.right)]))];
  const width = 640, height = 360, cx = width / 2, cy = height / 2, r = Math.min(cx, cy) - 50;
  const at = (name) => { const i = nodes.indexOf(name), a = (2 * Math.PI * i) / nodes.length - Math.PI / 2; return [cx + r * Math.cos(a), cy + r * Math.sin(a)]; };
  const most = Math.max(...joins.map((j) => j.executions), 1);
  const edges = joins.map((j) => {
    const [x1, y1] = at(tableOf(j.left)), [x2, y2] = at(tableOf(j.right));
    return `<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="#7d9be6" stroke-width="${(1 + 6 * j.executions / most).toFixed(1)}"><title>${esc(j.left)} = ${esc(j.right)}: ${count(j.executions)}</title></line>`;
  }).join("");
  const labels = nodes.map((name) => {
    const [x, y] = at(name);
    return `<circle cx="${x}" cy="${y}" r="6" fill="#2458d3"/><text x="${x}" y="${y + (y < cy ? -10 : 18)}" text-anchor="middle">${esc(name.split(".").pop())}</text>`;
  }).join("");
  return `<svg viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="join graph">${edges}${labels}</svg>`;
}

// Each pipeline's lag as a multiple of its expected frequency: under 1 fresh, past the SLA breached.
function lagChart(pipelines) {
  const watched = pipelines.filter((p) => p.active);
  if (!watched.length) return `<p class="muted">No active pipelines.</p>`;
  const row = 22, left = 190, width = 640, span = width - left - 50, max = 3;
  const height = watched.length * row + 24;
  const x = (ratio) => left + span * Math.min(ratio, max) / max;
  const colour = { fresh: "#1f8a4c", late: "#b7791f", breached: "#c62f2f", never: "#c62f2f" };
  const bars = watched.map((p, i) => {
    const ratio = p.lag_seconds == null ? max : p.lag_seconds / p.expected_every_seconds;
    const y = 6 + i * row;
    return `<text x="${left - 6}" y="${y + 13}" text-anchor="end">${esc(p.name.length > 28 ? "…" + p.name.slice(-27) : p.name)}</text>
      <rect x="${left}" y="${y + 3}" width="${Math.max(2, x(ratio) - left)}" height="${row - 8}" fill="${colour[p.freshness] || "#7d9be6"}"><title>${esc(p.name)}: ${p.lag_seconds == null ? "never loaded" : ratio.toFixed(2) + "× its frequency"}</title></rect>
      <text x="${x(ratio) + 4}" y="${y + 13}">${p.lag_seconds == null ? "never" : ratio.toFixed(1) + "×"}</text>`;
  }).join("");
  const marks = [1, 2].map((v) => `<line x1="${x(v)}" x2="${x(v)}" y1="2" y2="${height - 18}" stroke="#9aa5b4" stroke-dasharray="3 3"/><text x="${x(v)}" y="${height - 4}" text-anchor="middle">${v}× frequency</text>`).join("");
  return `<svg viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="ingestion lag">${marks}${bars}</svg>`;
}

function ingestionView(health) {
  const span = (s) => s == null ? "–" : s < 90 ? `${Math.round(s)}s` : s < 5400 ? `${Math.round(s / 60)}m` : s < 172800 ? `${(s / 3600).toFixed(1)}h` : `${(s / 86400).toFixed(1)}d`;
  const tone = { fresh: "passed", inactive: "", late: "warning", breached: "failed", never: "failed" };
  const unhealthy = health.pipelines.filter((p) => p.problems.length).length;
  return `<p class="muted">${esc(health.source)} · read ${when(health.checked_at)} · ${health.pipelines.filter((p) => p.active).length} active pipeline(s), ${unhealthy} with problems</p>
    <div class="card"><h2>Lag against the expected frequency</h2>${lagChart(health.pipelines)}</div>
    ${table(["freshness", "table", "source", "last loaded", "lag", "every", "#last rows", "#median", "problems"], health.pipelines.map((p) => [
      `<span class="status ${tone[p.freshness] || ""}">${esc(p.freshness)}</span>`, esc(p.name), esc(p.source || "–"), when(p.last_loaded_at), span(p.lag_seconds),
      span(p.expected_every_seconds), p.last_rows == null ? "–" : count(p.last_rows), p.median_rows == null ? "–" : count(Math.round(p.median_rows)),
      esc(p.problems.join("; ")) || `<span class="muted">none</span>`]))}`;
}

// The bell in the header: this user's unread notifications (alerts to the console, finished runs).
async function notifications() {
  const who = document.getElementById("who");
  const unread = await api("/notifications?unread=true");
  who.insertAdjacentHTML("afterbegin", `<button class="secondary bell" id="bell" aria-expanded="false" title="Notifications">Notifications${unread.length ? ` <b>${unread.length}</b>` : ""}</button>
    <div id="inbox" class="inbox" hidden></div>`);
  const inbox = document.getElementById("inbox");
  document.getElementById("bell").onclick = async (event) => {
    inbox.hidden = !inbox.hidden;
    event.currentTarget.setAttribute("aria-expanded", String(!inbox.hidden));
    if (inbox.hidden) return;
    const all = await api("/notifications");
    inbox.innerHTML = all.length ? all.slice(0, 20).map((n) => `<div class="note${n.read_at ? " read" : ""}"><b>${esc(n.title)}</b>
        <span class="muted">${when(n.at)}${n.run_id ? ` · <a href="/migrations/${esc(n.run_id)}">${esc(n.run_id)}</a>` : ""}</span>
        ${n.message ? `<div>${esc(n.message)}</div>` : ""}${n.read_at ? "" : `<button class="secondary" data-read="${esc(n.id)}">Mark read</button>`}</div>`).join("")
      : `<p class="muted">No notifications.</p>`;
    inbox.querySelectorAll("[data-read]").forEach((button) => {
      button.onclick = async () => { await post(`/notifications/${encodeURIComponent(button.dataset.read)}/read`, {}); button.closest(".note").classList.add("read"); button.remove(); };
    });
  };
}

async function download(path, name) {
  const response = await fetch("/api/v1" + path, { headers: { Authorization: "Bearer " + token() } });
  if (!response.ok) return say("download failed: " + response.statusText);
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = name;
  link.click();
}
window.cutoverDownload = download;

// A connection field: the named connections as suggestions (admins may also type a URL). The
// suggestions are one datalist, added to the page once.
function connectionField(name, label, connections, required = true) {
  if (!document.getElementById("connection-names")) {
    document.body.insertAdjacentHTML("beforeend", `<datalist id="connection-names">${connections.map((c) =>
      `<option value="${esc(c.name)}">${esc(c.url)}</option>`).join("")}</datalist>`);
  }
  return `<label>${esc(label)} <input name="${esc(name)}" list="connection-names" ${required ? "required" : ""} size="28" placeholder="a named connection"></label>`;
}
let me = null;

const pages = {
  async login() {
    // Back from the identity provider: the session token (or why not) is in the fragment, which no server sees.
    const back = new URLSearchParams(location.hash.slice(1));
    history.replaceState(null, "", "/login");
    // Only a sign-in this tab started may hand it a token: a link carrying someone else's token
    // (login CSRF) is ignored.
    const asked = sessionStorage.getItem("cutoverSSO");
    sessionStorage.removeItem("cutoverSSO");
    if (back.get("token") && asked) { localStorage.setItem("cutoverToken", back.get("token")); location.href = "/"; return; }
    const how = await api("/auth/providers");
    const buttons = how.providers.map((p) => `<p><a class="button" id="sso" href="${esc(p.start)}">Sign in with ${esc(p.name)}</a></p>`).join("");
    content.innerHTML = (buttons ? `<div class="card login">${buttons}${how.local_accounts ? `<p class="muted">or with a local account:</p>` : ""}</div>` : "") +
      (how.local_accounts ? `<div class="card login"><form id="login"><p><label>User name <input name="username" autocomplete="username" required></label></p>
      <p><label>Password <input name="password" type="password" autocomplete="current-password" required></label></p><button>Sign in</button></form></div>
      <details class="card login"><summary>First time here? Create the admin account</summary>
      <form id="register"><p class="muted">Only works while the store has no users; later an admin adds users on the Users page.</p>
      <p><label>User name <input name="username" required></label></p><p><label>Password (8 or more characters) <input name="password" type="password" required></label></p>
      <button class="secondary">Create admin</button></form></details>` : "");
    if (back.get("error")) say(back.get("error"));
    if (back.get("token")) say("A sign-in token arrived that this tab did not ask for; it was ignored. Sign in with the button.");
    const sso = document.getElementById("sso");
    if (sso) sso.addEventListener("click", () => sessionStorage.setItem("cutoverSSO", "1"));
    if (!how.local_accounts) return;
    const signIn = async (data) => {
      const answer = await post("/auth/login", data);
      localStorage.setItem("cutoverToken", answer.token);
      location.href = "/";
    };
    onSubmit("login", signIn);
    onSubmit("register", async (data) => { await post("/auth/register", data); await signIn(data); });
  },

  async overview() {
    const o = await api("/overview");
    // This calendar month (UTC, as the store keeps times) and the one before, whether or not they have data.
    const now = new Date();
    const thisMonth = now.toISOString().slice(0, 7);
    const lastMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)).toISOString().slice(0, 7);
    const month = o.months.find((m) => m.month === thisMonth) || {};
    const before = o.months.find((m) => m.month === lastMonth) || {};
    const rate = (m) => (m.checks ? (100 * m.passed / m.checks).toFixed(1) + "%" : "–");
    const delta = (a, b) => {
      const d = (a || 0) - (b || 0);
      return d === 0 ? "same as last month" : `${d > 0 ? "+" : "−"}${count(Math.abs(d))} on last month`;
    };
    content.innerHTML = `<div class="kpis">
        <div class="kpi"><b>${count(month.runs || 0)}</b><span>runs this month · ${delta(month.runs, before.runs)}</span></div>
        <div class="kpi"><b>${rate(month)}</b><span>checks passed this month · ${rate(before)} last month</span></div>
        <div class="kpi"><b>${count(month.rows_moved || 0)}</b><span>rows moved this month · ${delta(month.rows_moved, before.rows_moved)}</span></div>
        <div class="kpi"><b>${count(month.failed || 0)}</b><span>failed checks this month · ${delta(month.failed, before.failed)}</span></div></div>
      <p><button id="demo">Run the demo migration</button> <span class="muted">sample tables in SQLite, migrated and validated</span></p>
      <div class="grid2"><div class="card"><h2>Pass rate per month</h2>${lineChart(o.months.filter((m) => m.checks).map((m) => ({ label: m.month, value: 100 * m.passed / m.checks })))}</div>
      <div class="card"><h2>Runs per month</h2>${barChart(o.months.map((m) => ({ label: m.month, value: m.runs })))}</div></div>
      <div class="grid2"><div class="card"><h2>Failed checks by table this month</h2>${barChart((month.failures_by_table || []).slice(0, 8).map((f) => ({ label: f.name, value: f.count })), { empty: "No failed checks this month." })}</div>
      <div class="card"><h2>Log lines this month by level</h2>${barChart((month.log_levels || []).map((l) => ({ label: l.name, value: l.count })))}</div></div>
      <h2>Month by month</h2>${table(["month", "runs", "checks", "pass rate", "failed checks", "change", "materials", "log lines", "reported total"],
        o.months.slice().reverse().map((m) => [esc(m.month), count(m.runs), count(m.checks), rate(m), count(m.failed),
          (m.failed_delta > 0 ? "+" : m.failed_delta < 0 ? "−" : "") + count(Math.abs(m.failed_delta || 0)), count(m.materials || 0), count(m.log_lines || 0),
          m.reported && m.reported.current_total != null ? `<span title="${esc(m.reported.origin)}">${count(m.reported.current_total)}</span>` : "–"]))}
      <h2>Recent runs</h2>${table(["run", "kind", "status", "started", "summary"], o.recent_runs.map((r) => [
        `<a href="/${["migrate", "demo"].includes(r.kind) ? "migrations" : "validations"}/${esc(r.id)}">${esc(r.id)}</a>`, esc(r.kind), status(r.status), when(r.started_at), esc(r.summary || r.error || "")]))}
      <h2>Recent failures</h2>${table(["when", "run", "check", "table", "message"], o.recent_failures.map((f) => [
        when(f.at), `<a href="/validations/${esc(f.validation_run_id)}">${esc(f.validation_run_id)}</a>`, esc(f.check), esc(f.table), esc(f.message)]))}
      <p class="muted">Overview served from: ${esc(o.served_from)}</p>`;
    document.getElementById("demo").onclick = async () => {
      try { const run = await post("/demo"); location.href = "/migrations/" + run.run_id; } catch (error) { say(error.message); }
    };
  },

  async migrations() {
    const [runs, batches, connections] = await Promise.all([api("/migrations"), api("/batches"), api("/connections")]);
    content.innerHTML = `<div class="card"><h2>Start a migration</h2><form id="start" class="inline">
        ${connectionField("source", "Source", connections)} ${connectionField("target", "Target", connections)}
        <label>Mode <select name="mode"><option>copy</option><option>append</option><option>upsert</option></select></label>
        <button>Start</button> <button type="button" class="secondary" id="demo">Run the demo</button></form></div>
      ${table(["run", "kind", "status", "started", "finished", "summary"], runs.map((r) => [
        `<a href="/migrations/${esc(r.id)}">${esc(r.id)}</a>`, esc(r.kind), status(r.status), when(r.started_at), when(r.finished_at), esc(r.summary || r.error || "")]))}
      <h2>Batches</h2><p class="muted">Several migrations and validations run together: <code>POST /api/v1/batches</code>.</p>
      ${table(["batch", "status", "at most in parallel", "by", "started", "items"], batches.map((b) => [esc(b.name), status(b.status), b.max_parallel,
        esc(b.created_by || ""), when(b.created_at), `<a href="#" data-batch="${esc(b.id)}">show</a>`]))}<div id="batch"></div>`;
    for (const link of content.querySelectorAll("[data-batch]")) {
      link.onclick = async (event) => {
        event.preventDefault();
        const d = await api("/batches/" + link.dataset.batch);
        const secs = (x) => x == null ? "–" : x < 90 ? `${x.toFixed(1)} s` : `${(x / 60).toFixed(1)} min`;
        const finished = !["running", "cancelling"].includes(d.batch.status);
        const mine = me.role === "admin" || (me.role === "user" && d.batch.created_by === me.username);
        document.getElementById("batch").innerHTML = `<h2>${esc(d.batch.name)}: ${d.done} of ${d.total} done</h2>
          <p>${status(d.batch.status)} ${d.succeeded} succeeded · ${d.failed} failed · ${d.cancelled} cancelled · ${secs(d.seconds)}
          ${finished && mine ? `${d.failed + d.cancelled ? `<button class="secondary" id="retry-batch">Retry failed and cancelled items</button>` : ""}
            <button class="secondary" id="delete-batch">Delete batch</button>` : ""}</p>` +
          table(["#", "kind", "run", "status", "#duration", "message"], d.items.map((i) => [i.number, esc(i.kind),
            i.run_id ? `<a href="/${i.kind === "migration" ? "migrations" : "validations"}/${esc(i.run_id)}">${esc(i.run_id)}</a>` : "–", status(i.status),
            secs((d.timings.find((t) => t.number === i.number) || {}).seconds), esc(i.message || "")]));
        const act = async (method, path) => { try { await api(path, { method }); location.reload(); } catch (error) { say(error.message); } };
        const retry = document.getElementById("retry-batch"), remove = document.getElementById("delete-batch");
        if (retry) retry.onclick = () => act("POST", `/batches/${encodeURIComponent(d.batch.id)}/retry`);
        if (remove) remove.onclick = () => confirm(`Delete batch ${d.batch.name}? Its runs stay.`) && act("DELETE", `/batches/${encodeURIComponent(d.batch.id)}`);
      };
    }
    onSubmit("start", async (data) => { const run = await post("/migrations", data); location.href = "/migrations/" + run.run_id; });
    document.getElementById("demo").onclick = async () => {
      try { const run = await post("/demo"); location.href = "/migrations/" + run.run_id; } catch (error) { say(error.message); }
    };
  },

  async migration(id) {
    content.innerHTML = `<div id="progress"><p class="muted">Loading…</p></div><h2>Live events</h2><div class="events" id="events"></div><h2>Artifacts</h2><div id="artifacts"></div>`;
    const events = document.getElementById("events");
    let pending = null;
    const refresh = async () => {
      const p = await api("/migrations/" + id);
      const r = p.run;
      const running = ["running", "cancelling"].includes(r.status);
      document.getElementById("progress").innerHTML = `<div class="card"><p>${status(r.status)} <b>${esc(r.kind)}</b> ${esc(r.source || "")} → ${esc(r.target || "")}</p>
        <p class="muted">started ${when(r.started_at)} · finished ${when(r.finished_at)}</p><p>${esc(r.summary || r.error || "")}</p>
        ${running ? `<button class="danger" id="cancel">Cancel</button>` : `<a href="/validations/${esc(r.id)}">Validation results →</a>`}
        ${["interrupted", "failed", "cancelled"].includes(r.status) && r.request ? ` <button id="resume">Resume from the ledger</button>` : ""}</div>
        ${table(["table", "status", "progress", "#chunks", "#rows", "message"], p.tables.map((t) => [esc(t.table), status(t.status || (t.running ? "running" : "pending")),
          `<div class="bar" title="${t.done}/${t.chunks}"><i style="width:${t.chunks ? (100 * t.done / t.chunks) : 0}%"></i></div>`,
          `${t.done}/${t.chunks}`, count(t.rows), esc(t.message || "")]))}`;
      const resume = document.getElementById("resume");
      if (resume) resume.onclick = async () => { try { await post(`/migrations/${id}/resume`); location.reload(); } catch (e) { say(e.message); } };
      const cancel = document.getElementById("cancel");
      if (cancel) cancel.onclick = async () => { try { await post(`/migrations/${id}/cancel`); say("asked the run to stop", true); } catch (e) { say(e.message); } };
      if (!running) {
        const files = await api(`/migrations/${id}/artifacts`);
        document.getElementById("artifacts").innerHTML = table(["file", "#bytes"], files.map((f) =>
          [`<a href="#" onclick="cutoverDownload('/migrations/${esc(id)}/artifacts/${esc(f.name)}', '${esc(f.name)}'); return false">${esc(f.name)}</a>`, count(f.bytes)]));
      }
    };
    await refresh();
    const source = new EventSource(`/api/v1/events?run=${encodeURIComponent(id)}&access_token=${encodeURIComponent(token())}`);
    const onEvent = (event) => {
      const data = JSON.parse(event.data);
      events.insertAdjacentHTML("beforeend", `<div>${when(data.at)} <b>${esc(event.type)}</b> ${esc(data.message)}</div>`);
      events.scrollTop = events.scrollHeight;
      clearTimeout(pending);
      pending = setTimeout(refresh, 300);
      if (["run.completed", "run.failed", "run.interrupted"].includes(event.type)) { source.close(); setTimeout(refresh, 400); }
    };
    for (const name of ["run.started", "table.started", "chunk.done", "table.done", "table.failed", "step.completed", "step.failed", "run.completed", "run.failed", "run.interrupted", "run.resumed"]) {
      source.addEventListener(name, onEvent);
    }
  },

  async validations() {
    const [runs, connections] = await Promise.all([api("/validations"), api("/connections")]);
    content.innerHTML = `<div class="card"><h2>Run a validation</h2><form id="start">
        <div class="inline form">${connectionField("source", "Source", connections)} ${connectionField("target", "Target", connections)}</div>
        <p><label>Pipeline YAML (empty: compare every table row by row) <textarea name="pipeline" placeholder="steps:&#10;  - check: row_count&#10;    table: main.orders"></textarea></label></p>
        <button>Run</button></form></div>
      ${table(["run", "suite", "status", "#passed", "#failed", "#warned", "started"], runs.map((r) => [
        `<a href="/validations/${esc(r.id)}">${esc(r.id)}</a>`, esc(r.suite), status(r.status), r.passed, r.failed, r.warned, when(r.started_at)]))}`;
    onSubmit("start", async (data) => {
      if (!data.pipeline.trim()) delete data.pipeline;
      const run = await post("/validations", data);
      say(`started ${run.run_id}`, true);
      setTimeout(() => { location.href = "/validations/" + run.run_id; }, 1200);
    });
  },

  async validation(id) {
    const v = await api("/validations/" + id);
    content.innerHTML = `<div class="card"><p>${status(v.run.status)} <b>${esc(v.run.suite)}</b> · ${v.run.passed} passed, ${v.run.failed} failed, ${v.run.warned} warned</p>
        <p class="muted">${esc(v.run.source || "")} → ${esc(v.run.target || "")} · ${when(v.run.started_at)}</p>
        <p>Export: ${["json", "md", "html", "junit", "xlsx", "pdf"].map((f) => `<a href="#" onclick="cutoverDownload('/validations/${esc(id)}/export?format=${f}', 'report-${esc(id)}.${f === "junit" ? "xml" : f}'); return false">${f}</a>`).join(" · ")}</p></div>
      ${table(["step", "check", "table", "status", "#match", "message", "details"], v.results.map((r, i) => [r.step ?? i + 1, esc(r.check),
        r.table ? `<a href="#" data-history="${esc(r.table)}">${esc(r.table)}</a>` : "", status(r.status), r.match_percent != null ? r.match_percent.toFixed(2) + "%" : "",
        esc(r.message), r.details ? `<details><summary>show</summary><pre>${esc(JSON.stringify(JSON.parse(r.details), null, 2))}</pre></details>` : ""]))}
      <div id="live"></div><div id="history"></div>`;
    if (["running", "cancelling"].includes(v.run.status)) {
      // Steps as they start and finish; the page reloads with the stored results at the end.
      const live = document.getElementById("live"), steps = {};
      const draw = () => { live.innerHTML = `<h2>Live</h2>` + table(["step", "check", "table", "status", "message"], Object.keys(steps).sort((a, b) => a - b).map((k) => steps[k])); };
      const source = new EventSource(`/api/v1/events?run=${encodeURIComponent(id)}&access_token=${encodeURIComponent(token())}`);
      const onEvent = (event) => {
        const data = JSON.parse(event.data), f = data.fields || {};
        if (event.type === "pipeline.started") live.insertAdjacentHTML("afterbegin", `<p class="muted">${esc(data.message)}</p>`);
        if (event.type.startsWith("step.") && f.step) {
          steps[f.step] = [esc(f.step), esc(f.check), esc(data.table || ""), status(event.type === "step.started" ? "running" : f.status || "failed"), event.type === "step.started" ? "" : esc(data.message)];
          draw();
        }
        if (["run.completed", "run.failed", "run.interrupted"].includes(event.type)) { source.close(); setTimeout(() => location.reload(), 500); }
      };
      for (const name of ["pipeline.started", "step.started", "step.completed", "step.failed", "run.completed", "run.failed", "run.interrupted"]) source.addEventListener(name, onEvent);
    }
    for (const link of content.querySelectorAll("[data-history]")) {
      link.onclick = async (event) => {
        event.preventDefault();
        const h = await api("/validations/history?table=" + encodeURIComponent(link.dataset.history));
        const points = h.results.slice().reverse().map((r) => ({ label: r.at.slice(5, 16).replace("T", " "), value: r.status === "passed" ? 100 : r.status === "warning" ? 50 : 0 }));
        document.getElementById("history").innerHTML = `<h2>History of ${esc(h.table)}</h2><div class="card">${lineChart(points)}</div>` +
          table(["when", "run", "check", "status", "message"], h.results.map((r) => [when(r.at), `<a href="/validations/${esc(r.validation_run_id)}">${esc(r.validation_run_id)}</a>`, esc(r.check), status(r.status), esc(r.message)]));
      };
    }
  },

  async rules() {
    const [rules, connections] = await Promise.all([api("/rules"), api("/connections")]);
    content.innerHTML = `<div class="grid2"><div class="card"><h2>Add a rule</h2><form id="add">
        <p><label>Name <input name="name" required></label></p><p><label>Severity <select name="severity"><option>error</option><option>warn</option></select></label></p>
        <p><label>Runs on <select name="side"><option>target</option><option>source</option><option>both</option></select></label></p>
        <p><label>SQL that must return no rows <textarea name="sql" required placeholder="SELECT * FROM {{schema}}.invoices WHERE total < 0"></textarea></label></p><button>Add</button></form></div>
      <div class="card"><h2>Run the rulebook</h2><form id="run"><p>${connectionField("source", "Source", connections, false)}</p><p>${connectionField("target", "Target", connections, false)}</p>
        <p><label>Environment <input name="environment" placeholder="PROD"></label></p><button>Run</button></form><div id="results"></div></div></div>
      ${table(["name", "version", "category", "severity", "side", "sql", ""], rules.map((r) => [esc(r.name), esc(r.version), esc(r.category || ""),
        esc(r.severity), esc(r.side), `<code>${esc(r.sql)}</code>`,
        `<button class="secondary" data-history="${esc(r.name)}">History</button> <button class="secondary" data-delete="${esc(r.content_hash)}">Delete</button>`]))}
      <div id="history"></div>`;
    for (const button of content.querySelectorAll("[data-history]")) {
      button.onclick = async () => {
        try {
          const versions = await api("/rules/history?name=" + encodeURIComponent(button.dataset.history));
          const box = document.getElementById("history");
          box.innerHTML = `<div class="card"><h2>History of ${esc(button.dataset.history)}</h2>` + table(["version", "changed", "by", "severity", "side", "sql", "SHA-256"],
            versions.map((v) => [esc(v.version), when(v.updated_at || v.created_at), esc(v.updated_by || v.created_by || ""), esc(v.severity), esc(v.side),
              `<code>${esc(v.sql)}</code>`, `<code title="${esc(v.content_hash)}">${esc(v.content_hash.slice(0, 12))}</code>`])) + `</div>`;
          box.scrollIntoView();
        } catch (e) { say(e.message); }
      };
    }
    onSubmit("add", async (data) => { await post("/rules", data); location.reload(); });
    onSubmit("run", async (data) => {
      for (const key of Object.keys(data)) if (!data[key]) delete data[key];
      const outcome = await post("/rules/run", data);
      document.getElementById("results").innerHTML = table(["rule", "side", "status", "#rows", "message"], outcome.results.map((r) => [esc(r.rule), esc(r.side), status(r.status), count(r.offending_rows), esc(r.message)]));
    });
    for (const button of content.querySelectorAll("[data-delete]")) {
      button.onclick = async () => { try { await api("/rules/" + button.dataset.delete, { method: "DELETE" }); location.reload(); } catch (e) { say(e.message); } };
    }
  },

  async sql() {
    const [connections, queries, envs] = await Promise.all([api("/connections"), api("/queries"), api("/environments")]);
    content.innerHTML = `<div class="card"><form id="run"><div class="inline form">
        ${connectionField("connection", "Connection", connections)}
        <label>Environment <select name="environment"><option value="">(none)</option>${envs.environments.map((e) =>
          `<option ${e.name === envs.default ? "selected" : ""} value="${esc(e.name)}">${esc(e.name)} — ${esc([e.database, e.schema].filter(Boolean).join("."))}</option>`).join("")}</select></label>
        <label>Query library <select id="library"><option value="">(write your own)</option>${queries.map((q) => `<option value="${esc(q.name)}" title="${esc(q.description)}">${esc(q.name)}</option>`).join("")}</select></label></div>
        <p><label>Query ({{database}} and {{schema}} come from the environment) <textarea name="sql" required>SELECT 1 AS answer</textarea></label></p>
        <button>Run</button> ${me && me.role === "admin" ? `<label class="check"><input type="checkbox" name="write" value="true"> write: the statement may change data and is committed (admins)</label>` : ""}
        <span class="muted">One statement, run read-only and rolled back; at most 1,000 rows are shown. The connection's database role is the real limit.</span></form></div><div id="answer"></div>`;
    const library = document.getElementById("library");
    library.onchange = () => { const q = queries.find((q) => q.name === library.value); if (q) content.querySelector("textarea").value = q.sql; };
    onSubmit("run", async (data) => {
      if (!data.environment) delete data.environment;
      data.write = data.write === "true";
      const a = await post("/sql", data);
      document.getElementById("answer").innerHTML = a.warnings.map((w) => `<p class="warning">⚠ ${esc(w)}</p>`).join("") +
        `<p class="muted">${a.rows.length} row(s)${a.truncated ? " (more not shown)" : ""}${a.affected_rows != null ? `, ${count(a.affected_rows)} changed` : ""} in ${a.milliseconds} ms</p>` +
        table(a.columns, a.rows.map((r) => r.map((v) => v === null ? `<span class="muted">NULL</span>` : esc(v))));
    });
  },

  async copilot() {
    const [envs, intents] = await Promise.all([api("/environments"), api("/copilot/intents")]);
    const examples = ["which checks failed last week?", "slowest 5 migrations this month", "pass rate per table", "which pipelines are late?",
      "errors in the logs today", "what columns does orders have"];
    content.innerHTML = `<div class="card"><form id="ask"><div class="inline form">
        <label class="grow">Question <input name="question" required maxlength="500" size="60" placeholder="${esc(examples[0])}"></label>
        <label>Environment <select name="environment"><option value="">(default)</option>${envs.environments.map((e) =>
          `<option value="${esc(e.name)}">${esc(e.name)}</option>`).join("")}</select></label><button>Ask</button></div>
        <p class="muted">Try: ${examples.map((e) => `<a href="#" data-example="${esc(e)}">${esc(e)}</a>`).join(" · ")}. Answers come from the query library
        and ${intents.length} questions over the store; the SQL is shown and runs read-only with your rights.</p></form></div>
      <div id="answer"></div>
      <details class="card"><summary>What the copilot can answer (${intents.length})</summary>${table(["question", "about", "values", "role"],
        intents.map((i) => [esc(i.title), esc(i.description), esc(i.slots.join(", ")), esc(i.role)]))}</details>`;
    const form = document.getElementById("ask");
    for (const link of content.querySelectorAll("[data-example]")) {
      link.onclick = (event) => { event.preventDefault(); form.question.value = link.dataset.example; form.requestSubmit(); };
    }
    onSubmit("ask", async (data) => {
      if (!data.environment) delete data.environment;
      const a = await post("/copilot/ask", data);
      const box = document.getElementById("answer");
      const candidates = a.candidates.length ? `<p class="muted">Closest: ${a.candidates.map((c) =>
        `<a href="#" data-ask="${esc(c.title)}">${esc(c.title)}</a> (${c.score}; ${esc(c.matched.join(", "))})`).join(" · ")}</p>` : "";
      if (!a.answered) {
        box.innerHTML = `<div class="card"><h2>I don't know</h2><p>${esc(a.message)}</p>${candidates}</div>`;
      } else {
        const parameters = Object.entries(a.parameters).map(([k, v]) => `<code>${esc(k)}=${esc(v)}</code>`).join(" ");
        const bound = a.sql_parameters && a.sql_parameters.length ? `<p class="muted">bound: ${a.sql_parameters.map((v) => v === null ? "NULL" : `<code>${esc(v)}</code>`).join(", ")}</p>` : "";
        box.innerHTML = `<div class="card"><h2>${esc(a.title)} <span class="muted">confidence ${a.confidence}</span></h2>
          <p class="muted">${esc(a.description)}</p><ul>${a.why.map((w) => `<li>${esc(w)}</li>`).join("")}</ul>
          ${parameters ? `<p>Parameters: ${parameters}</p>` : ""}${a.source ? `<p class="muted">From ${esc(a.source)}</p>` : ""}
          ${a.sql ? `<pre><code>${esc(a.sql)}</code></pre>${bound}` : ""}
          ${a.not_run ? `<p class="warning">Not run: ${esc(a.not_run)}</p>` : `<p class="muted">${a.rows.length} row(s)${a.truncated ? " (more not shown)" : ""}</p>` +
            table(a.columns, a.rows.map((r) => r.map((v) => v === null ? `<span class="muted">NULL</span>` : esc(v))))}
          ${candidates}</div>`;
      }
      for (const link of box.querySelectorAll("[data-ask]")) {
        link.onclick = (event) => { event.preventDefault(); form.question.value = link.dataset.ask; form.requestSubmit(); };
      }
    });
  },

  async connections() {
    const connections = await api("/connections");
    content.innerHTML = `<p class="muted">Connections are named in cutover.yml on the server; passwords are never shown.</p>` +
      table(["name", "url", "status", ""], connections.map((c) => [esc(c.name), `<code>${esc(c.url)}</code>`, `<span id="s-${esc(c.name)}"></span>`,
        `<button class="secondary" data-test="${esc(c.name)}">Test</button>`]));
    for (const button of content.querySelectorAll("[data-test]")) {
      button.onclick = async () => {
        const cell = document.getElementById("s-" + button.dataset.test);
        cell.textContent = "…";
        try { await post("/connections/test", { connection: button.dataset.test }); cell.innerHTML = status("ok"); } catch (e) { cell.innerHTML = status("failed") + " " + esc(e.message); }
      };
    }
  },

  async projects() {
    const [projects, connections] = await Promise.all([api("/projects"), api("/connections")]);
    content.innerHTML = `${me.role === "viewer" ? "" : `<div class="card"><h2>New project</h2><form id="create">
        <div class="inline form"><label>Name <input name="name" required size="24"></label>${connectionField("source", "Source", connections)} ${connectionField("target", "Target", connections)}</div>
        <p><label>Description <input name="description" size="60"></label></p><button>Create</button></form></div>`}
      ${table(["project", "source → target", "owner", "created"], projects.map((p) => [`<a href="/projects/${esc(p.id)}">${esc(p.name)}</a>`,
        `${esc(p.source || "–")} → ${esc(p.target || "–")}`, esc(p.created_by || "–"), when(p.created_at)]))}`;
    if (me.role !== "viewer") {
      onSubmit("create", async (data) => {
        if (!data.description) delete data.description;
        const project = await post("/projects", data);
        location.href = "/projects/" + project.id;
      });
    }
  },

  async project(id) {
    const [detail, catalogue, environments] = await Promise.all([api("/projects/" + encodeURIComponent(id)), api("/checks"), api("/environments")]);
    const p = detail.project;
    const projectEnvironment = p.settings ? JSON.parse(p.settings).environment || "" : "";
    const canChange = me.role === "admin" || (me.role === "user" && p.created_by === me.username);
    document.querySelector("h1").textContent = "Project " + p.name;
    document.title = `Project ${p.name} · Cutover`;
    content.innerHTML = `<div class="card"><p><b>${esc(p.name)}</b> ${p.description ? "· " + esc(p.description) : ""}</p>
        <p class="muted">${esc(p.source || "–")} → ${esc(p.target || "–")}${projectEnvironment ? ` · environment ${esc(projectEnvironment)}` : ""} · owner ${esc(p.created_by || "–")} · created ${when(p.created_at)}</p>
        ${canChange ? `<button id="setup">Auto-setup: propose the mappings</button>
        <details><summary>Edit the project</summary><form id="edit"><div class="inline form"><label>Name <input name="name" required value="${esc(p.name)}"></label>
          <label>Source <input name="source" list="connection-names" value="${esc(p.source || "")}"></label><label>Target <input name="target" list="connection-names" value="${esc(p.target || "")}"></label></div>
          <p><label>Description <input name="description" size="60" value="${esc(p.description || "")}"></label></p>
          <p><label>Environment (fills {{database}} and {{schema}} in step SQL) <select name="environment"><option value="">none</option>${environments.environments.map((e) =>
            `<option${e.name === projectEnvironment ? " selected" : ""}>${esc(e.name)}</option>`).join("")}</select></label></p><button>Save</button></form></details>` : ""}</div>
      <h2>Sign-off</h2><div class="card" id="signoff"></div>
      <h2>Mappings</h2><div id="mappings"></div>
      <h2>Pipelines</h2><div id="pipelines"></div>
      <h2>Runs and pass rate</h2><div id="runs"></div>
      ${canChange ? `<h2>Pipeline builder</h2><div class="card" id="builder"></div>` : ""}`;
    const settings = p.settings ? JSON.parse(p.settings) : {};
    let mappings = settings.mappings || null;
    const showMappings = () => {
      const box = document.getElementById("mappings");
      if (!mappings) { box.innerHTML = `<p class="muted">No mappings yet${canChange ? ": run the auto-setup" : ""}.</p>`; return; }
      const pct = (c) => c == null ? "–" : `${Math.round(100 * c)}%`;
      const reviewBelow = mappings.review_below ?? 0.9;
      const targets = [...new Set([...mappings.tables.map((t) => t.target).filter((t) => t), ...(mappings.unmatched_targets || [])])];
      const decisionOf = (t) => t.decision || (t.target && t.confidence >= reviewBelow ? "accepted" : t.target ? "proposed" : "excluded");
      const dis = canChange ? "" : "disabled";
      box.innerHTML = `<datalist id="target-tables">${targets.map((t) => `<option value="${esc(t)}">`).join("")}</datalist>`
        + table(["source table", "target table", "decision", "#confidence", "reason", "columns"], mappings.tables.map((t, i) => [esc(t.source),
          `<input data-t="${i}" data-f="target" value="${esc(t.target || "")}" list="target-tables" size="18" ${dis}>`,
          `<select data-t="${i}" data-f="decision" ${dis}>${["accepted", "proposed", "excluded"].map((d) => `<option${d === decisionOf(t) ? " selected" : ""}>${d}</option>`).join("")}</select>`,
          `${t.confidence != null && t.confidence < reviewBelow && !t.decision ? `<span class="status warning">review</span> ` : ""}${pct(t.confidence)}`, esc(t.reason || ""),
          `<details><summary>${(t.columns || []).length} column(s)${(t.columns || []).some((c) => c.type_fits === false) ? ` · <span class="status failed">type</span>` : ""}</summary>${table(["source", "target", "types", "exclude", "transformation", "tolerance"],
            (t.columns || []).map((c, j) => [esc(c.source), `<input data-t="${i}" data-c="${j}" data-f="target" value="${esc(c.target || "")}" size="12" ${dis}>`,
              `${esc(c.source_type || "")} → ${esc(c.target_type || "–")} ${c.type_fits === false ? status("failed") : c.type_fits ? status("ok") : ""}`,
              `<input type="checkbox" data-t="${i}" data-c="${j}" data-f="excluded" ${c.excluded ? "checked" : ""} ${dis}>`,
              `<input data-t="${i}" data-c="${j}" data-f="transformation" value="${esc(c.transformation || "")}" placeholder="e.g. UPPER(value)" size="14" ${dis}>`,
              `<input data-t="${i}" data-c="${j}" data-f="tolerance" value="${esc(c.tolerance || "")}" placeholder="0.01, ms, case" size="9" ${dis}>`]))}</details>`]))
        + (mappings.unmatched_targets && mappings.unmatched_targets.length ? `<p class="muted">Target tables no source table matched: ${mappings.unmatched_targets.map(esc).join(", ")}</p>` : "")
        + (canChange ? `<p><button id="save-mappings">Save mappings</button></p>` : "")
        + ((settings.mapping_history || []).length ? `<details><summary>History (${settings.mapping_history.length} version(s))</summary>${table(["version", "saved", "by", "#accepted", "#excluded"],
          settings.mapping_history.map((v) => [v.version, when(v.at), esc(v.by), v.accepted, v.excluded]))}</details>` : "");
      if (!canChange) return;
      document.getElementById("save-mappings").onclick = async () => {
        const tables = mappings.tables.map((t, i) => {
          const get = (f, j) => box.querySelector(`[data-t="${i}"]${j == null ? ":not([data-c])" : `[data-c="${j}"]`}[data-f="${f}"]`);
          return { source: t.source, target: get("target").value.trim() || null, decision: get("decision").value, confidence: t.confidence, reason: t.reason,
            columns: (t.columns || []).map((c, j) => ({ source: c.source, target: get("target", j).value.trim() || null, excluded: get("excluded", j).checked || null,
              transformation: get("transformation", j).value.trim() || null, tolerance: get("tolerance", j).value.trim() || null,
              confidence: c.confidence, reason: c.reason, source_type: c.source_type, target_type: c.target_type, type_fits: c.type_fits })) };
        });
        try {
          const version = await api(`/projects/${encodeURIComponent(id)}/mappings`, { method: "PUT", body: JSON.stringify({ tables }) });
          say(`mappings saved as version ${version.version}`, true);
          const fresh = await api("/projects/" + encodeURIComponent(id));
          Object.assign(settings, JSON.parse(fresh.project.settings));
          mappings = settings.mappings;
          showMappings();
        } catch (error) { say(error.message); }
      };
    };
    showMappings();
    const mappedTables = () => (mappings ? mappings.tables.filter((t) => t.decision !== "excluded").map((t) => ({ source: t.source, target: t.target })) : []);
    if (canChange) {
      const connections = await api("/connections");
      document.body.insertAdjacentHTML("beforeend", `<datalist id="connection-names">${connections.map((c) => `<option value="${esc(c.name)}">${esc(c.url)}</option>`).join("")}</datalist>`);
      onSubmit("edit", async (data) => {
        // Only what changed: a connection kept as a masked URL cannot be sent back.
        const changed = Object.fromEntries(Object.entries(data).filter(([key, value]) => value !== (key === "environment" ? projectEnvironment : p[key] || "")));
        await api("/projects/" + encodeURIComponent(id), { method: "PATCH", body: JSON.stringify(changed) });
        location.reload();
      });
      document.getElementById("setup").onclick = async () => {
        say("reading both catalogs…", true);
        try { mappings = await post(`/projects/${encodeURIComponent(id)}/auto-setup`, {}); showMappings(); say("mappings proposed and saved", true); } catch (error) { say(error.message); }
      };
    }
    const [runs, signOff, batches] = await Promise.all([api(`/projects/${encodeURIComponent(id)}/runs?limit=50`), api(`/projects/${encodeURIComponent(id)}/signoff`),
      api(`/batches?project=${encodeURIComponent(id)}`)]);
    document.getElementById("signoff").innerHTML = `<p><span class="status ${signOff.decision === "go" ? "passed" : "failed"}">${signOff.decision === "go" ? "GO" : "NO-GO"}</span>
        ${signOff.decision === "go" ? "every pipeline's last run passed and every mapping was reviewed" : ""}</p>
      ${signOff.reasons.length ? `<ul>${signOff.reasons.map((r) => `<li>${esc(r)}</li>`).join("")}</ul>` : ""}
      <p>Sign-off summary: <a href="#" data-signoff="html">HTML</a> · <a href="#" data-signoff="pdf">PDF</a></p>`;
    document.querySelectorAll("[data-signoff]").forEach((link) => {
      link.onclick = (event) => { event.preventDefault(); download(`/projects/${encodeURIComponent(id)}/signoff?format=${link.dataset.signoff}`, `signoff.${link.dataset.signoff}`); };
    });
    document.getElementById("runs").innerHTML = (runs.length ? `<div class="card">${lineChart(runs.slice().reverse().map((r) => {
        const total = r.passed + r.failed + r.warned;
        return { label: r.started_at.slice(5, 16).replace("T", " "), value: total ? 100 * r.passed / total : 0 };
      }))}</div>` : "")
      + table(["run", "pipeline", "version", "status", "#passed", "#failed", "started"], runs.map((r) => [`<a href="/validations/${esc(r.id)}">${esc(r.id)}</a>`,
        esc(r.pipeline_name || r.suite), `<code>${esc((r.pipeline_hash || "").slice(0, 10))}</code>`, status(r.status), r.passed, r.failed, when(r.started_at)]))
      + (batches.length ? `<h2>Batches</h2>` + table(["batch", "status", "by", "started"], batches.map((b) => [esc(b.name), status(b.status), esc(b.created_by || ""), when(b.created_at)])) : "");
    const pipelines = document.getElementById("pipelines");
    pipelines.innerHTML = detail.pipelines.length ? table(["pipeline", "updated", "steps", ""], detail.pipelines.map((x) => [esc(x.name), when(x.updated_at),
      `<details><summary>YAML</summary><pre>${esc(x.content)}</pre></details> <a href="#" data-yaml="${esc(x.name)}">download</a>`,
      me.role === "viewer" ? "" : `<button class="secondary" data-run="${esc(x.name)}">Run</button>`]))
      : `<p class="muted">No pipelines yet.</p>`;
    pipelines.querySelectorAll("[data-yaml]").forEach((link) => {
      link.onclick = (event) => {
        event.preventDefault();
        const pipeline = detail.pipelines.find((x) => x.name === link.dataset.yaml);
        const a = document.createElement("a");
        a.href = URL.createObjectURL(new Blob([pipeline.content], { type: "application/yaml" }));
        a.download = pipeline.name + ".yml";
        a.click();
      };
    });
    pipelines.querySelectorAll("[data-run]").forEach((button) => {
      button.onclick = async () => {
        const pipeline = detail.pipelines.find((x) => x.name === button.dataset.run);
        try {
          const run = await post("/validations", { project: p.id, pipeline_name: pipeline.name });
          location.href = "/validations/" + run.run_id;
        } catch (error) { say(error.message); }
      };
    });
    if (canChange) pipelineBuilder(document.getElementById("builder"), id, catalogue, mappedTables);
  },

  async workload() {
    let w;
    try { w = await api("/workload"); } catch (error) {
      content.innerHTML = `<p class="muted">${esc(error.message)}. Import one with <code>cutover workload import querystore.json</code> (or <code>--from postgres://…</code>).</p>`;
      return;
    }
    const pct = (x) => `${x.toFixed(1)}%`;
    content.innerHTML = `<div class="kpis"><div class="kpi"><b>${count(w.statements)}</b><span>statements (${esc(w.formats.join(", "))})</span></div>
        <div class="kpi"><b>${count(w.executions)}</b><span>executions</span></div><div class="kpi"><b>${count(w.tables.length)}</b><span>tables used</span></div>
        <div class="kpi"><b>${count(w.joins.length)}</b><span>join pairs</span></div></div>
      <div class="grid2"><div class="card"><h2>Tables by time</h2>${barChart(w.tables.slice(0, 10).map((t) => ({ label: t.table.split(".").pop(), value: Math.round(t.milliseconds) })), { empty: "No table." })}</div>
      <div class="card"><h2>Join graph</h2>${joinGraph(w.joins.slice(0, 24))}</div></div>
      <h2>Tables</h2>${table(["table", "#time share", "#executions", "#statements"], w.tables.slice(0, 50).map((t) => [esc(t.table), pct(t.time_share), count(t.executions), count(t.statements)]))}
      <h2>Join pairs</h2>${table(["left", "right", "#executions"], w.joins.slice(0, 50).map((j) => [esc(j.left), esc(j.right), count(j.executions)]))}
      <h2>Columns</h2>${table(["column", "#filtered", "#grouped", "#joined", "#aggregated"], w.columns.slice(0, 50).map((c) => [esc(c.column), count(c.filtered), count(c.grouped), count(c.joined), count(c.aggregated)]))}
      ${w.temp_tables.length ? `<p class="muted">Temp tables (not migrated): ${w.temp_tables.map(esc).join(", ")}</p>` : ""}
      <p class="muted">Unused tables are listed by <code>cutover analyze --source … --workload FILE</code>; <code>pipeline suggest --workload</code> adds checks where the workload looks.</p>`;
  },

  async monitoring() {
    const render = async () => {
      const m = await api("/monitoring");
      let ingestion = `<p class="muted">No ingestion metadata is configured: add <code>ingestion: {connection, pipelines, history}</code> to the server's cutover.yml.</p>`;
      if (m.ingestion_configured) {
        try { ingestion = ingestionView(await api("/ingestion/health")); } catch (error) { ingestion = `<p class="warning">The ingestion metadata could not be read: ${esc(error.message)}</p>`; }
      }
      content.innerHTML = `<div class="kpis">
          <div class="kpi"><b>${m.active_runs.length}</b><span>runs in flight</span></div>
          <div class="kpi"><b>${count(m.alerts_firing)}</b><span><a href="/alerts">alerts firing</a> · ${count(m.alerts_acknowledged)} acknowledged</span></div>
          <div class="kpi"><b>${m.throughput.length ? count(Math.round(m.throughput[m.throughput.length - 1].rows_per_second)) : "–"}</b><span>rows/s, last migration</span></div></div>
        <h2>Runs in flight</h2>${table(["run", "kind", "started", "chunks", "", "#rows moved"], m.active_runs.map((a) => [
          `<a href="/migrations/${esc(a.run.id)}">${esc(a.run.id)}</a>`, esc(a.run.kind), when(a.run.started_at), `${a.chunks_done} / ${a.chunks_total}`,
          `<div class="bar"><i style="width:${a.chunks_total ? (100 * a.chunks_done / a.chunks_total).toFixed(1) : 0}%"></i></div>`, count(a.rows_moved)]))}
        <div class="card"><h2>Throughput of the last migrations (rows/s)</h2>${barChart(m.throughput.map((t) => ({ label: t.started_at.slice(5, 16).replace("T", " "), value: Math.round(t.rows_per_second) })), { empty: "No completed migration yet." })}</div>
        <h2>Ingestion</h2>${ingestion}`;
    };
    await render();
    const timer = setInterval(() => render().catch((error) => say(error.message)), 15000);
    window.addEventListener("pagehide", () => clearInterval(timer));
  },

  async alerts() {
    const [alerts, rules] = await Promise.all([api("/alerts?limit=200"), api("/alert-rules")]);
    const open = alerts.filter((a) => a.state !== "resolved");
    const canAct = me.role !== "viewer";
    const actions = (a) => !canAct ? "" : (a.state === "firing" ? `<button class="secondary" data-act="acknowledge" data-id="${esc(a.id)}">Acknowledge</button> ` : "")
      + `<button class="secondary" data-act="resolve" data-id="${esc(a.id)}">Resolve</button>`;
    const alertRows = (list, withActions) => list.map((a) => [`<span class="status ${a.severity === "critical" ? "failed" : a.severity === "warning" ? "warning" : "passed"}">${esc(a.severity)}</span>`,
      esc(a.title) + (a.occurrences > 1 ? ` <span class="muted">×${count(a.occurrences)}</span>` : "") + (a.escalation_level > 0 ? ` <span class="muted">escalated</span>` : ""),
      status(a.state), when(a.first_at), esc(a.acknowledged_by || a.resolved_by || "–"), withActions ? actions(a) : `<code>${esc(a.id)}</code>`]);
    content.innerHTML = `<h2>Open (${open.length})</h2>
      ${open.length ? table(["severity", "alert", "state", "since", "by", ""], alertRows(open, true)) : `<p class="muted">Nothing is firing.</p>`}
      <h2>Rules</h2>
      ${rules.length ? table(["rule", "when", "scope", "severity", "channels", "escalation", "silenced until"], rules.map((r) => [esc(r.name), esc(r.condition) + (r.threshold != null ? ` ${esc(r.threshold)}` : ""),
        esc(r.scope || "all"), esc(r.severity), esc(r.channels.join(", ")), r.escalate_after_seconds != null ? `after ${esc(r.escalate_after_seconds)} s → ${esc(r.escalate_to.join(", "))}` : "–", when(r.silenced_until)]))
        : `<p class="muted">No rules yet: <code>cutover alerts add NAME --when run_failed --channel console</code> or POST /api/v1/alert-rules (admins).</p>`}
      <h2>History</h2>${table(["severity", "alert", "state", "since", "by", "id"], alertRows(alerts.filter((a) => a.state === "resolved").slice(0, 50), false))}`;
    content.querySelectorAll("button[data-act]").forEach((button) => {
      button.onclick = async () => { await post(`/alerts/${encodeURIComponent(button.dataset.id)}/${button.dataset.act}`, {}); location.reload(); };
    });
  },

  async audit() {
    const params = new URLSearchParams(location.search);
    const [entries, stats] = await Promise.all([api("/audit?" + params.toString()), api("/audit/stats")]);
    content.innerHTML = `<form class="inline card" method="get"><label>Since <input name="since" type="date" value="${esc(params.get("since") || "")}"></label>
        <label>User <input name="user" value="${esc(params.get("user") || "")}"></label><label>Action <input name="action" value="${esc(params.get("action") || "")}"></label><button>Filter</button>
        <button type="button" class="secondary" data-export="csv">Export CSV</button><button type="button" class="secondary" data-export="json">Export JSON</button></form>
      ${table(["when", "user", "action", "resource", "outcome"], entries.map((e) => [when(e.at), esc(e.username || "–"), esc(e.action), `<code>${esc(e.resource || "")}</code>`, esc(e.outcome)]))}
      <h2>Per action</h2>${table(["action", "outcome", "#count"], stats.map((s) => [esc(s.action), esc(s.outcome), s.count]))}`;
    content.querySelectorAll("[data-export]").forEach((button) => {
      const filters = new URLSearchParams([...params].filter(([key, value]) => ["since", "user", "action"].includes(key) && value));
      filters.set("format", button.dataset.export);
      button.onclick = () => download("/audit/export?" + filters.toString(), "cutover-audit." + button.dataset.export);
    });
  },

  async users() {
    const users = await api("/users");
    const roleSelect = (u) => `<select data-role="${esc(u.username)}" aria-label="role of ${esc(u.username)}">${["viewer", "user", "admin"].map((r) =>
      `<option${r === u.role ? " selected" : ""}>${r}</option>`).join("")}</select>`;
    const actions = (u) => u.username === me.username ? `<span class="muted">you</span>`
      : `<button class="secondary" data-disable="${esc(u.username)}" data-to="${u.disabled_at ? "false" : "true"}">${u.disabled_at ? "Enable" : "Disable"}</button>
         <button class="secondary" data-remove="${esc(u.username)}">Remove</button>`;
    content.innerHTML = `<div class="card"><h2>Add a user</h2><form id="add" class="inline"><label>User name <input name="username" required></label>
        <label>Password <input name="password" type="password" required></label>
        <label>Role <select name="role"><option>user</option><option>viewer</option><option>admin</option></select></label><button>Add</button></form></div>
      ${table(["user", "signs in with", "role", "status", "last sign-in", "created", ""], users.map((u) => [esc(u.username),
        u.provider ? esc(new URL(u.provider).host) : `<span class="muted">password</span>`, roleSelect(u),
        u.disabled_at ? `<span class="status failed">disabled</span> <span class="muted">since ${when(u.disabled_at)}</span>` : status("ok"),
        when(u.last_login_at), when(u.created_at), actions(u)]))}`;
    onSubmit("add", async (data) => { await post("/auth/register", data); location.reload(); });
    const patch = async (name, change) => {
      try { await api(`/users/${encodeURIComponent(name)}`, { method: "PATCH", body: JSON.stringify(change) }); location.reload(); } catch (error) { say(error.message); }
    };
    content.querySelectorAll("[data-role]").forEach((select) => { select.onchange = () => patch(select.dataset.role, { role: select.value }); });
    content.querySelectorAll("[data-disable]").forEach((button) => { button.onclick = () => patch(button.dataset.disable, { disabled: button.dataset.to === "true" }); });
    content.querySelectorAll("[data-remove]").forEach((button) => {
      button.onclick = async () => {
        if (!confirm(`Remove ${button.dataset.remove} and their API tokens?`)) return;
        try { await api(`/users/${encodeURIComponent(button.dataset.remove)}`, { method: "DELETE" }); location.reload(); } catch (error) { say(error.message); }
      };
    });
  },

  async settings() {
    const [health, connections] = await Promise.all([fetch("/health").then((r) => r.json()), api("/connections")]);
    content.innerHTML = `<div class="card"><p>Signed in as <b>${esc(me.username)}</b> (${esc(me.role)}).</p>
      <p>Store schema version ${esc(health.store.schema_version)} · ${connections.length} named connection(s).</p>
      <p>API: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a> (send <code>Authorization: Bearer &lt;token&gt;</code>).</p>
      <p><button class="secondary" id="signout">Sign out</button></p></div>
      <div class="card"><h2>Change my password</h2><form id="password" class="inline">
        <label>Current password <input name="current_password" type="password" autocomplete="current-password" required></label>
        <label>New password (8 or more characters) <input name="new_password" type="password" autocomplete="new-password" required></label>
        <button>Change</button></form><p class="muted">Your other sessions are signed out.</p></div>`;
    document.getElementById("signout").onclick = signOut;
    onSubmit("password", async (data, form) => {
      const answer = await post("/auth/password", data);
      localStorage.setItem("cutoverToken", answer.token);
      form.reset();
      say("Password changed; your other sessions are signed out.", true);
    });
  },
};

// Ends the session on the server too: the token stops working for anyone who copied it.
async function signOut() {
  try { await post("/auth/logout", {}); } catch (error) { /* already signed out */ }
  localStorage.removeItem("cutoverToken");
  location.href = "/login";
}

async function start() {
  const name = page.dataset.page;
  if (name !== "login") {
    if (!token()) { location.href = "/login"; return; }
    try {
      me = await api("/auth/me");
      document.getElementById("who").innerHTML = `${esc(me.username)} · ${esc(me.role)} <button class="secondary" id="logout">Sign out</button>`;
      document.getElementById("logout").onclick = signOut;
      if (me.role !== "admin") for (const link of document.querySelectorAll("[data-admin]")) link.remove();
    } catch (error) { return; }
    notifications().catch((error) => say(error.message));
  }
  try { await pages[name](page.dataset.id); } catch (error) { content.innerHTML = ""; say(error.message); }
}
start();
