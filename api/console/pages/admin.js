// Admin: channels, scripts, media, accounts, and the configuration changes
// waiting for a second admin (four eyes).

import { act, commandButton, gql } from "../api.js";
import { badge, field, fmt, h, panel, table } from "../dom.js";
import { may, session } from "../session.js";
import { enumLabel, ENUMS, t } from "../words.js";

const ADMIN_TABS = [
  { tab: "channels", op: "Query.channels", render: channelsTab },
  { tab: "scripts", op: "Query.scripts", render: scriptsTab },
  { tab: "media", op: "Query.mediaAssets", render: mediaTab },
  { tab: "accounts", op: "Query.accounts", render: accountsTab },
  { tab: "changes", op: "Query.changeProposals", render: changesTab },
];

async function adminPage(tab) {
  const tabs = ADMIN_TABS.filter((x) => may(x.op));
  const current = tabs.find((x) => x.tab === tab) ?? tabs[0];
  return [h("h1", {}, t("admin.title")),
    h("nav", { class: "tabs" }, tabs.map((x) => h("a", { href: `#/admin/${x.tab}`, class: x === current ? "active" : null }, t(`admin.${x.tab}`)))),
    current ? panel(null, await current.render()) : null];
}

// A create form of named inputs; `build` turns their values into variables.
function createForm(operation, inputs, query, build) {
  if (!may(`Mutation.${operation}`)) return null;
  const submit = h("button", { type: "submit", class: "primary" }, t("create"));
  return h("form", { class: "inline", id: `${operation}-form`, onsubmit: (event) => {
    event.preventDefault();
    const values = Object.fromEntries(inputs.map(([name, input]) => [name, input.type === "checkbox" ? input.checked : input.value.trim()]));
    act(submit, () => gql(query, build(values)));
  } }, inputs.map(([name, input, label]) => field(label ?? t(`f.${name}`), input)), submit);
}

async function channelsTab() {
  const channels = (await gql(`{ channels { code name orgName orgCode enabled createdAt } }`)).channels;
  const input = (name) => [name, h("input", { name, size: 12 })];
  return [createForm("createChannel", [input("code"), [...input("name"), t("f.channelName")], input("orgName"), input("orgCode"), input("localities")],
    `mutation($code: String!, $input: ChannelInput!) { createChannel(code: $code, input: $input) { code } }`,
    (v) => ({ code: v.code, input: { name: v.name, orgName: v.orgName, orgCode: v.orgCode, localities: v.localities ? v.localities.split(/[,，]/).map((s) => s.trim()).filter(Boolean) : [] } })),
  table([t("f.code"), t("f.channelName"), t("f.orgName"), t("f.orgCode"), t("f.enabled"), t("f.createdAt"), ""], channels.map((c) => {
    const byCode = (op) => `mutation($code: String!) { ${op}(code: $code) { code } }`;
    return h("tr", { "data-channel": c.code }, h("td", {}, c.code), h("td", {}, c.name), h("td", {}, c.orgName), h("td", {}, c.orgCode),
      h("td", {}, c.enabled ? t("yes") : t("no")), h("td", {}, fmt(c.createdAt)),
      h("td", {}, c.enabled ? commandButton("disableChannel", t("disable"), byCode("disableChannel"), { code: c.code })
        : commandButton("enableChannel", t("enable"), byCode("enableChannel"), { code: c.code }),
      " ", commandButton("deleteChannel", t("remove"), byCode("deleteChannel"), { code: c.code }, { class: "danger" })));
  }))];
}

async function scriptsTab() {
  const scripts = (await gql(`{ scripts { code channelCode channelName productCode productName businessKind content isDefault } }`)).scripts;
  const input = (name) => [name, h("input", { name, size: 12 })];
  const byCode = (op) => `mutation($code: String!) { ${op}(code: $code) { code } }`;
  return [createForm("addScript", [input("code"), input("channelCode"), input("productCode"), input("businessKind"), ["content", h("textarea", { name: "content", rows: 2, cols: 40 })]],
    `mutation($code: String!, $input: ScriptInput!) { addScript(code: $code, input: $input) { code } }`,
    (v) => ({ code: v.code, input: { channelCode: v.channelCode, productCode: v.productCode, businessKind: v.businessKind, content: v.content } })),
  table([t("f.code"), t("f.channelCode"), t("f.productCode"), t("f.businessKind"), t("f.content"), t("f.default"), ""], scripts.map((s) =>
    h("tr", { "data-script": s.code }, h("td", {}, s.code), h("td", {}, s.channelCode), h("td", {}, s.productCode), h("td", {}, s.businessKind),
      h("td", {}, s.content), h("td", {}, s.isDefault ? "★" : ""),
      h("td", {}, s.isDefault ? null : commandButton("makeDefaultScript", t("admin.makeDefault"), byCode("makeDefaultScript"), { code: s.code }),
        " ", commandButton("removeScript", t("remove"), byCode("removeScript"), { code: s.code }, { class: "danger" })))))];
}

