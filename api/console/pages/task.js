// One task: facts, participants, what the session recorded, the timeline, and
// the actions the API allows this user now.

import { act, ApiError, commandButton, gql } from "../api.js";
import { badge, eventName, facts, field, fmt, fmtTime, h, panel, table } from "../dom.js";
import { who } from "./audit.js";
import { TASK_FIELDS } from "./board.js";
import { may, session } from "../session.js";
import { enumLabel, eventLabel, statusLabel, t } from "../words.js";

// What the session recorded, as the API types it (TaskDetail.record).
const RECORD_FIELDS = `conclusion { outcome at } fieldInvestigation { at } identityChecks { idNumber livenessPassed similarity threshold passed at }
  recordings { recordingName idNumber at } infoEntry { at } snapshots { category storageRef at } documents { documentId name signedRef signedAt }
  chat { sender text at } remarks { text at }
  loanInfo { amount termMonths annualRate disbursementMethod repaymentBank repaymentAccount repaymentDay firstRepaymentDate }
  calls { callNo seatNo end answeredAt endedAt talkSeconds legs { leg name idNumber rejoin end talkSeconds } }`;

// 001 2.2.1 多席呼入: who is in the interview room now, and who left during
// this call (and until when they may rejoin it).
async function roomPanel(task) {
  if (task.status !== "IN_PROGRESS" || !may("Query.interviewRoom")) return null;
  const data = await gql(
    `query($id: ID!) { interviewRoom(taskId: $id) { leg name idNumber roles present rejoined joinedAt leftAt end rejoinUntil } }`,
    { id: task.id },
  );
  const members = data.interviewRoom;
  if (!members.length) return panel(t("task.room"), h("p", { class: "muted", id: "room" }, t("none")));
  return panel(t("task.room"), h("div", { id: "room" }, table(
    [t("f.name"), t("f.idNumber"), t("f.roles"), t("f.status"), t("f.at")],
    members.map((m) => h("tr", { "data-leg": String(m.leg) },
      h("td", {}, `#${m.leg} ${m.name}`, m.rejoined ? ` (${t("task.roomRejoined")})` : ""),
      h("td", { class: "mono" }, m.idNumber),
      h("td", {}, m.roles.map((r) => enumLabel("ParticipantRole", r)).join("、")),
      h("td", {}, m.present ? badge("IN_PROGRESS", t("task.roomPresent")) : [t("task.roomLeft"), " ", enumLabel("CallEnd", m.end)]),
      h("td", { class: "muted" }, fmt(m.joinedAt), m.leftAt ? `–${fmtTime(m.leftAt)}` : "",
        m.rejoinUntil ? ` · ${t("task.roomRejoinUntil")} ${fmtTime(m.rejoinUntil)}` : ""),
    )),
  )));
}

