// The auditor's views: event feed, aggregate trail, state as of a moment,
// the operation log (操作留痕) and actor trails.

import { gql } from "../api.js";
import { banner, eventName, field, fmt, h, panel, SHANGHAI_MS, table, tableHead } from "../dom.js";
import { go } from "../router.js";
import { may, session } from "../session.js";
import { enumLabel, eventLabel, t } from "../words.js";

function eventRows(events) {
  return events.map((e) => h("tr", { "data-event": e.eventType, "data-aggregate": e.aggregateId },
    h("td", { class: "mono" }, e.position), h("td", {}, fmt(e.recordedAt)),
    h("td", {}, h("a", { href: `#/audit?type=${encodeURIComponent(e.aggregateType)}&id=${encodeURIComponent(e.aggregateId)}` }, `${e.aggregateType} ${e.aggregateId.slice(0, 24)}`), ` #${e.sequence}`),
    h("td", {}, h("details", {}, h("summary", {}, eventName(e.eventType, eventLabel(e.eventType))), h("pre", { class: "json" }, JSON.stringify(e.payload, null, 2)))),
    h("td", {}, who(e))));
}

// Who wrote an event: the actor, and the person the engine acted for.
function who(e) {
  const actor = `${e.actorId} (${enumLabel("Role", e.actorRole)})`;
  if (!e.onBehalfOfId) return actor;
  return `${actor} ${t("f.onBehalfOf")} ${e.onBehalfOfId} (${enumLabel("Role", e.onBehalfOfRole)})`;
}

const EVENT_FIELDS = "position aggregateType aggregateId sequence eventType actorId actorRole onBehalfOfId onBehalfOfRole recordedAt payload";

async function auditPage(_arg, params) {
  const type = params.get("type") ?? "interview-task";
  const id = params.get("id") ?? "";
  const at = params.get("at") ?? "";
  const actor = params.get("actor") ?? "";
  const feedAfter = params.get("feedAfter") ?? "";
  const headers = [t("f.position"), t("f.at"), t("f.aggregate"), t("f.event"), t("f.actor")];
  const here = Object.fromEntries(params);

  // The global feed, in log order, a page at a time.
  const feedBody = h("tbody", {});
  const more = h("button", { type: "button", id: "feed-more" }, t("more"));
  let cursor = feedAfter || null;
  const loadFeed = async () => {
    const page = (await gql(`query($after: String) { events(after: $after, first: 50) { endCursor events { ${EVENT_FIELDS} } } }`, { after: cursor })).events;
    feedBody.append(...eventRows(page.events));
    cursor = page.endCursor ?? cursor;
    more.disabled = page.events.length < 50;
  };
  more.addEventListener("click", () => loadFeed().catch((e) => banner(`${e.message} [${e.code}]`)));
  await loadFeed();

  const typeSelect = h("select", { name: "type" }, session.labels.aggregateTypes.map((x) => h("option", { value: x, selected: x === type }, x)));
  const idInput = h("input", { name: "id", value: id, size: 40 });
  const atInput = h("input", { name: "at", type: "datetime-local", step: 1, value: at });
  const form = h("form", { class: "inline", id: "trail-form", onsubmit: (e) => {
    e.preventDefault();
    go("audit", "", { type: typeSelect.value, id: idInput.value.trim(), at: atInput.value });
  } }, field(t("f.type"), typeSelect), field(t("f.id"), idInput), field(t("audit.at"), atInput), h("button", { type: "submit", class: "primary" }, t("audit.show")));

  const sections = [h("h1", {}, t("audit.title")), panel(`${t("audit.trail")} / ${t("audit.asOf")}`, form)];
  if (id) {
    const trail = (await gql(`query($t: String!, $id: String!) { auditTrail(aggregateType: $t, aggregateId: $id) { ${EVENT_FIELDS} } }`, { t: type, id })).auditTrail;
    sections.push(panel(`${t("audit.trail")}: ${type} ${id}`, h("div", { id: "trail" }, table(headers, eventRows(trail)))));
    if (trail.length) {
      // datetime-local is wall-clock Beijing time; without one, the latest state.
      const instant = at ? new Date(Date.parse(`${at.length === 16 ? `${at}:00` : at}Z`) - SHANGHAI_MS).toISOString() : null;
      const state = (await gql(`query($t: String!, $id: String!, $at: DateTime, $seq: Int) { aggregateAt(aggregateType: $t, aggregateId: $id, at: $at, sequence: $seq) { sequence asOf state } }`,
        { t: type, id, at: instant, seq: instant ? null : trail[trail.length - 1].sequence })).aggregateAt;
      sections.push(panel(`${t("audit.state")}: ${instant ? fmt(instant) : fmt(state.asOf)} (${t("f.sequence")} ${state.sequence})`,
        h("pre", { class: "json", id: "as-of" }, JSON.stringify(state.state, null, 2))));
    }
  }
  const actorInput = h("input", { name: "actor", value: actor, size: 16 });
  sections.push(panel(t("audit.actor"), h("form", { class: "inline", id: "actor-form", onsubmit: (e) => {
    e.preventDefault();
    go("audit", "", { ...here, actor: actorInput.value.trim() });
  } }, field(t("f.actor"), actorInput), h("button", { type: "submit", class: "primary" }, t("audit.show"))),
  actor ? await actorTrail(actor) : null));
  if (may("Query.operationLog")) sections.push(await operationLogPanel(params, here));
  const afterInput = h("input", { name: "feedAfter", value: feedAfter, size: 12, placeholder: "TX:POSITION" });
  sections.push(panel(t("audit.feed"), h("form", { class: "inline", onsubmit: (e) => {
    e.preventDefault();
    go("audit", "", { ...here, feedAfter: afterInput.value.trim() });
  } }, field(t("audit.feedAfter"), afterInput), h("button", { type: "submit" }, t("audit.show"))),
  h("table", { id: "feed" }, tableHead(headers), feedBody), h("p", {}, more)));
  return sections;
}

