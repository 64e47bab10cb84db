// Statistics by day.

import { gql } from "../api.js";
import { addDays, field, h, panel, todayShanghai } from "../dom.js";
import { go } from "../router.js";
import { t } from "../words.js";

async function dashboardPage(_arg, params) {
  const to = params.get("to") || todayShanghai();
  const from = params.get("from") || addDays(to, -13);
  const days = (await gql(`query($from: NaiveDate!, $to: NaiveDate!) { statistics(from: $from, to: $to) { day tasksCreated passed doubtful rejected calls averageQueueSeconds averageTalkSeconds } }`,
    { from, to })).statistics;
  const byDay = Object.fromEntries(days.map((d) => [d.day, d]));
  const series = [];
  for (let day = from; day <= to && series.length < 366; day = addDays(day, 1)) {
    series.push(byDay[day] ?? { day, tasksCreated: 0, passed: 0, doubtful: 0, rejected: 0, calls: 0, averageQueueSeconds: 0, averageTalkSeconds: 0 });
  }
  const sum = (key) => series.reduce((n, d) => n + d[key], 0);
  const fromInput = h("input", { type: "date", name: "from", value: from });
  const toInput = h("input", { type: "date", name: "to", value: to });
  const form = h("form", { class: "inline", onsubmit: (e) => { e.preventDefault(); go("dashboard", "", { from: fromInput.value, to: toInput.value }); } },
    field(t("f.from"), fromInput), field(t("f.to"), toInput), h("button", { type: "submit", class: "primary" }, t("search")));
  const card = (label, value) => h("div", { class: "card" }, h("div", { class: "muted" }, label), h("div", { class: "n" }, value));
  return [
    h("h1", {}, t("dashboard.title")), panel(null, form),
    h("div", { class: "cards", id: "totals" }, card(t("s.created"), sum("tasksCreated")), card(t("s.passed"), sum("passed")), card(t("s.doubtful"), sum("doubtful")),
      card(t("s.rejected"), sum("rejected")), card(t("s.calls"), sum("calls"))),
    h("div", { class: "grid2" },
      panel(t("dashboard.outcomes"), barChart("chart-outcomes", series, [["passed", "#2f855a"], ["doubtful", "#d69e2e"], ["rejected", "#c53030"]], true)),
      panel(t("dashboard.created"), barChart("chart-created", series, [["tasksCreated", "#1d5fbf"]], false)),
      panel(t("dashboard.calls"), barChart("chart-calls", series, [["calls", "#319795"]], false)),
      panel(t("dashboard.durations"), barChart("chart-durations", series, [["averageQueueSeconds", "#805ad5"], ["averageTalkSeconds", "#dd6b20"]], false))),
  ];
}

const SERIES_LABELS = { passed: "s.passed", doubtful: "s.doubtful", rejected: "s.rejected", tasksCreated: "s.created", calls: "s.calls", averageQueueSeconds: "s.queue", averageTalkSeconds: "s.talk" };

// Bars per day as SVG: stacked when `stacked`, side by side otherwise.
function barChart(id, series, keys, stacked) {
  const width = 560, height = 220, left = 36, bottom = 28, top = 10;
  const plotH = height - bottom - top;
  const totals = series.map((d) => (stacked ? keys.reduce((n, [k]) => n + d[k], 0) : Math.max(...keys.map(([k]) => d[k]))));
  const max = Math.max(1, ...totals);
  const slot = (width - left) / Math.max(1, series.length);
  const barW = Math.max(2, (slot * 0.7) / (stacked ? 1 : keys.length));
  const y = (v) => top + plotH - (v / max) * plotH;
  const svg = h("svg", { id, width: "100%", viewBox: `0 0 ${width} ${height}`, role: "img" });
  for (const v of [0, max / 2, max]) {
    svg.append(h("line", { x1: left, x2: width, y1: y(v), y2: y(v), stroke: "#d9e2ec" }),
      h("text", { x: left - 4, y: y(v) + 4, "text-anchor": "end", "font-size": 10, fill: "#66788a" }, Number.isInteger(v) ? v : v.toFixed(1)));
  }
  series.forEach((d, i) => {
    const x0 = left + i * slot + slot * 0.15;
    let base = 0;
    keys.forEach(([key, color], k) => {
      const value = d[key];
      if (value > 0) {
        const x = stacked ? x0 : x0 + k * barW;
        const y0 = stacked ? base : 0;
        svg.append(h("rect", { x, y: y(y0 + value), width: barW, height: y(y0) - y(y0 + value), fill: color, "data-day": d.day, "data-key": key },
          h("title", {}, `${d.day} ${t(SERIES_LABELS[key])}: ${Number.isInteger(value) ? value : value.toFixed(1)}`)));
      }
      if (stacked) base += value;
    });
    if (series.length <= 16 || i % Math.ceil(series.length / 16) === 0) {
      svg.append(h("text", { x: x0 + (stacked ? barW : barW * keys.length) / 2, y: height - 10, "text-anchor": "middle", "font-size": 10, fill: "#66788a" }, d.day.slice(5)));
    }
  });
  return [svg, h("div", { class: "legend" }, keys.map(([key, color]) => h("span", {}, h("i", { style: { background: color } }), t(SERIES_LABELS[key]))))];
}

export { dashboardPage, SERIES_LABELS, barChart };