async function taskPage(id) {
  const data = await gql(
    `query($id: ID!) { taskDetail(id: $id) { task { ${TASK_FIELDS} allowedActions } record { ${RECORD_FIELDS} } timeline { at eventType actorId actorRole onBehalfOfId onBehalfOfRole } } }`,
    { id },
  );
  if (!data.taskDetail) throw new ApiError(`${t("task.title")} ${id}`, "NOT_FOUND");
  const { task, timeline } = data.taskDetail;
  const detail = data.taskDetail.record;
  const done = {
    FIELD_INVESTIGATION: Boolean(detail.fieldInvestigation),
    IDENTITY_CHECK: Boolean(detail.identityChecks?.length),
    VIDEO_WITNESS: Boolean(detail.recordings?.length),
    INFO_ENTRY: Boolean(detail.infoEntry),
  };
  const list = (items, render) => (items?.length ? h("ul", {}, items.map((item) => h("li", {}, render(item)))) : h("p", { class: "muted" }, t("none")));
  const auditLink = may("Query.auditTrail") ? h("a", { href: `#/audit?type=interview-task&id=${task.id}`, id: "audit-link" }, t("task.audit")) : null;
  const left = [
    panel(
      t("task.facts"),
      facts([
        [t("f.status"), badge(task.status, statusLabel(task.status))],
        [t("f.contractNo"), task.contractNo],
        [t("f.kind"), enumLabel("TaskKind", task.kind)],
        [t("f.productCode"), task.productCode],
        [t("f.channelCode"), task.channelCode],
        [t("f.managerId"), task.managerId],
        [t("f.property"), task.propertyLocation
          ? [task.propertyLocation.province, task.propertyLocation.city, task.propertyLocation.district, task.propertyLocation.address].filter(Boolean).join(" ")
          : null],
        [t("f.seat"), task.seatNo],
        [t("f.appointment"), task.appointmentStart ? `${fmt(task.appointmentStart)}–${fmtTime(task.appointmentEnd)}` : null],
        [t("f.reschedules"), String(task.rescheduleCount)],
        [t("f.booking"), task.bookingError ? `${task.bookingStatus ?? ""} ${task.bookingError}` : task.bookingStatus],
        [t("f.cancelReason"), task.cancelReason],
        [t("f.createdAt"), fmt(task.createdAt)],
        [t("f.version"), String(task.version)],
      ]),
      h("p", {}, h("a", { href: `#/lineage/${encodeURIComponent(task.contractNo)}`, id: "lineage-link" }, t("task.lineage")), auditLink ? [" · ", auditLink] : null),
    ),
    panel(
      t("task.participants"),
      table(
        [t("f.name"), t("f.idNumber"), t("f.phone"), t("f.roles"), t("f.maritalStatus"), t("f.relation")],
        task.participants.map((p) =>
          h("tr", {}, h("td", {}, p.name, p.isMainBorrower ? ` (${t("f.mainBorrower")})` : ""), h("td", { class: "mono" }, p.idNumber),
            h("td", { class: "mono" }, p.phone), h("td", {}, p.roles.map((r) => enumLabel("ParticipantRole", r)).join("、")),
            h("td", {}, enumLabel("MaritalStatus", p.maritalStatus)), h("td", {}, p.relationToBorrower ?? "")),
        ),
      ),
    ),
    await roomPanel(task),
    panel(t("task.steps"), h("ul", { class: "steps", id: "steps" }, task.requiredSteps.map((s) => h("li", { class: done[s] ? "done" : null }, done[s] ? "✓ " : "○ ", enumLabel("TaskStep", s))))),
    panel(t("task.conclusion"), detail.conclusion
      ? facts([[t("f.result"), enumLabel("Outcome", detail.conclusion.outcome)], [t("f.at"), fmt(detail.conclusion.at)]])
      : h("p", { class: "muted" }, t("none"))),
    panel(t("task.snapshots"), list(detail.snapshots, (s) => [h("b", {}, enumLabel("SnapshotCategory", s.category)), " ", h("span", { class: "mono" }, s.storageRef), " ", h("span", { class: "muted" }, fmt(s.at))])),
    panel(t("task.documents"), list(detail.documents, (d) => [d.name, " ", h("span", { class: "mono" }, d.documentId), " — ",
      d.signedRef ? `${t("task.signed")} ${fmt(d.signedAt)}` : t("task.unsigned")])),
    panel(t("task.identity"), list(detail.identityChecks, (c) => [h("span", { class: "mono" }, c.idNumber), " ",
      badge(c.passed ? "PASSED" : "REJECTED", c.passed ? t("yes") : t("no")),
      ` ${t("task.similarity")} ${c.similarity} / ${c.threshold} · ${t("task.liveness")} ${c.livenessPassed ? "✓" : "✗"} `, h("span", { class: "muted" }, fmt(c.at))])),
    panel(t("task.loanInfo"), detail.loanInfo ? h("pre", { class: "json" }, JSON.stringify(detail.loanInfo, null, 2)) : h("p", { class: "muted" }, t("none"))),
    panel(t("task.calls"), list(detail.calls, (c) => [h("b", {}, `#${c.callNo} `), h("span", { class: "mono" }, c.seatNo), ` ${enumLabel("CallEnd", c.end)} `,
      h("span", { class: "muted" }, `${fmt(c.answeredAt)}–${fmtTime(c.endedAt)} · ${c.talkSeconds}s`),
      c.legs?.length ? h("ul", { class: "legs" }, c.legs.map((l) => h("li", {}, `#${l.leg} ${l.name} `, h("span", { class: "mono" }, l.idNumber),
        ` ${enumLabel("CallEnd", l.end)} · ${l.talkSeconds}s`, l.rejoin ? ` (${t("task.roomRejoined")})` : ""))) : null])),
    panel(t("task.chat"), list(detail.chat, (c) => [h("span", { class: "muted" }, fmt(c.at)), " ", h("b", {}, `${enumLabel("ChatSender", c.sender)}: `), c.text])),
    panel(t("task.remarks"), h("div", { id: "remarks" }, list(detail.remarks, (r) => [h("span", { class: "muted" }, fmt(r.at)), " ", r.text])), remarkForm(task)),
  ];
  const right = [
    panel(t("task.actions"), await taskActions(task, timeline)),
    panel(t("task.timeline"), h("ol", { class: "timeline", id: "timeline" }, timeline.map((e) =>
      h("li", { "data-event": e.eventType }, eventName(e.eventType, eventLabel(e.eventType)), h("br"), h("span", { class: "muted" }, `${fmt(e.at)} · ${who(e)}`))))),
  ];
  return [
    h("h1", {}, `${t("task.title")} ${task.contractNo} `, badge(task.status, statusLabel(task.status))),
    h("div", { class: "grid2" }, h("div", {}, left), h("div", {}, right)),
  ];
}