// 操作留痕: refused operations and reads of personal data, newest first,
// filtered by actor, target, operation and kind (the last 100).
async function operationLogPanel(params, here) {
  const filter = {
    actorId: params.get("opActor") || null,
    target: params.get("opTarget") || null,
    operation: params.get("opOperation") || null,
    kind: params.get("opKind") || null,
  };
  const entries = (await gql(`query($f: OperationLogFilter!) { operationLog(filter: $f, first: 100) { entryId recordedAt kind actorId actorRole operation target code detail requestId } }`, { f: filter })).operationLog;
  const actorInput = h("input", { name: "opActor", value: filter.actorId ?? "", size: 14 });
  const targetInput = h("input", { name: "opTarget", value: filter.target ?? "", size: 20 });
  const operationInput = h("input", { name: "opOperation", value: filter.operation ?? "", size: 24 });
  const kindSelect = h("select", { name: "opKind" }, ["", "REFUSED", "PERSONAL_DATA_READ"].map((k) =>
    h("option", { value: k, selected: k === (filter.kind ?? "") }, k ? t(`oplog.${k}`) : t("f.all"))));
  const form = h("form", { class: "inline", id: "oplog-form", onsubmit: (e) => {
    e.preventDefault();
    go("audit", "", { ...here, opActor: actorInput.value.trim(), opTarget: targetInput.value.trim(), opOperation: operationInput.value.trim(), opKind: kindSelect.value });
  } }, field(t("f.actor"), actorInput), field(t("oplog.target"), targetInput), field(t("oplog.operation"), operationInput),
  field(t("oplog.kind"), kindSelect), h("button", { type: "submit", class: "primary" }, t("audit.show")));
  const rows = entries.map((e) => h("tr", { "data-kind": e.kind, "data-operation": e.operation },
    h("td", { class: "mono" }, String(e.entryId)), h("td", {}, fmt(e.recordedAt)), h("td", {}, t(`oplog.${e.kind}`)),
    h("td", {}, `${e.actorId} (${enumLabel("Role", e.actorRole)})`), h("td", { class: "mono" }, e.operation),
    h("td", { class: "mono" }, e.target), h("td", {}, e.code ?? ""), h("td", {}, e.detail)));
  return panel(t("oplog.title"), form, h("div", { id: "operation-log" }, table([t("f.position"), t("f.at"), t("oplog.kind"),
    t("f.actor"), t("oplog.operation"), t("oplog.target"), t("oplog.code"), t("oplog.detail")], rows)));
}

// What one person or system did, newest first (the last 50 events).
async function actorTrail(actorId) {
  const actions = (await gql(`query($a: String!) { actorTrail(actorId: $a, first: 50) { globalPosition recordedAt aggregateType aggregateId eventType actorId actorRole onBehalfOfId onBehalfOfRole } }`, { a: actorId })).actorTrail;
  return h("div", { id: "actor-trail" }, table([t("f.position"), t("f.at"), t("f.aggregate"), t("f.event"), t("f.actor")], actions.map((a) =>
    h("tr", { "data-event": a.eventType }, h("td", { class: "mono" }, String(a.globalPosition)), h("td", {}, fmt(a.recordedAt)),
      h("td", {}, h("a", { href: `#/audit?type=${encodeURIComponent(a.aggregateType)}&id=${encodeURIComponent(a.aggregateId)}` }, `${a.aggregateType} ${a.aggregateId.slice(0, 24)}`)),
      h("td", {}, eventName(a.eventType, eventLabel(a.eventType))), h("td", {}, who(a))))));
}

export { eventRows, who, EVENT_FIELDS, auditPage, operationLogPanel, actorTrail };
