// The task board (live) and the new-task form.

import { act, gql, subscribe } from "../api.js";
import { $, addDays, badge, field, fmt, fmtTime, h, panel, shanghaiDayToIso, tableHead } from "../dom.js";
import { go, onLeave } from "../router.js";
import { may, session } from "../session.js";
import { enumLabel, ENUMS, statusLabel, t } from "../words.js";

const TASK_FIELDS = `id contractNo kind status statusLabel productCode channelCode managerId borrowerName seatNo interviewSeatNo
  appointmentStart appointmentEnd rescheduleCount bookingStatus bookingError cancelReason createdAt updatedAt version
  requiredSteps participants { name idType idNumber phone roles isMainBorrower maritalStatus relationToBorrower }
  propertyLocation { province city district address }`;

const FILTERS = ["contractNo", "seatNo", "productCode", "channelCode"];

function taskRow(task) {
  return h(
    "tr",
    { "data-task": task.id },
    h("td", {}, h("a", { href: `#/task/${task.id}` }, task.contractNo)),
    h("td", {}, task.borrowerName),
    h("td", {}, enumLabel("TaskKind", task.kind)),
    h("td", {}, `${task.productCode} / ${task.channelCode}`),
    h("td", {}, task.seatNo ?? ""),
    h("td", {}, task.appointmentStart ? `${fmt(task.appointmentStart)}–${fmtTime(task.appointmentEnd)}` : ""),
    h("td", {}, badge(task.status, statusLabel(task.status))),
    h("td", {}, fmt(task.updatedAt)),
  );
}

function matchesFilter(task, status, filter) {
  if (status && task.status !== status) return false;
  if ((filter.from || filter.to) && !task.appointmentStart) return false;
  const start = Date.parse(task.appointmentStart);
  if (filter.from && start < Date.parse(filter.from)) return false;
  if (filter.to && start >= Date.parse(filter.to)) return false;
  return FILTERS.every((key) => !filter[key] || task[key] === filter[key]);
}

async function boardPage(_arg, params) {
  const status = params.get("status") || null;
  const filter = Object.fromEntries(FILTERS.map((k) => [k, params.get(k) || null]));
  // Appointment days, Beijing time: from the first day's midnight to the day after the last.
  const fromDay = params.get("from") || "";
  const toDay = params.get("to") || "";
  filter.from = fromDay ? shanghaiDayToIso(fromDay) : null;
  filter.to = toDay ? shanghaiDayToIso(addDays(toDay, 1)) : null;
  const after = params.get("after") || null;
  const data = await gql(
    `query($first: Int, $after: String, $status: TaskStatus, $filter: TaskFilterInput!) {
      tasks(first: $first, after: $after, status: $status, filter: $filter) {
        pageInfo { hasNextPage endCursor } nodes { ${TASK_FIELDS} } } }`,
    { first: 25, after, status, filter },
  );
  const tbody = h("tbody", {}, data.tasks.nodes.map(taskRow));
  const live = h("span", { class: "live off", id: "live" }, t("offline"));
  const statusSelect = h(
    "select",
    { name: "status" },
    h("option", { value: "" }, t("f.all")),
    Object.keys(session.labels.taskStatus).map((s) => h("option", { value: s, selected: s === status }, statusLabel(s))),
  );
  const inputs = FILTERS.map((key) => h("input", { name: key, value: filter[key] ?? "", size: 12 }));
  inputs.push(h("input", { name: "from", type: "date", value: fromDay }), h("input", { name: "to", type: "date", value: toDay }));
  const form = h(
    "form",
    {
      class: "inline",
      id: "board-filter",
      onsubmit: (event) => {
        event.preventDefault();
        const next = { status: statusSelect.value };
        inputs.forEach((input) => (next[input.name] = input.value.trim()));
        go("board", "", next);
      },
    },
    field(t("f.status"), statusSelect),
    inputs.map((input) => field(t(input.type === "date" ? `f.appointment.${input.name}` : `f.${input.name}`), input)),
    h("button", { type: "submit", class: "primary" }, t("search")),
    h("button", { type: "button", onclick: () => go("board") }, t("reset")),
  );
  if (!after && may("Subscription.taskChanged")) {
    // Live: a changed task replaces its row; a new one that matches the filter
    // goes on top (the board is newest first).
    onLeave(
      subscribe(
        `subscription { taskChanged { ${TASK_FIELDS} } }`,
        {},
        ({ taskChanged: task }) => {
          const existing = tbody.querySelector(`tr[data-task="${CSS.escape(task.id)}"]`);
          const row = taskRow(task);
          row.classList.add("flash");
          if (existing) {
            if (matchesFilter(task, status, filter)) existing.replaceWith(row);
            else existing.remove();
          } else if (matchesFilter(task, status, filter)) {
            tbody.prepend(row);
          }
        },
        (on) => {
          live.className = on ? "live" : "live off";
          live.textContent = on ? `● ${t("live")}` : t("offline");
        },
      ),
    );
  }
  const headers = ["f.contractNo", "f.borrower", "f.kind", "f.productCode", "f.seat", "f.appointment", "f.status", "f.updatedAt"].map(t);
  const pager = h(
    "div",
    { class: "toolbar" },
    after ? h("button", { type: "button", onclick: () => go("board", "", { ...Object.fromEntries(params), after: "" }) }, t("first")) : null,
    data.tasks.pageInfo.hasNextPage
      ? h("button", { type: "button", onclick: () => go("board", "", { ...Object.fromEntries(params), after: data.tasks.pageInfo.endCursor }) }, t("next"))
      : null,
  );
  return [
    h("div", { class: "toolbar" }, h("h1", {}, t("board.title")), live,
      may("Mutation.createInterviewTask") ? h("a", { href: "#/new", id: "new-task" }, h("button", { type: "button", class: "primary" }, t("board.new"))) : null),
    panel(null, form, h("table", { id: "board" }, tableHead(headers), tbody), pager),
  ];
}

