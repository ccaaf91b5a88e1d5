// sweeplab dashboard: renders the JSON the server pushes. Every value goes in as text
// (textContent), never as HTML, so what a trial wrote cannot become markup or script.
"use strict";

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

function link(href, text) {
  const a = el("a", text);
  a.href = href;
  return a;
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const cell of cells) {
    const td = document.createElement("td");
    if (cell instanceof Node) td.appendChild(cell); else td.textContent = cell === null || cell === undefined ? "–" : String(cell);
    tr.appendChild(td);
  }
  return tr;
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}

function num(value) {
  if (value === null || value === undefined) return "–";
  if (typeof value !== "number") return String(value);
  return Math.abs(value) >= 1e4 || (value !== 0 && Math.abs(value) < 1e-3) ? value.toExponential(3) : String(+value.toFixed(4));
}

function duration(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return "–";
  seconds = Math.max(0, Math.round(seconds));
  const h = Math.floor(seconds / 3600), m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
  return h ? `${h}h${String(m).padStart(2, "0")}m` : m ? `${m}m${String(s).padStart(2, "0")}s` : `${s}s`;
}

function params(obj) {
  return Object.entries(obj || {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ");
}

function sweepPath(id) { return "/sweep/" + encodeURIComponent(id); }

// --- live connection: one EventSource per page, reopened by the browser after a drop -----
let clockOffset = 0;  // server time minus browser time, so elapsed times use the server's clock

function listen(url, render) {
  const live = document.getElementById("live");
  const source = new EventSource(url);
  source.addEventListener("update", (event) => {
    const data = JSON.parse(event.data);
    if (data.now) clockOffset = Date.parse(data.now) - Date.now();
    render(data);
    if (live) live.textContent = "live · updated " + new Date().toLocaleTimeString();
  });
  source.onerror = () => { if (live) live.textContent = "reconnecting…"; };
  return source;
}

// --- the index -------------------------------------------------------------------------
function renderIndex(data) {
  const tbody = document.querySelector("#sweeps tbody");
  fill(tbody, data.sweeps.map((s) => {
    const objective = s.objective ? `${s.objective.direction} ${s.objective.metric}` : (s.metric ? `(${s.metric})` : "–");
    return row([link(sweepPath(s.sweep_id), s.sweep_id), el("span", s.status, "status-" + s.status),
                `${s.finished} / ${s.total}` + (s.running ? ` (${s.running} running)` : ""), objective, num(s.best),
                s.started, s.finished_at]);
  }));
  document.getElementById("empty").hidden = data.sweeps.length > 0;
}

// --- a sweep ---------------------------------------------------------------------------
let runningRows = [];
let currentSweep = "";

function tickElapsed() {
  const now = Date.now() + clockOffset;
  for (const [cell, start] of runningRows) cell.textContent = duration((now - start) / 1000);
}

function levelText(levels) {
  if (Array.isArray(levels)) return levels.map((v) => JSON.stringify(v)).join(", ");
  return JSON.stringify(levels);
}

function parameterPlot(div, plot, metric) {
  const categorical = !plot.numeric;
  const xs = plot.levels.map((l) => categorical ? String(typeof l.level === "string" ? l.level : JSON.stringify(l.level)) : l.level);
  const points = {
    x: plot.x.map((v) => categorical ? String(typeof v === "string" ? v : JSON.stringify(v)) : v), y: plot.y,
    text: plot.ids, customdata: plot.keys, mode: "markers", type: "scatter", name: "trials", opacity: 0.45,
    marker: { size: 7 }, hovertemplate: "%{text}<br>%{y}<extra>click: the trial's page</extra>",
  };
  const means = {
    x: xs, y: plot.levels.map((l) => l.mean), mode: "lines+markers", type: "scatter", name: "mean ± 95 % t",
    error_y: { type: "data", symmetric: false, array: plot.levels.map((l) => l.ci_high === null ? 0 : l.ci_high - l.mean),
               arrayminus: plot.levels.map((l) => l.ci_low === null ? 0 : l.mean - l.ci_low) },
  };
  const shapes = [], annotations = [];
  const tip = plot.tipping_point;
  if (tip) {
    const x = (tip.before + tip.after) / 2;
    shapes.push({ type: "line", x0: x, x1: x, yref: "paper", y0: 0, y1: 1, line: { dash: "dash", color: "#c33" } });
    annotations.push({ x, yref: "paper", y: 1, text: `tipping point ${tip.before}→${tip.after}`, showarrow: false,
                       font: { color: "#c33" } });
  }
  div.dataset.points = String(plot.x.length);
  // sampled designs (random, Sobol, Bayesian) give each value one trial: a line through them is noise
  const traces = plot.levels.length > 12 && plot.levels.every((l) => l.n === 1) ? [points] : [points, means];
  Plotly.react(div, traces, {
    title: { text: `${metric} by ${plot.parameter}`, font: { size: 14 } }, margin: { t: 40, r: 10, b: 40, l: 50 },
    xaxis: { title: plot.parameter, type: categorical ? "category" : "linear" }, yaxis: { title: metric },
    shapes, annotations, showlegend: true, legend: { orientation: "h", y: -0.2 },
  }, { displaylogo: false, responsive: true });
  if (!div.dataset.clicks) {  // a click on a trial's point opens its page
    div.dataset.clicks = "yes";
    div.on("plotly_click", (event) => {
      const key = event.points && event.points[0] && event.points[0].customdata;
      if (key) location.href = `${sweepPath(currentSweep)}/trial/${encodeURIComponent(key)}`;
    });
  }
}

function renderPlots(fig) {
  const container = document.getElementById("plots");
  const select = document.getElementById("metric-select");
  const wanted = fig.metrics.join("\n");
  if (select.dataset.options !== wanted) {
    select.replaceChildren(...fig.metrics.map((m) => { const o = el("option", m); o.value = m; return o; }));
    select.dataset.options = wanted;
  }
  if (fig.metric) select.value = fig.metric;
  document.getElementById("plot-note").textContent = fig.metric ? `${fig.n} completed trials` : "no metric reported yet";
  while (container.children.length > fig.plots.length) container.lastChild.remove();
  fig.plots.forEach((plot, i) => {
    let div = container.children[i];
    if (!div) { div = el("div", null, "plot"); div.id = "plot-" + i; container.appendChild(div); }
    parameterPlot(div, plot, fig.metric);
  });
  const heat = document.getElementById("heatmap");
  if (fig.heatmap) {
    const h = fig.heatmap;
    heat.hidden = false;
    // cells by position, labelled with the levels: numeric-looking labels must not be placed as numbers
    const xs = h.x.map((_, i) => i), ys = h.y.map((_, i) => i);
    Plotly.react(heat, [{ type: "heatmap", x: xs, y: ys, z: h.z, colorscale: "Viridis", colorbar: { title: fig.metric },
                          text: h.y.map((r) => h.x.map((c) => `${h.rows}=${r}, ${h.columns}=${c}`)),
                          hovertemplate: "%{text}<br>mean %{z}<extra></extra>" }],
                 { title: { text: `mean ${fig.metric}: ${h.rows} × ${h.columns}`, font: { size: 14 } },
                   xaxis: { title: h.columns, tickvals: xs, ticktext: h.x.map(String) },
                   yaxis: { title: h.rows, tickvals: ys, ticktext: h.y.map(String) },
                   margin: { t: 40, r: 10, b: 50, l: 60 } }, { displaylogo: false, responsive: true });
  } else heat.hidden = true;
  const best = document.getElementById("best");
  fill(best.tHead, [row([...fig.parameters, "n", `mean ${fig.metric || ""}`, "sd"])]);
  fill(best.tBodies[0], fig.best.map((b) => row([...fig.parameters.map((p) => JSON.stringify(b.parameters[p])), b.n,
                                                   num(b.mean), num(b.sd)])));
}

function renderSweep(data) {
  const id = data.sweep_id;
  currentSweep = id;
  document.getElementById("waiting").hidden = data.found;
  document.getElementById("sweep-id").textContent = id;
  if (!data.found) return;
  document.getElementById("title").textContent = id;
  document.getElementById("description").textContent = data.description || "";
  const status = document.getElementById("status");
  status.textContent = data.status;
  status.className = "status-" + data.status;
  document.getElementById("progress-count").textContent = `${data.finished} / ${data.total}`;
  document.getElementById("progress-bar").style.width = (data.total ? 100 * data.finished / data.total : 0) + "%";
  document.getElementById("counts").textContent = Object.entries(data.counts).map(([k, v]) => `${k} ${v}`).join(", ");
  document.getElementById("eta").textContent = data.status === "running" ? duration(data.eta_seconds) : "–";
  runningRows = [];
  document.getElementById("running-count").textContent = `(${data.running.length})`;
  fill(document.querySelector("#running tbody"), data.running.map((r) => {
    const cell = el("span", "");
    runningRows.push([cell, Date.parse(r.start_time)]);
    return row([link(`${sweepPath(id)}/trial/${encodeURIComponent(r.key)}`, r.experiment_id), r.attempt,
                params(r.params), cell]);
  }));
  tickElapsed();
  fill(document.querySelector("#failures tbody"), data.failures.map((f) =>
    row([link(`${sweepPath(id)}/trial/${encodeURIComponent(f.key)}`, f.experiment_id), f.attempt,
         el("span", f.status, "status-" + f.status), f.exit_code, `${f.trial_status} after ${f.trial_attempts}`,
         el("pre", f.error_tail || "", "error-tail")])));
  const plan = data.plan;
  fill(document.querySelector("#plan tbody"), plan.parameters.map((p) => row([p.path, levelText(p.levels)])));
  const objective = data.objective ? `objective: ${data.objective.direction} ${data.objective.metric}` : "no objective";
  document.getElementById("plan-notes").textContent =
    `${plan.strategy}${plan.n_trials ? ` (${plan.n_trials} trials)` : ""}, repeats ${plan.repeats}, ` +
    `runner ${plan.runner || "–"}, parallel ${plan.parallel ?? "–"}, ${objective}` +
    (plan.zip.length ? `, zipped: ${plan.zip.map((g) => g.join("+")).join("; ")}` : "");
  schedulePlots(data.figures);
}

// Plots are the page's costly part (~30 ms each for 500 points): they are redrawn only when their
// data changed, at most once per 20 times the last drawing took (at least 1 s apart), never while the
// page is hidden; the latest data is always drawn in the end. The browser then spends at most ~5 %
// of a core on them however fast the sweep runs.
const plotState = { pending: null, drawn: "", last: 0, cost: 0, timer: null };

function drawPending() {
  plotState.timer = null;
  if (plotState.pending === null || document.hidden) return;
  const wait = plotState.last + Math.max(1000, 20 * plotState.cost) - performance.now();
  if (wait > 0) { plotState.timer = setTimeout(drawPending, wait); return; }
  const figures = plotState.pending;
  plotState.pending = null;
  const started = performance.now();
  renderPlots(figures);
  plotState.last = performance.now();
  plotState.cost = plotState.last - started;
}

function schedulePlots(figures) {
  const text = JSON.stringify(figures);
  if (text === plotState.drawn) return;
  plotState.drawn = text;
  plotState.pending = figures;
  if (plotState.timer === null) drawPending();
}

document.addEventListener("visibilitychange", () => { if (!document.hidden && plotState.timer === null) drawPending(); });

function sweepPage() {
  const id = decodeURIComponent(location.pathname.split("/")[2]);
  let source = null;
  const connect = (metric) => {
    if (source) source.close();
    const query = metric ? "?metric=" + encodeURIComponent(metric) : "";
    source = listen(`/api/events/sweeps/${encodeURIComponent(id)}${query}`, renderSweep);
  };
  document.getElementById("metric-select").addEventListener("change", (e) => connect(e.target.value));
  connect(new URLSearchParams(location.search).get("metric"));
  setInterval(tickElapsed, 1000);
}

// --- a trial (fetched once: a finished trial does not change, a running one is reloaded) ------
function keyValues(tbody, obj) {
  fill(tbody, Object.entries(obj || {}).map(([k, v]) => row([k, typeof v === "number" ? num(v) : JSON.stringify(v)])));
}

function renderTrial(data) {
  const t = data.trial;
  document.title = "sweeplab — " + t.experiment_id;
  const sweepLink = document.getElementById("sweep-link");
  sweepLink.textContent = data.sweep_id;
  sweepLink.href = sweepPath(data.sweep_id);
  document.getElementById("trial-id").textContent = t.experiment_id;
  document.getElementById("title").textContent = t.experiment_id;
  const status = document.getElementById("trial-status");
  status.textContent = t.status;
  status.className = "status-" + t.status;
  document.getElementById("trial-attempts").textContent = t.attempts;
  document.getElementById("trial-duration").textContent = t.duration === null ? "–" : `${num(t.duration)} s`;
  keyValues(document.querySelector("#params tbody"), t.params);
  keyValues(document.querySelector("#metrics tbody"), Object.assign({}, t.metrics, t.extra || {}));
  document.getElementById("attempts").replaceChildren(...data.attempts.map((a) => {
    const box = el("div", null, "attempt");
    box.id = "attempt-" + a.attempt;
    box.appendChild(el("h3", `attempt ${a.attempt}: ${a.status}` + (a.exit_code === null ? "" : ` (exit code ${a.exit_code})`) +
                             ` · ${a.start_time} → ${a.end_time || "…"} · host ${a.host || "–"}`));
    if (a.error_tail) { box.appendChild(el("h4", "error tail")); box.appendChild(el("pre", a.error_tail, "error-tail")); }
    box.appendChild(el("h4", "stderr")); box.appendChild(el("pre", a.stderr_tail ?? "(not available)", "stderr"));
    box.appendChild(el("h4", "stdout")); box.appendChild(el("pre", a.stdout_tail ?? "(not available)", "stdout"));
    return box;
  }));
  document.getElementById("config").textContent = data.config ?? "(not available)";
  const tables = document.getElementById("experiment-tables");
  const names = Object.keys(data.experiment_tables);
  tables.replaceChildren(...(names.length ? names.map((name) => {
    const box = el("div");
    const table = data.experiment_tables[name];
    box.appendChild(el("h3", name + (table.truncated ? " (first rows)" : "")));
    const t2 = document.createElement("table");
    t2.id = "table-" + name;
    t2.appendChild(document.createElement("thead")).appendChild(row(table.columns));
    const body = t2.appendChild(document.createElement("tbody"));
    fill(body, table.rows.map((r) => row(r)));
    box.appendChild(t2);
    return box;
  }) : [el("p", "none")]));
  // a running trial is read again when its sweep's journal changes (pushed, shared with the sweep page)
  if (t.status === "running" && trialSource === null) {
    trialSource = listen(`/api/events/sweeps/${encodeURIComponent(data.sweep_id)}`, () => trialPage());
  } else if (t.status !== "running" && trialSource !== null) {
    trialSource.close();
    trialSource = null;
  }
}

let trialSource = null;

function trialPage() {
  const parts = location.pathname.split("/");
  fetch(`/api/sweeps/${parts[2]}/trials/${parts[4]}`, { credentials: "same-origin" })
    .then((r) => r.ok ? r.json() : Promise.reject(new Error(`${r.status}`)))
    .then(renderTrial)
    .catch((e) => { document.getElementById("title").textContent = "trial not found (" + e.message + ")"; });
}

document.addEventListener("DOMContentLoaded", () => {
  const page = document.body.dataset.page;
  if (page === "index") listen("/api/events/index", renderIndex);
  else if (page === "sweep") sweepPage();
  else if (page === "trial") trialPage();
});
