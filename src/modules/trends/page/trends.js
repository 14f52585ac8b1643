// The /trends page: asks the hub's GraphQL API for `trends` and draws a stacked bar chart with
// Chart.js (served by the hub from its own node_modules). No framework, no build step.
// For tests and the curious: window.trendsChart (the Chart instance), window.trendsRequest (the
// last input sent) and window.trendsAnswer (the last answer); body[data-state] is idle, loading,
// ready or error.
"use strict";

const $ = (id) => document.getElementById(id);
const DAY = 86400000;
const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"];

function setState(state, message) {
  document.body.dataset.state = state;
  $("status").textContent = message;
}

async function graphql(query, variables) {
  const res = await fetch("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${$("token").value.trim()}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors && body.errors.length) throw new Error(body.errors.map((e) => e.message).join("; "));
  return body.data;
}

/** Monday 00:00 UTC of the week holding `d`. */
function mondayOf(d) {
  const m = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  return new Date(m.getTime() - ((m.getUTCDay() + 6) % 7) * DAY);
}
const isoDay = (d) => d.toISOString().slice(0, 10);

/** Defaults: the last twelve whole ISO weeks and the current one. */
function setDefaultWindow() {
  const monday = mondayOf(new Date());
  $("from").value = isoDay(new Date(monday.getTime() - 12 * 7 * DAY));
  $("to").value = isoDay(new Date(monday.getTime() + 7 * DAY));
}

async function loadScopes() {
  setState("loading", "Loading scopes…");
  const data = await graphql(
    "query { organizations(filter: { kinds: [REGIONAL_BODY] }, first: 500) { edges { node { id name } } } }",
  );
  const select = $("scope");
  const keep = select.value;
  select.replaceChildren(new Option("Whole hub (operator)", ""));
  for (const { node } of data.organizations.edges) select.add(new Option(node.name, node.id));
  if ([...select.options].some((o) => o.value === keep)) select.value = keep;
  else if (select.options.length > 1) select.selectedIndex = 1;
  setState("idle", `${select.options.length - 1} regional bodies`);
}

/** Diagonal grey hatching for withheld cells. */
function hatch() {
  const c = document.createElement("canvas");
  c.width = c.height = 8;
  const g = c.getContext("2d");
  g.fillStyle = "#e3e6ea";
  g.fillRect(0, 0, 8, 8);
  g.strokeStyle = "#7d8794";
  g.lineWidth = 1.5;
  g.beginPath();
  g.moveTo(0, 8);
  g.lineTo(8, 0);
  g.stroke();
  return g.createPattern(c, "repeat");
}

const QUERY = `query Trends($input: TrendsInput!) {
  trends(input: $input) {
    metric interval k scopeId groupBy
    axes { dimension values labels }
    buckets { start end cells { key count contributors suppressed } }
  }
}`;

/** A grouped value as the legend shows it: its axis label (an actor's name for THREAT_ACTOR), "(none)" for null. */
function labelOf(t, axis, value) {
  if (value === null) return "(none)";
  const a = t.axes[axis];
  const i = a ? a.values.indexOf(value) : -1;
  return i >= 0 && a.labels[i] !== null ? a.labels[i] : value;
}

function draw(t) {
  const labels = t.buckets.map((b) => (t.interval === "MONTH" ? b.start.slice(0, 7) : b.start.slice(0, 10)));
  const nCells = t.buckets[0] ? t.buckets[0].cells.length : 0;
  const datasets = [];
  for (let i = 0; i < nCells; i++) {
    const data = t.buckets.map((b) => (b.cells[i].suppressed ? null : b.cells[i].count));
    // A combination never shown in the window adds nothing but a legend entry.
    if (!data.some((v) => v !== null && v > 0)) continue;
    const key = t.buckets[0].cells[i].key;
    datasets.push({
      label: key.length ? key.map((v, axis) => labelOf(t, axis, v)).join(" · ") : "all",
      data,
      backgroundColor: COLOURS[datasets.length % COLOURS.length],
      stack: "counts",
      yAxisID: "y",
    });
  }
  const withheld = t.buckets.map((b) => b.cells.filter((c) => c.suppressed).length);
  datasets.push({
    label: `withheld: fewer than k = ${t.k} contributors`,
    data: withheld.map((n) => (n > 0 ? 1 : null)),
    backgroundColor: hatch(),
    borderColor: "#7d8794",
    borderWidth: 1,
    stack: "withheld",
    yAxisID: "yWithheld",
    withheld,
  });
  if (window.trendsChart) window.trendsChart.destroy();
  window.trendsChart = new Chart($("chart"), {
    type: "bar",
    data: { labels, datasets },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: {
        x: { stacked: true },
        y: { stacked: true, beginAtZero: true, title: { display: true, text: "records" }, ticks: { precision: 0 } },
        // The withheld marker has no count to show: a fixed short bar on an axis of its own.
        yWithheld: { stacked: true, display: false, min: 0, max: 12 },
      },
      plugins: {
        tooltip: {
          callbacks: {
            label(ctx) {
              if (ctx.dataset.yAxisID === "yWithheld") {
                const n = ctx.dataset.withheld[ctx.dataIndex];
                return `${n} of ${nCells} cells withheld (fewer than ${t.k} contributors, or none)`;
              }
              return `${ctx.dataset.label}: ${ctx.parsed.y}`;
            },
          },
        },
      },
    },
  });
}

async function show(event) {
  event.preventDefault();
  const input = {
    metric: $("metric").value,
    interval: $("interval").value,
    from: `${$("from").value}T00:00:00.000Z`,
    to: `${$("to").value}T00:00:00.000Z`,
    scopeId: $("scope").value || null,
    groupBy: [...document.querySelectorAll("#group-by input:checked")].map((i) => i.value),
  };
  window.trendsRequest = input;
  setState("loading", "Asking the hub…");
  try {
    const data = await graphql(QUERY, { input });
    window.trendsAnswer = data.trends;
    draw(data.trends);
    const cells = data.trends.buckets.flatMap((b) => b.cells);
    const hidden = cells.filter((c) => c.suppressed).length;
    setState(
      "ready",
      `${data.trends.buckets.length} buckets, ${cells.length} cells, ${hidden} withheld (k = ${data.trends.k})`,
    );
  } catch (e) {
    setState("error", e.message);
  }
}

setDefaultWindow();
$("ask").addEventListener("submit", show);
$("load-scopes").addEventListener("click", () => loadScopes().catch((e) => setState("error", e.message)));
