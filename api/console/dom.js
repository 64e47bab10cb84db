// Building the page: `h()` makes elements from text nodes only (never
// innerHTML), so data from the read models cannot become markup; times are
// shown in Asia/Shanghai (UTC+8 all year) whatever the browser's zone.

import { t } from "./words.js";

const SHANGHAI_MS = 8 * 3600 * 1000;

const SVG_TAGS = ["svg", "g", "rect", "line", "path", "text", "polyline", "circle", "title", "marker", "defs", "polygon"];

// An element with attributes and children; `svg:a` for a link inside SVG.
function h(tag, attrs = {}, ...children) {
  const svg = SVG_TAGS.includes(tag) || tag.startsWith("svg:");
  const el = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag.replace(/^svg:/, "")) : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value == null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "style") Object.assign(el.style, value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const $ = (selector, root = document) => root.querySelector(selector);

function tableHead(headers) {
  return h("thead", {}, h("tr", {}, headers.map((x) => h("th", {}, x))));
}

function table(headers, rows, empty = t("none")) {
  if (!rows.length) return h("p", { class: "muted" }, empty);
  return h("table", {}, tableHead(headers), h("tbody", {}, rows));
}

function badge(code, text) {
  return h("span", { class: `badge ${code}`, "data-status": code }, text);
}

function field(label, input) {
  return h("label", { class: "field" }, label, input);
}

// An event named in the bank's words, with its stored name beside it (what
// the API, Kafka and an auditor's queries use).
function eventName(type, label) {
  return [h("b", { class: "event-label" }, label), " ", h("span", { class: "muted mono" }, type)];
}

function facts(pairs) {
  return h("dl", { class: "facts" }, pairs.filter(([, v]) => v != null && v !== "").map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

function panel(title, ...content) {
  return h("section", { class: "panel" }, title ? h("h2", {}, title) : null, content);
}

function banner(message, kind = "error") {
  const el = $("#banner");
  el.className = kind === "error" ? "" : "info";
  el.textContent = message;
  el.hidden = !message;
}

function shanghaiParts(iso) {
  const d = new Date(Date.parse(iso) + SHANGHAI_MS);
  return { y: d.getUTCFullYear(), m: d.getUTCMonth() + 1, d: d.getUTCDate(), hh: d.getUTCHours(), mm: d.getUTCMinutes(), dow: (d.getUTCDay() + 6) % 7 };
}

function fmt(iso) {
  if (!iso) return "";
  return new Date(Date.parse(iso) + SHANGHAI_MS).toISOString().slice(0, 16).replace("T", " ");
}

function fmtTime(iso) {
  return fmt(iso).slice(11);
}

// A Beijing wall-clock date (YYYY-MM-DD) plus `hours`, as a UTC ISO string.
function shanghaiDayToIso(day, hours = 0) {
  return new Date(Date.parse(`${day}T00:00:00Z`) - SHANGHAI_MS + hours * 3600 * 1000).toISOString();
}

function todayShanghai() {
  return new Date(Date.now() + SHANGHAI_MS).toISOString().slice(0, 10);
}

function addDays(day, n) {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86400 * 1000).toISOString().slice(0, 10);
}

export { SHANGHAI_MS, SVG_TAGS, $, h, tableHead, table, badge, field, facts, panel, banner, shanghaiParts, fmt, fmtTime, shanghaiDayToIso, todayShanghai, addDays, eventName };