async function mediaTab() {
  const media = (await gql(`{ mediaAssets { code title category url autoplay noSkip enabled createdAt } }`)).mediaAssets;
  const category = h("select", { name: "category" }, Object.keys(ENUMS.zh.MediaCategory).map((c) => h("option", { value: c }, enumLabel("MediaCategory", c))));
  const byCode = (op) => `mutation($code: String!) { ${op}(code: $code) { code } }`;
  return [createForm("createMedia", [["code", h("input", { name: "code", size: 10 })], ["title", h("input", { name: "title", size: 14 })], ["category", category],
    ["url", h("input", { name: "url", size: 24 })], ["autoplay", h("input", { type: "checkbox", name: "autoplay" })], ["noSkip", h("input", { type: "checkbox", name: "noSkip" })]],
  `mutation($code: String!, $input: MediaInput!) { createMedia(code: $code, input: $input) { code } }`,
  (v) => ({ code: v.code, input: { title: v.title, category: v.category, url: v.url, autoplay: v.autoplay, noSkip: v.noSkip } })),
  table([t("f.code"), t("f.title"), t("f.category"), t("f.url"), t("f.autoplay"), t("f.noSkip"), t("f.enabled"), ""], media.map((m) =>
    h("tr", { "data-media": m.code }, h("td", {}, m.code), h("td", {}, m.title), h("td", {}, enumLabel("MediaCategory", m.category)), h("td", { class: "mono" }, m.url),
      h("td", {}, m.autoplay ? t("yes") : t("no")), h("td", {}, m.noSkip ? t("yes") : t("no")), h("td", {}, m.enabled ? t("yes") : t("no")),
      h("td", {}, m.enabled ? commandButton("disableMedia", t("disable"), byCode("disableMedia"), { code: m.code }) : commandButton("enableMedia", t("enable"), byCode("enableMedia"), { code: m.code }),
        " ", commandButton("deleteMedia", t("remove"), byCode("deleteMedia"), { code: m.code }, { class: "danger" })))))];
}

async function accountsTab() {
  const accounts = (await gql(`{ accounts { login name phone email role status validFrom createdAt } }`)).accounts;
  const role = h("select", { name: "role" }, session.labels.roles.map((r) => h("option", { value: r }, enumLabel("Role", r))));
  const input = (name) => [name, h("input", { name, size: 12 })];
  const byLogin = (op) => `mutation($login: String!) { ${op}(login: $login) { login } }`;
  return [createForm("createAccount", [input("login"), input("name"), input("phone"), input("email"), ["role", role]],
    `mutation($login: String!, $input: AccountInput!) { createAccount(login: $login, input: $input) { login } }`,
    (v) => ({ login: v.login, input: { name: v.name, phone: v.phone || null, email: v.email || null, role: v.role } })),
  table([t("f.login"), t("f.name"), t("f.phone"), t("f.email"), t("f.role"), t("f.status"), t("f.validFrom"), ""], accounts.map((a) =>
    h("tr", { "data-account": a.login }, h("td", {}, a.login), h("td", {}, a.name), h("td", { class: "mono" }, a.phone ?? ""), h("td", {}, a.email ?? ""),
      h("td", {}, enumLabel("Role", a.role)), h("td", {}, badge(a.status, enumLabel("AccountStatus", a.status))), h("td", {}, fmt(a.validFrom)),
      h("td", {}, a.status === "DELETED" ? null : [
        a.status === "DISABLED" ? commandButton("enableAccount", t("enable"), byLogin("enableAccount"), { login: a.login }) : commandButton("disableAccount", t("disable"), byLogin("disableAccount"), { login: a.login }),
        " ", commandButton("kickAccount", t("kick"), byLogin("kickAccount"), { login: a.login }),
        " ", commandButton("deleteAccount", t("remove"), byLogin("deleteAccount"), { login: a.login }, { class: "danger" })]))))];
}

// Changes proposed under four eyes: a second admin approves; the proposer may withdraw.
async function changesTab() {
  const proposals = (await gql(`{ changeProposals { id operation document variables status proposedBy proposedAt approvedBy failure } }`)).changeProposals;
  const byId = (op) => `mutation($id: ID!) { ${op}(id: $id) { status } }`;
  return table([t("f.operation"), t("f.status"), t("f.proposedBy"), t("f.createdAt"), t("f.document"), ""], proposals.map((p) =>
    h("tr", { "data-proposal": p.id }, h("td", {}, p.operation), h("td", { class: "status" }, enumLabel("ChangeStatus", p.status)),
      h("td", {}, p.proposedBy), h("td", {}, fmt(p.proposedAt)), h("td", {}, h("code", {}, p.document), h("br"), h("code", { class: "variables" }, JSON.stringify(p.variables))),
      h("td", {}, p.status === "PROPOSED"
        ? [p.proposedBy === session.claims?.sub ? null : commandButton("approveChange", t("fourEyes.approve"), byId("approveChange"), { id: p.id }),
          " ", p.proposedBy === session.claims?.sub ? commandButton("withdrawChange", t("fourEyes.withdraw"), byId("withdrawChange"), { id: p.id }) : null]
        : (p.failure ?? (p.approvedBy ? `${t("f.approvedBy")} ${p.approvedBy}` : ""))))));
}

export { ADMIN_TABS, adminPage, createForm, channelsTab, scriptsTab, mediaTab, accountsTab, changesTab };
