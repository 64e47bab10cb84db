// 人工落地 (003): requests the core did not answer in time, with the loan, the
// request and the time waited; a supervisor records the core's answer.

import { act, gql } from "../api.js";
import { badge, field, fmt, h, panel, table } from "../dom.js";
import { go } from "../router.js";
import { may } from "../session.js";
import { t } from "../words.js";

const RESOLVE = `mutation($id: ID!, $r: String!, $input: ManualCaseResolution!) {
  resolveManualCase(id: $id, requestId: $r, input: $input) { loan { node } } }`;

function waited(secs) {
  const minutes = Math.floor(secs / 60);
  return minutes < 120 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

// The form that records the core's answer to one case.
function resolveForm(c) {
  const outcomes = c.kind === "DISBURSEMENT" ? ["PAID", "FAILED"] : ["RECEIVED", "DEBIT_FAILED"];
  const input = (name, attrs = {}) => h("input", { name, size: 14, ...attrs });
  const outcome = h("select", { name: "outcome" }, outcomes.map((o) => h("option", { value: o }, t(`manual.${o}`))));
  const reference = input("coreReference", { required: true });
  const note = input("note", { required: true, size: 24 });
  const day = input("day", { placeholder: "YYYY-MM-DD" });
  const amount = input("amount", { value: c.amount });
  const reason = input("reason");
  const button = h("button", { type: "submit", class: "primary", "data-op": "resolveManualCase" }, t("manual.resolve"));
  const form = h("form", {
    class: "inline", "data-resolve": c.requestId,
    onsubmit: (e) => {
      e.preventDefault();
      const o = outcome.value;
      const values = { outcome: o, coreReference: reference.value, note: note.value };
      if (o === "PAID") values.valueDate = day.value;
      if (o === "RECEIVED" || o === "DEBIT_FAILED") Object.assign(values, { on: day.value, amount: amount.value });
      if (o === "FAILED" || o === "DEBIT_FAILED") values.reason = reason.value;
      act(button, () => gql(RESOLVE, { id: c.loanId, r: c.requestId, input: values })).then(() => go("manual"));
    },
  }, field(t("manual.outcome"), outcome), field(t("manual.coreReference"), reference), field(t("manual.day"), day),
  c.kind === "REPAYMENT" ? field(t("manual.amount"), amount) : null, field(t("f.reason"), reason), field(t("manual.note"), note), button);
  return form;
}

async function manualPage(_arg, params) {
  const status = params.get("status") ?? "OPEN";
  const cases = (await gql(`query($s: ManualCaseStatus) { manualCases(status: $s, first: 200) {
    loanId contractNo kind requestId amount requestedAt openedAt waitedSecs status outcome coreReference note resolvedBy resolvedAt } }`,
  { s: status || null })).manualCases;
  const select = h("select", { name: "status", onchange: () => go("manual", "", { status: select.value }) },
    ["OPEN", "RESOLVED"].map((s) => h("option", { value: s, selected: s === status }, t(`manual.${s}`))));
  const rows = cases.map((c) => h("tr", { "data-case": c.requestId },
    h("td", { class: "mono" }, c.loanId), h("td", {}, c.contractNo), h("td", {}, t(`manual.${c.kind}`)), h("td", { class: "mono" }, c.requestId),
    h("td", {}, c.amount), h("td", {}, fmt(c.requestedAt)), h("td", { "data-waited": c.waitedSecs }, waited(c.waitedSecs)),
    h("td", {}, badge(c.status, t(`manual.${c.status}`))),
    h("td", {}, c.status === "OPEN"
      ? (may("Mutation.resolveManualCase") ? resolveForm(c) : "")
      : `${t(`manual.${c.outcome}`)} · ${c.coreReference} · ${c.note} · ${c.resolvedBy} ${fmt(c.resolvedAt)}`)));
  return [h("h1", {}, t("manual.title")), panel(null, h("p", { class: "muted" }, t("manual.help")),
    h("div", { class: "toolbar" }, field(t("f.status"), select)),
    table([t("manual.loan"), t("f.contractNo"), t("manual.kind"), t("manual.request"), t("manual.amount"), t("manual.requestedAt"), t("manual.waited"), t("f.status"), ""], rows))];
}

export { manualPage };
