// The QC queue and decisions.

import { act, commandButton, gql } from "../api.js";
import { badge, field, fmt, h, panel, table } from "../dom.js";
import { go } from "../router.js";
import { may, session } from "../session.js";
import { enumLabel, reasonLabel, t } from "../words.js";

async function qcPage(_arg, params) {
  const status = params.get("status") ?? "";
  const cases = (await gql(
    `query($filter: QcFilterInput!) { qcCases(filter: $filter, first: 100) { id taskId contractNo seatNo origin status reviewer passed reasons otherText comment openedAt decidedAt queuePosition } }`,
    { filter: { status: status || null } },
  )).qcCases;
  const select = h("select", { name: "status", onchange: () => go("qc", "", { status: select.value }) }, h("option", { value: "" }, t("f.all")),
    ["OPEN", "CLAIMED", "DECIDED"].map((s) => h("option", { value: s, selected: s === status }, enumLabel("QcStatus", s))));
  const rows = cases.map((c) => {
    const actions = [];
    if (c.status === "OPEN") {
      actions.push(commandButton("claimQcCase", t("qc.claim"), `mutation($id: ID!) { claimQcCase(id: $id) { case { id } } }`, { id: c.id }, { class: "claim" }));
    }
    if (c.status === "CLAIMED" && c.reviewer === session.claims.sub) {
      actions.push(commandButton("releaseQcCase", t("qc.release"), `mutation($id: ID!) { releaseQcCase(id: $id) { case { id } } }`, { id: c.id }, { class: "release" }));
    }
    const result = c.status === "DECIDED"
      ? [c.passed ? t("qc.pass") : t("qc.reject"), c.reasons.length ? h("ul", {}, c.reasons.map((r) => h("li", {}, reasonLabel(r)))) : null, c.otherText, c.comment ? h("div", { class: "muted" }, c.comment) : null]
      : null;
    return h("tr", { "data-case": c.id, "data-task": c.taskId },
      h("td", {}, h("a", { href: `#/task/${c.taskId}` }, c.contractNo)), h("td", {}, c.seatNo), h("td", {}, enumLabel("QcOrigin", c.origin)),
      h("td", {}, badge(c.status, enumLabel("QcStatus", c.status))), h("td", {}, c.reviewer ?? ""), h("td", {}, fmt(c.openedAt)),
      h("td", {}, result), h("td", {}, actions));
  });
  const mine = cases.filter((c) => c.status === "CLAIMED" && c.reviewer === session.claims.sub && may("Mutation.decideQcCase"));
  return [
    h("h1", {}, t("qc.title")),
    panel(null, h("div", { class: "toolbar" }, field(t("f.status"), select)),
      table([t("f.contractNo"), t("f.seat"), t("f.origin"), t("f.status"), t("f.reviewer"), t("f.openedAt"), t("f.result"), t("task.actions")], rows)),
    mine.length ? panel(t("qc.mine"), mine.map(decisionForm)) : null,
  ];
}

function decisionForm(qcCase) {
  // No verdict is preselected: the reviewer must choose one.
  const verdict = (value) => h("label", {}, h("input", { type: "radio", name: `verdict-${qcCase.id}`, value, required: true }), " ", value === "PASS" ? t("qc.pass") : t("qc.reject"));
  const reasons = h("div", { class: "reasons" }, session.labels.rejectReasons.map((r) =>
    h("label", {}, h("input", { type: "checkbox", name: "reason", value: r.code }), h("span", {}, reasonLabel(r.code)))));
  const otherText = h("input", { name: "otherText", size: 40 });
  const comment = h("textarea", { name: "comment", rows: 2 });
  const submit = h("button", { type: "submit", class: "primary" }, t("qc.decide"));
  return h("form", {
    class: "decision", "data-case": qcCase.id,
    onsubmit: (event) => {
      event.preventDefault();
      const form = event.currentTarget;
      const chosen = [...form.querySelectorAll("input[name=reason]:checked")].map((i) => i.value);
      const verdictValue = form.querySelector(`input[name="verdict-${qcCase.id}"]:checked`).value;
      act(submit, () => gql(
        `mutation($id: ID!, $verdict: QcVerdict!, $reasons: [RejectReason!]!, $other: String, $comment: String!) {
          decideQcCase(id: $id, verdict: $verdict, reasons: $reasons, otherText: $other, comment: $comment) { case { id status } } }`,
        { id: qcCase.id, verdict: verdictValue, reasons: chosen, other: otherText.value.trim() || null, comment: comment.value },
      ));
    },
  },
  h("h2", {}, `${qcCase.contractNo} · ${enumLabel("QcOrigin", qcCase.origin)}`),
  h("div", { class: "toolbar" }, t("qc.verdict"), verdict("PASS"), verdict("REJECT")),
  h("div", {}, t("f.reasons")), reasons, field(t("f.otherText"), otherText), field(t("f.comment"), comment), h("p", {}, submit));
}

export { qcPage, decisionForm };