function remarkForm(task) {
  if (!may("Mutation.addRemark")) return null;
  const text = h("textarea", { name: "remark", rows: 2 });
  const button = h("button", { type: "submit" }, t("task.addRemark"));
  return h("form", {
    id: "remark-form",
    onsubmit: (event) => {
      event.preventDefault();
      act(button, () => gql(`mutation($id: ID!, $text: String!) { addRemark(taskId: $id, text: $text) { taskId } }`, { id: task.id, text: text.value }));
    },
  }, field(t("task.remarkText"), text), button);
}

// The actions the API says this user may take on the task now
// (InterviewTask.allowedActions: state, role and ownership decided there).
async function taskActions(task, timeline) {
  const allowed = new Set(task.allowedActions);
  const actions = [];
  // 000: the seat that connected the interview holds the task; other seats
  // see who holds it.
  const holder = task.status === "IN_PROGRESS" ? task.interviewSeatNo : null;
  if (holder && session.claims.role === "SEAT" && holder !== session.claims.sub) {
    actions.push(h("p", { class: "muted", id: "held-by" }, t("task.heldBy").replace("{seat}", holder)));
  }
  if (allowed.has("BOOK_APPOINTMENT")) {
    actions.push(h("h2", {}, t("task.book")), await slotPicker(task, "bookAppointment"));
  }
  if (allowed.has("RESCHEDULE_APPOINTMENT")) {
    // 001: staff reschedule on the borrower's behalf (改约 counted and limited
    // by the write side).
    actions.push(h("details", { id: "reschedule" }, h("summary", {}, `${t("task.reschedule")} (${t("f.reschedules")} ${task.rescheduleCount})`),
      await slotPicker(task, "rescheduleAppointment", ", onBehalfOfBorrower: true")));
  }
  if (allowed.has("START_INTERVIEW")) {
    actions.push(commandButton("startInterview", t("task.start"),
      `mutation($id: ID!, $seat: String!) { startInterview(taskId: $id, seatNo: $seat) { taskId } }`, { id: task.id, seat: session.claims.sub },
      { id: "start-interview", class: "primary" }));
  }
  if (allowed.has("END_CALL")) {
    // The video platform reports the queue and answer times; here the seat ends
    // the call it answered when the interview started.
    const started = [...timeline].reverse().find((e) => e.eventType === "InterviewStarted")?.at ?? new Date().toISOString();
    actions.push(commandButton("endCall", t("task.endCall"),
      `mutation($id: ID!, $q: DateTime!, $a: DateTime!) { endCall(taskId: $id, end: NORMAL, queuedAt: $q, answeredAt: $a) { taskId } }`,
      { id: task.id, q: started, a: started }, { id: "end-call" }));
  }
  if (allowed.has("CONCLUDE_INTERVIEW")) {
    const conclude = `mutation($id: ID!, $outcome: InterviewOutcome!) { concludeInterview(taskId: $id, outcome: $outcome) { taskId } }`;
    actions.push(h("h2", {}, t("task.conclude")),
      h("div", { class: "toolbar" },
        commandButton("concludeInterview", t("task.pass"), conclude, { id: task.id, outcome: "PASS" }, { id: "conclude-pass", class: "primary" }),
        commandButton("concludeInterview", t("task.doubtful"), conclude, { id: task.id, outcome: "DOUBTFUL" }, { id: "conclude-doubtful" })));
  }
  if (allowed.has("RELEASE_TASK")) {
    const reason = h("input", { name: "releaseReason", size: 18, placeholder: t("task.releaseReason") });
    actions.push(h("div", { class: "toolbar" }, reason, commandButton("releaseTask", t("task.release"),
      `mutation($id: ID!, $reason: String!) { releaseTask(taskId: $id, reason: $reason) { taskId } }`,
      () => ({ id: task.id, reason: reason.value }), { id: "release-task" })));
  }
  if (allowed.has("CANCEL_TASK")) {
    const reason = h("input", { name: "cancelReason", size: 18, placeholder: t("task.cancelReasonPrompt") });
    const button = commandButton("cancelInterviewTask", t("task.cancelTask"),
      `mutation($id: ID!, $reason: String!) { cancelInterviewTask(id: $id, reason: $reason) { taskId } }`,
      () => ({ id: task.id, reason: reason.value }), { class: "danger", id: "cancel-task" });
    actions.push(h("div", { class: "toolbar" }, reason, button));
  }
  return actions.length ? actions : h("p", { class: "muted" }, t("none"));
}

