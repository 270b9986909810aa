// Renders Kiln's Cockpit plugin outside a browser: a minimal DOM (elements, attributes, text), the real fetch
// with the session cookie of a logged-in Cockpit user, the plugin module itself. Prints what the route page shows:
// {status, links, rows: [{compose, cls, cells}], tags} as JSON.
// usage: node render.mjs <plugin.js> <cockpit-api URL> <cookie header>
const [, , pluginFile, cockpitApi, cookie] = process.argv;

class Text {
  constructor(t) { this.text = String(t); }
  get textContent() { return this.text; }
}
class Element {
  constructor(tag) { this.tag = tag; this.attrs = {}; this.children = []; }
  setAttribute(k, v) { this.attrs[k] = String(v); }
  getAttribute(k) { return this.attrs[k]; }
  appendChild(c) { this.children.push(c); return c; }
  replaceChildren(...c) { this.children = c; }
  set textContent(t) { this.children = [new Text(t)]; }
  get textContent() { return this.children.map((c) => c.textContent).join(""); }
  all(pred, out = []) {
    if (pred(this)) out.push(this);
    this.children.filter((c) => c instanceof Element).forEach((c) => c.all(pred, out));
    return out;
  }
}
globalThis.document = { createElement: (t) => new Element(t), createTextNode: (t) => new Text(t) };
const realFetch = globalThis.fetch;
globalThis.fetch = (url, init = {}) => realFetch(url, { ...init, headers: { ...(init.headers || {}), Cookie: cookie } });

const plugins = (await import(pluginFile)).default;
const page = plugins.find((p) => p.pluginPoint === "cockpit.route");
const nav = plugins.find((p) => p.pluginPoint === "cockpit.navigation");
const root = new Element("div");
page.render(root, { api: { cockpitApi, engine: "default" } });
const status = () => root.all((e) => e.attrs.class === "kiln-status")[0];
for (let i = 0; i < 100 && (!status() || status().textContent.startsWith("Loading")); i++) {
  await new Promise((r) => setTimeout(r, 100));
}
page.unmount();
console.log(JSON.stringify({
  status: status().textContent,
  navigation: { label: nav.properties.label, pagePath: nav.properties.pagePath, route: page.properties.path },
  links: root.all((e) => e.tag === "a").map((a) => ({ href: a.attrs.href, text: a.textContent })),
  rows: root.all((e) => e.tag === "tr" && e.attrs["data-compose"]).map((tr) => ({
    compose: tr.attrs["data-compose"], cls: tr.attrs.class,
    cells: tr.children.map((td) => td.textContent),
  })),
  tags: [...new Set(root.all(() => true).map((e) => e.tag))].sort(),
}));
process.exit(0);