function participantRow() {
  const roleSelect = h("select", { name: "role" }, Object.keys(ENUMS.zh.ParticipantRole).map((r) => h("option", { value: r }, enumLabel("ParticipantRole", r))));
  return h(
    "div",
    { class: "toolbar participant" },
    field(t("f.name"), h("input", { name: "name", required: true, size: 10 })),
    field(t("f.idNumber"), h("input", { name: "idNumber", required: true, size: 20 })),
    field(t("f.phone"), h("input", { name: "phone", required: true, size: 12 })),
    field(t("f.roles"), roleSelect),
    field(t("f.maritalStatus"), h("select", { name: "maritalStatus" }, h("option", { value: "" }, "—"),
      Object.keys(ENUMS.zh.MaritalStatus).map((m) => h("option", { value: m }, enumLabel("MaritalStatus", m))))),
    field(t("f.relation"), h("input", { name: "relationToBorrower", size: 8 })),
  );
}

function newTaskPage() {
  const rows = h("div", { id: "participants" }, participantRow());
  const kind = h("select", { name: "kind" }, Object.keys(ENUMS.zh.TaskKind).map((k) => h("option", { value: k }, enumLabel("TaskKind", k))));
  const input = (name, value = "") => h("input", { name, value, required: true, size: 16 });
  const contractNo = input("contractNo");
  const productCode = input("productCode", "YXD");
  const channelCode = input("channelCode", "YYZX");
  const managerId = input("managerId", session.claims.role === "ACCOUNT_MANAGER" ? session.claims.sub : "");
  // 房产位置 (001 2.3.1): optional, but all of 省/市/区县 once one is given.
  const place = (name, size) => h("input", { name, size });
  const province = place("province", 8);
  const city = place("city", 8);
  const district = place("district", 8);
  const address = place("address", 24);
  const submit = h("button", { type: "submit", class: "primary", id: "create-task" }, t("create"));
  const form = h(
    "form",
    {
      id: "new-task-form",
      onsubmit: (event) => {
        event.preventDefault();
        const participants = [...rows.querySelectorAll(".participant")].map((row) => ({
          name: $("[name=name]", row).value.trim(),
          idNumber: $("[name=idNumber]", row).value.trim(),
          phone: $("[name=phone]", row).value.trim(),
          roles: [$("[name=role]", row).value],
          maritalStatus: $("[name=maritalStatus]", row).value || null,
          relationToBorrower: $("[name=relationToBorrower]", row).value.trim() || null,
        }));
        const located = [province, city, district, address].some((i) => i.value.trim());
        const propertyLocation = located
          ? { province: province.value.trim(), city: city.value.trim(), district: district.value.trim(), address: address.value.trim() || null }
          : null;
        let id;
        act(
          submit,
          async () => {
            const data = await gql(
              `mutation($input: CreateInterviewTaskInput!) { createInterviewTask(input: $input) { taskId } }`,
              { input: { contractNo: contractNo.value.trim(), kind: kind.value, productCode: productCode.value.trim(), channelCode: channelCode.value.trim(), managerId: managerId.value.trim(), participants, propertyLocation } },
            );
            id = data.createInterviewTask.taskId;
          },
          async () => go("task", id),
        );
      },
    },
    h("div", { class: "toolbar" }, field(t("f.contractNo"), contractNo), field(t("f.kind"), kind), field(t("f.productCode"), productCode),
      field(t("f.channelCode"), channelCode), field(t("f.managerId"), managerId)),
    h("div", { class: "toolbar" }, field(`${t("f.property")} · ${t("f.province")}`, province), field(t("f.city"), city),
      field(t("f.district"), district), field(t("f.address"), address)),
    h("h2", {}, t("task.participants")),
    rows,
    h("p", {}, h("button", { type: "button", onclick: () => rows.append(participantRow()) }, t("new.addParticipant")), " ", submit),
  );
  return [h("h1", {}, t("new.title")), panel(null, form)];
}

export { TASK_FIELDS, FILTERS, taskRow, matchesFilter, boardPage, participantRow, newTaskPage };
