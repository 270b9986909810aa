// Kiln's Cockpit plugin: every compose (waiting, running, finished, failed) with its state, step, times and the
// reason a failed one failed, from GET <cockpit-api>/plugin/kiln/<engine>/composes. A "Composes" entry in the
// header opens the full list (#/kiln/composes); the dashboard shows the newest ten. Values are set as text, never
// as markup.

const PAGE = "/kiln/composes";
const timers = {};

function url(api, max) {
  return `${api.cockpitApi}/plugin/kiln/${encodeURIComponent(api.engine)}/composes?max=${max}`;
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "text") {
      e.textContent = v;
    } else {
      e.setAttribute(k, v);
    }
  }
  for (const c of children) {
    if (c !== null && c !== undefined) {
      e.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    }
  }
  return e;
}

function when(seconds) {
  return seconds === null || seconds === undefined ? "" : new Date(seconds * 1000).toLocaleString();
}

function took(c) {
  if (c.started === null || c.started === undefined) {
    return "";
  }
  const end = c.finished === null || c.finished === undefined ? Date.now() / 1000 : c.finished;
  const s = Math.max(0, Math.round(end - c.started));
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

function size(bytes) {
  if (!bytes) {
    return "";
  }
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = bytes;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

function row(c) {
  // running instances have Cockpit's own view; ended ones are only in history, shown here
  const id = c.status === "WAITING" || c.status === "RUNNING" || (c.status === "FAILED" && c.finished === null)
    ? el("a", { href: `#/process-instance/${encodeURIComponent(c.processInstanceId)}/runtime`, text: c.id })
    : el("span", { text: c.id });
  return el("tr", { class: `kiln-compose kiln-${c.status.toLowerCase()}`, "data-compose": c.id },
    el("td", { class: "kiln-id" }, id),
    el("td", { text: c.version && c.version !== "null" ? `${c.blueprint} ${c.version}` : c.blueprint }),
    el("td", { text: c.type }),
    el("td", {}, el("span", { class: `kiln-state kiln-state-${c.status.toLowerCase()}`, text: c.status })),
    el("td", { text: c.step || "" }),
    el("td", { text: when(c.created) }),
    el("td", { text: when(c.started) }),
    el("td", { text: when(c.finished) }),
    el("td", { text: took(c) }),
    el("td", { text: size(c.imageSize) }),
    el("td", { class: "kiln-error", text: c.error || "" }));
}

function table(composes) {
  const head = el("tr", {}, ...["Compose", "Blueprint", "Type", "State", "Step", "Submitted", "Started", "Finished",
    "Took", "Image", "Reason"].map((h) => el("th", { text: h })));
  return el("table", { class: "cam-table kiln-composes" }, el("thead", {}, head),
    el("tbody", {}, ...composes.map(row)));
}

function show(node, api, max, withLink) {
  const status = el("p", { class: "kiln-status", text: "Loading composes…" });
  const body = el("div", { class: "kiln-body" });
  node.replaceChildren(status, body);
  const refresh = () => fetch(url(api, max), { headers: { Accept: "application/json" }, credentials: "same-origin" })
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))
    .then((composes) => {
      const counts = {};
      composes.forEach((c) => { counts[c.status] = (counts[c.status] || 0) + 1; });
      status.textContent = composes.length === 0 ? "No composes yet."
        : `${composes.length} composes: ` + ["WAITING", "RUNNING", "FINISHED", "FAILED"]
          .map((s) => `${counts[s] || 0} ${s.toLowerCase()}`).join(", ") + ". Updated every 5 seconds.";
      body.replaceChildren(table(composes));
      if (withLink) {
        body.appendChild(el("p", {}, el("a", { href: `#${PAGE}`, text: "All composes" })));
      }
    })
    .catch((e) => { status.textContent = `Cannot list composes: ${e.message}`; });
  refresh();
  return setInterval(refresh, 5000);
}

export default [
  {
    id: "kiln-composes-navigation",
    pluginPoint: "cockpit.navigation",
    priority: 100,
    properties: {
      label: "Composes",
      pagePath: `#${PAGE}`,
      checkActive: (path) => path.indexOf(PAGE) > -1,
    },
  },
  {
    id: "kiln-composes-page",
    pluginPoint: "cockpit.route",
    properties: { path: PAGE },
    render: (node, { api }) => {
      clearInterval(timers.page);
      const page = el("div", { class: "kiln-page" }, el("h1", { class: "section-title", text: "Composes" }));
      const list = el("div");
      page.appendChild(list);
      node.replaceChildren(page);
      timers.page = show(list, api, 1000, false);
    },
    unmount: () => clearInterval(timers.page),
  },
  {
    id: "kiln-composes-dashboard",
    pluginPoint: "cockpit.dashboard",
    priority: 100,
    properties: { label: "Composes" },
    render: (node, { api }) => {
      clearInterval(timers.dashboard);
      timers.dashboard = show(node, api, 10, true);
    },
    unmount: () => clearInterval(timers.dashboard),
  },
];
