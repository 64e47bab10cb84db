// Pages by address (#/name/arg?params), the header, and the start.

import { $, banner, h } from "./dom.js";
import { adminPage } from "./pages/admin.js";
import { auditPage } from "./pages/audit.js";
import { boardPage, newTaskPage } from "./pages/board.js";
import { calendarPage } from "./pages/calendar.js";
import { dashboardPage } from "./pages/dashboard.js";
import { incidentsPage } from "./pages/incidents.js";
import { lineagePage } from "./pages/lineage.js";
import { loginPage } from "./pages/login.js";
import { manualPage } from "./pages/manual.js";
import { qcPage } from "./pages/qc.js";
import { taskPage } from "./pages/task.js";
import { decodeClaims, LANG_KEY, may, session, TOKEN_KEY } from "./session.js";
import { enumLabel, t } from "./words.js";

const PAGES = [
  { path: "board", op: "Query.tasks", render: boardPage },
  { path: "calendar", op: "Query.seatCalendar", render: calendarPage },
  { path: "qc", op: "Query.qcCases", render: qcPage },
  { path: "lineage", op: "Query.taskLineage", render: lineagePage },
  { path: "incidents", op: "Query.callbacks", render: incidentsPage },
  { path: "manual", op: "Query.manualCases", render: manualPage },
  { path: "admin", op: "Query.channels", render: adminPage },
  { path: "audit", op: "Query.events", render: auditPage },
  { path: "dashboard", op: "Query.statistics", render: dashboardPage },
];
const HIDDEN_PAGES = [
  { path: "task", op: "Query.taskDetail", render: taskPage },
  { path: "new", op: "Mutation.createInterviewTask", render: newTaskPage },
];

let disposers = [];
let renders = 0;

// Runs `dispose` when the user leaves the page (subscriptions, timers).
function onLeave(dispose) {
  disposers.push(dispose);
}

function route() {
  const [path, query = ""] = location.hash.replace(/^#\/?/, "").split("?");
  const [name, ...rest] = path.split("/");
  return { name: name || "", arg: rest.map(decodeURIComponent).join("/"), params: new URLSearchParams(query) };
}

function go(name, arg = "", params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v != null && v !== "")).toString();
  const hash = `#/${name}${arg ? `/${encodeURIComponent(arg)}` : ""}${query ? `?${query}` : ""}`;
  // The same address again (a search repeated) still reloads the page's data.
  if (location.hash === hash) render();
  else location.hash = hash;
}

function chrome(current) {
  $("#lang").textContent = session.lang === "zh" ? "EN" : "中文";
  document.documentElement.lang = session.lang === "zh" ? "zh-CN" : "en";
  $("#logout").textContent = t("logout");
  $("#logout").hidden = !session.token;
  $("#who").textContent = session.claims ? `${session.claims.sub} · ${enumLabel("Role", session.claims.role)}` : "";
  const nav = $("#nav");
  nav.replaceChildren(
    ...(session.claims ? PAGES.filter((p) => may(p.op)) : []).map((p) =>
      h("a", { href: `#/${p.path}`, class: p.path === current ? "active" : null, "data-page": p.path }, t(`nav.${p.path}`)),
    ),
  );
}

async function render() {
  for (const dispose of disposers) dispose();
  disposers = [];
  const { name, arg, params } = route();
  const hash = location.hash;
  if (!session.token || !session.claims || session.claims.exp * 1000 < Date.now()) {
    if (session.token) return logout(t("login.expired"));
    chrome("login");
    return loginPage(params);
  }
  const pages = [...PAGES, ...HIDDEN_PAGES];
  const page = pages.find((p) => p.path === name) ?? PAGES.find((p) => may(p.op));
  chrome(page?.path);
  const main = $("#page");
  if (!page) {
    main.replaceChildren(h("p", {}, `${enumLabel("Role", session.claims.role)}: ${t("none")}`));
    return;
  }
  main.replaceChildren(h("p", { class: "muted" }, t("loading")));
  try {
    const content = await page.render(arg, params);
    if (location.hash !== hash) return;
    main.replaceChildren(...[content].flat());
    // Browser tests wait for this: the page for this address is on screen.
    document.body.dataset.rendered = `${hash}#${++renders}`;
  } catch (error) {
    main.replaceChildren(h("p", { class: "muted" }, "—"));
    banner(`${error.message} [${error.code ?? "ERROR"}]`);
    document.body.dataset.rendered = `${hash}#${++renders}`;
  }
}

function logout(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  session.token = null;
  session.claims = null;
  session.notice = message ?? "";
  if (location.hash === "#/login") render();
  else location.hash = "#/login";
}
async function start() {
  $("#lang").addEventListener("click", () => {
    session.lang = session.lang === "zh" ? "en" : "zh";
    localStorage.setItem(LANG_KEY, session.lang);
    render();
  });
  $("#logout").addEventListener("click", () => logout());
  const response = await fetch("/console/labels.json");
  session.labels = await response.json();
  session.claims = session.token ? decodeClaims(session.token) : null;
  window.addEventListener("hashchange", () => {
    banner("");
    render();
  });
  await render();
}

export { PAGES, HIDDEN_PAGES, disposers, renders, onLeave, route, go, chrome, render, logout, start };
