// Seats' week calendars and sign-in status.

import { commandButton, gql } from "../api.js";
import { addDays, badge, field, fmt, fmtTime, h, panel, shanghaiDayToIso, shanghaiParts, todayShanghai } from "../dom.js";
import { go } from "../router.js";
import { session } from "../session.js";
import { enumLabel, t } from "../words.js";

const HOUR_PX = 36;

// "HH:MM[:SS]" as hours.
function hoursOf(time) {
  const [hh, mm] = time.split(":").map(Number);
  return hh + mm / 60;
}

function mondayOf(day) {
  const dow = (new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7;
  return addDays(day, -dow);
}

async function calendarPage(_arg, params) {
  const seats = (await gql(`{ seats { seatNo name enabled signedIn presence groups skills workingHours { weekday start end } } }`)).seats;
  const seatNo = params.get("seat") || (session.claims.role === "SEAT" ? session.claims.sub : seats[0]?.seatNo);
  const week = mondayOf(params.get("week") || todayShanghai());
  const select = h("select", { name: "seat", onchange: () => go("calendar", "", { seat: select.value, week }) },
    seats.map((s) => h("option", { value: s.seatNo, selected: s.seatNo === seatNo }, `${s.seatNo} ${s.name}`)));
  const toolbar = h("div", { class: "toolbar" }, field(t("f.seat"), select),
    h("button", { type: "button", onclick: () => go("calendar", "", { seat: seatNo, week: addDays(week, -7) }) }, t("calendar.prev")),
    h("b", {}, `${week} – ${addDays(week, 6)}`),
    h("button", { type: "button", onclick: () => go("calendar", "", { seat: seatNo, week: addDays(week, 7) }) }, t("calendar.next")));
  if (!seatNo) return [h("h1", {}, t("calendar.title")), panel(null, h("p", { class: "muted" }, t("none")))];
  const bookings = (await gql(
    `query($s: String!, $from: DateTime!, $to: DateTime!) { seatCalendar(seatNo: $s, from: $from, to: $to) { taskId start end } }`,
    { s: seatNo, from: shanghaiDayToIso(week), to: shanghaiDayToIso(addDays(week, 7)) },
  )).seatCalendar;
  const seat = seats.find((s) => s.seatNo === seatNo);
  // 08:00–20:00, widened to every working period and booking of the week.
  const clock = (iso) => { const p = shanghaiParts(iso); return p.hh + p.mm / 60; };
  const starts = [8, ...(seat?.workingHours ?? []).map((p) => hoursOf(p.start)), ...bookings.map((b) => clock(b.start))];
  const ends = [20, ...(seat?.workingHours ?? []).map((p) => hoursOf(p.end)),
    ...bookings.map((b) => (shanghaiParts(b.end).d === shanghaiParts(b.start).d ? clock(b.end) : 24))];
  const firstHour = Math.floor(Math.min(...starts));
  const lastHour = Math.min(24, Math.ceil(Math.max(...ends)));
  const weekdays = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];
  const grid = h("div", { class: "week", id: "week" }, h("div", { class: "head" }, ""),
    weekdays.map((_, i) => h("div", { class: "head" }, `${enumLabel("Weekday", i)} ${addDays(week, i).slice(5)}`)));
  const hours = h("div", { class: "hours" });
  for (let hour = firstHour; hour < lastHour; hour++) hours.append(h("div", { class: "hour" }, `${String(hour).padStart(2, "0")}:00`));
  grid.append(hours);
  const toPx = (hours) => Math.max(0, Math.min(lastHour - firstHour, hours - firstHour)) * HOUR_PX;
  weekdays.forEach((weekday, i) => {
    const column = h("div", { class: "day", style: { height: `${(lastHour - firstHour) * HOUR_PX}px` } });
    for (const period of seat?.workingHours.filter((p) => p.weekday === weekday) ?? []) {
      const [top, bottom] = [toPx(hoursOf(period.start)), toPx(hoursOf(period.end))];
      column.append(h("div", { class: "working", title: t("calendar.working"), style: { top: `${top}px`, height: `${bottom - top}px` } }));
    }
    for (const booking of bookings.filter((b) => shanghaiParts(b.start).dow === i)) {
      const top = toPx(clock(booking.start));
      const bottom = shanghaiParts(booking.end).d === shanghaiParts(booking.start).d ? toPx(clock(booking.end)) : toPx(24);
      column.append(h("a", { class: "booking", href: `#/task/${booking.taskId}`, "data-task": booking.taskId, title: `${fmt(booking.start)}–${fmtTime(booking.end)}`,
        style: { top: `${top}px`, height: `${Math.max(14, bottom - top)}px` } },
      `${fmtTime(booking.start)} ${booking.taskId.slice(-6)}`));
    }
    grid.append(column);
  });
  return [h("h1", {}, t("calendar.title")), seat ? seatStatus(seat) : null, panel(null, toolbar, grid,
    h("div", { class: "legend" }, h("span", {}, h("i", { style: { background: "#f0fff4" } }), t("calendar.working")), h("span", {}, h("i", { style: { background: "#bee3f8" } }), `${t("calendar.booked")} (${bookings.length})`)))];
}

// The seat's sign-in and 001 status (空闲 / 暂放 / 忙碌 / 话后处理), with the
// changes the role may make; 忙碌 is the system's to set.
function seatStatus(seat) {
  const bySeat = (op, extra = "") => `mutation($s: String!${extra ? ", $p: SeatPresence!" : ""}) { ${op}(seatNo: $s${extra}) { seatNo } }`;
  const actions = seat.signedIn
    ? [commandButton("signOut", t("seat.signOut"), bySeat("signOut"), { s: seat.seatNo }),
      ...["IDLE", "PAUSED"].filter((p) => p !== seat.presence).map((p) =>
        commandButton("setPresence", `${t("seat.setTo")}${enumLabel("Presence", p)}`, bySeat("setPresence", ", presence: $p"), { s: seat.seatNo, p }))]
    : [commandButton("signIn", t("seat.signIn"), bySeat("signIn"), { s: seat.seatNo })];
  return panel(`${seat.seatNo} ${seat.name}`, h("div", { class: "toolbar", id: "seat-status" },
    badge(seat.enabled ? "PASSED" : "CANCELLED", seat.enabled ? t("enable") : t("disable")),
    badge(seat.signedIn ? "OPEN" : "CANCELLED", seat.signedIn ? t("seat.signedIn") : t("seat.signedOut")),
    seat.signedIn ? badge(seat.presence, enumLabel("Presence", seat.presence)) : null,
    h("span", { class: "muted" }, [...seat.groups, ...seat.skills].join(" · ")),
    actions));
}

export { HOUR_PX, hoursOf, mondayOf, calendarPage, seatStatus };
