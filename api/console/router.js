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
import { chooseRole, credentials, LANG_KEY, loadSession, may, session, signedIn, TOKEN_KEY } from "./session.js";
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
  $("#logout").hidden = !signedIn();
  const who = $("#who");
  who.replaceChildren();
  if (session.claims) {
    who.append(`${session.claims.sub} · `);
    // A person the provider grants several roles acts in one at a time.
    if (session.roles.length > 1) {
      const select = h("select", { id: "role", "aria-label": "role" },
        ...session.roles.map((role) => h("option", { value: role, selected: role === session.claims.role ? "selected" : null }, enumLabel("Role", role))));
      select.addEventListener("change", () => {
        chooseRole(select.value);
        go("");
      });
      who.append(select);
    } else {
      who.append(enumLabel("Role", session.claims.role));
    }
  }
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
  if (!signedIn()) {
    if (session.token || session.claims) return logout(t("login.expired"));
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

// Forgets who is logged in here and shows the login page with `message`.
function logout(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  session.token = null;
  session.claims = null;
  session.csrf = null;
  session.notice = message ?? "";
  if (location.hash === "#/login") render();
  else location.hash = "#/login";
}

// The logout button: through the provider, the server ends the session and
// the browser goes on to end the provider's (RP-initiated logout).
// A logout the server did not take (a CSRF token gone stale when another tab
// signed in again) is tried once more with the session read afresh; one that
// still fails says so, rather than show a login page over a live session.
async function signOut() {
  if (session.mode !== "provider") return logout();
  const attempt = () => fetch("/auth/logout", { method: "POST", headers: credentials(), credentials: "same-origin" });
  let response = await attempt();
  if (!response.ok) {
    await loadSession();
    response = await attempt();
  }
  if (!response.ok) {
    banner(`${t("logout.failed")} [HTTP_${response.status}]`);
    return;
  }
  const answer = await response.json();
  logout();
  if (answer.logoutUrl) location.assign(answer.logoutUrl);
}

// Asks the provider for a multi-factor login, back to this page after.
function stepUp() {
  const back = location.hash.startsWith("#/") ? location.hash : "#/";
  location.assign(`/auth/login?step_up=1&return=${encodeURIComponent(back)}`);
}
async function start() {
  $("#lang").addEventListener("click", () => {
    session.lang = session.lang === "zh" ? "en" : "zh";
    localStorage.setItem(LANG_KEY, session.lang);
    render();
  });
  $("#logout").addEventListener("click", () => signOut());
  const response = await fetch("/console/labels.json");
  session.labels = await response.json();
  await loadSession();
  window.addEventListener("hashchange", () => {
    banner("");
    render();
  });
  await render();
}

export { PAGES, HIDDEN_PAGES, disposers, renders, onLeave, route, go, chrome, render, logout, signOut, stepUp, start };