// Free slots of the next seven days as buttons; a click books (or reschedules) it.
async function slotPicker(task, mutation, extra = "") {
  const from = new Date();
  const to = new Date(from.getTime() + 7 * 86400 * 1000);
  const data = await gql(
    `query($from: DateTime!, $to: DateTime!, $p: String, $c: String) { freeSlots(from: $from, to: $to, productCode: $p, channelCode: $c) { seatNo start end } }`,
    { from: from.toISOString(), to: to.toISOString(), p: task.productCode, c: task.channelCode },
  );
  if (!data.freeSlots.length) return h("p", { class: "muted" }, t("task.noSlots"));
  return h("div", {}, h("p", { class: "muted" }, t("task.slots")), h("div", { class: "slots", id: "slots" },
    data.freeSlots.slice(0, 40).map((slot) => commandButton(mutation, `${fmt(slot.start)} ${slot.seatNo}`,
      `mutation($id: ID!, $seat: String!, $start: DateTime!, $end: DateTime!) { ${mutation}(taskId: $id, seatNo: $seat, start: $start, end: $end${extra}) { taskId } }`,
      { id: task.id, seat: slot.seatNo, start: slot.start, end: slot.end }, { "data-seat": slot.seatNo, "data-start": slot.start }))));
}

export { RECORD_FIELDS, taskPage, remarkForm, taskActions, slotPicker };
