// Failed callbacks (incidents) and their retry.

import { commandButton, gql } from "../api.js";
import { badge, field, fmt, h, panel, table } from "../dom.js";
import { go } from "../router.js";
import { enumLabel, t } from "../words.js";

async function incidentsPage(_arg, params) {
  const status = params.get("status") ?? "FAILED";
  const callbacks = (await gql(`query($s: CallbackStatus) { callbacks(status: $s) { id target kind subject url status attempts lastError nextAt updatedAt } }`,
    { s: status || null })).callbacks;
  const select = h("select", { name: "status", onchange: () => go("incidents", "", { status: select.value }) }, h("option", { value: "" }, t("f.all")),
    ["FAILED", "PENDING", "DELIVERED"].map((s) => h("option", { value: s, selected: s === status }, enumLabel("CallbackStatus", s))));
  const rows = callbacks.map((c) => {
    const retry = c.status === "FAILED"
      ? commandButton("retryCallback", t("retry"), `mutation($id: ID!) { retryCallback(id: $id) { id } }`, { id: c.id }, { class: "retry" })
      : null;
    return h("tr", { "data-callback": c.id }, h("td", {}, c.target), h("td", {}, c.kind), h("td", {}, c.subject), h("td", { class: "mono" }, c.url),
      h("td", {}, badge(c.status, enumLabel("CallbackStatus", c.status))), h("td", {}, String(c.attempts)), h("td", {}, c.lastError ?? ""),
      h("td", {}, c.nextAt ? fmt(c.nextAt) : ""), h("td", {}, fmt(c.updatedAt)), h("td", {}, retry));
  });
  return [h("h1", {}, t("incidents.title")), panel(null, h("p", { class: "muted" }, t("incidents.help")), h("div", { class: "toolbar" }, field(t("f.status"), select)),
    table([t("f.target"), t("f.callbackKind"), t("f.subject"), t("f.url"), t("f.status"), t("f.attempts"), t("f.lastError"), t("f.nextAt"), t("f.updatedAt"), ""], rows)),
    await parkedPanel()];
}

// Events workers parked (issue 33): read-only here; the operator's CLI retries or skips them.
async function parkedPanel() {
  const parked = (await gql(`{ parkedEvents { worker position aggregateType aggregateId sequence eventType error attempts parkedAt } }`)).parkedEvents;
  const rows = parked.map((p) => h("tr", { "data-parked": `${p.worker} ${p.position}` }, h("td", {}, p.worker), h("td", { class: "mono" }, p.position),
    h("td", {}, `${p.aggregateType} ${p.aggregateId} #${p.sequence}`), h("td", {}, p.eventType), h("td", {}, String(p.attempts)), h("td", {}, p.error), h("td", {}, fmt(p.parkedAt))));
  return panel(t("parked.title"), h("p", { class: "muted" }, t("parked.help")),
    rows.length ? table([t("f.worker"), t("f.position"), t("f.aggregate"), t("f.event"), t("f.attempts"), t("f.lastError"), t("f.at")], rows) : h("p", { class: "muted parked-none" }, t("parked.none")));
}

export { incidentsPage };
