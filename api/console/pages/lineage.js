// A contract's chain of tasks across reversed flows.

import { gql } from "../api.js";
import { field, fmt, h, panel, table } from "../dom.js";
import { go } from "../router.js";
import { enumLabel, statusLabel, t } from "../words.js";

async function lineagePage(contractNo) {
  const input = h("input", { name: "contractNo", value: contractNo ?? "", size: 20 });
  const form = h("form", { class: "inline", onsubmit: (e) => { e.preventDefault(); go("lineage", input.value.trim()); } },
    field(t("f.contractNo"), input), h("button", { type: "submit", class: "primary" }, t("search")));
  const head = [h("h1", {}, t("lineage.title")), panel(null, h("p", { class: "muted" }, t("lineage.help")), form)];
  if (!contractNo) return head;
  const data = await gql(
    `query($c: String!) { taskLineage(contractNo: $c) { taskId round supersedes supersededBy transition reason actorId actorRole createdAt supersededTransition supersededReason supersededAt } }`,
    { c: contractNo },
  );
  const entries = data.taskLineage;
  // The board has the contract's tasks with their statuses, in one query.
  const board = await gql(`query($c: String!) { tasks(first: 100, filter: { contractNo: $c }) { nodes { id status } } }`, { c: contractNo });
  const statuses = Object.fromEntries(board.tasks.nodes.map((task) => [task.id, task.status]));
  return [...head, panel(contractNo, lineageChart(entries, statuses), table(
    [t("f.round"), "ID", t("f.transition"), t("f.reason"), t("f.actor"), t("f.createdAt")],
    entries.map((e) => h("tr", {}, h("td", {}, String(e.round)), h("td", { class: "mono" }, h("a", { href: `#/task/${e.taskId}` }, e.taskId)),
      h("td", {}, e.transition), h("td", {}, e.reason ?? ""), h("td", {}, `${e.actorId} (${enumLabel("Role", e.actorRole)})`), h("td", {}, fmt(e.createdAt)))),
  ))];
}

// The chain as SVG: one box per task, left to right by round, an arrow from a
// task to the one that superseded it, labelled with how and why.
function lineageChart(entries, statuses) {
  const boxW = 190, boxH = 84, gap = 120, pad = 20;
  const width = pad * 2 + entries.length * boxW + Math.max(0, entries.length - 1) * gap;
  const svg = h("svg", { id: "lineage-chart", width, height: boxH + pad * 2 + 30, viewBox: `0 0 ${width} ${boxH + pad * 2 + 30}`, role: "img" },
    h("defs", {}, h("marker", { id: "arrow", markerWidth: 10, markerHeight: 10, refX: 9, refY: 5, orient: "auto", markerUnits: "userSpaceOnUse" }, h("path", { d: "M0,0 L10,5 L0,10 z", fill: "#486581" }))));
  const x = (i) => pad + i * (boxW + gap);
  entries.forEach((e, i) => {
    const status = statuses[e.taskId];
    const link = h("svg:a", { href: `#/task/${e.taskId}`, "data-task": e.taskId },
      h("rect", { x: x(i), y: pad, width: boxW, height: boxH, rx: 6, fill: status === "SUPERSEDED" ? "#edf2f7" : "#ebf8ff", stroke: "#1d5fbf" }),
      h("text", { x: x(i) + 10, y: pad + 20, "font-weight": 700, "font-size": 13 }, `#${e.round} ${e.transition}`),
      h("text", { x: x(i) + 10, y: pad + 40, "font-size": 11, fill: "#334e68" }, e.taskId.slice(0, 18)),
      h("text", { x: x(i) + 10, y: pad + 58, "font-size": 12 }, status ? statusLabel(status) : ""),
      h("text", { x: x(i) + 10, y: pad + 75, "font-size": 11, fill: "#66788a" }, fmt(e.createdAt)));
    svg.append(link);
    const next = entries.findIndex((n) => n.taskId === e.supersededBy);
    if (next > i) {
      const x1 = x(i) + boxW, x2 = x(next), y = pad + boxH / 2;
      svg.append(h("line", { x1, y1: y, x2: x2 - 2, y2: y, stroke: "#486581", "stroke-width": 2, "marker-end": "url(#arrow)" }));
      const label = e.supersededTransition ?? "";
      svg.append(h("text", { x: (x1 + x2) / 2, y: y - 8, "text-anchor": "middle", "font-size": 12 }, label));
      if (e.supersededReason) svg.append(h("text", { x: (x1 + x2) / 2, y: y + 18, "text-anchor": "middle", "font-size": 11, fill: "#66788a" }, e.supersededReason.slice(0, 16)));
    }
  });
  return svg;
}

export { lineagePage, lineageChart };
