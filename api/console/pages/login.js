// The login page: through the bank's identity provider, or (demo and
// development) by pasting a token.

import { $, banner, field, h } from "../dom.js";
import { render } from "../router.js";
import { decodeClaims, session, TOKEN_KEY } from "../session.js";
import { t } from "../words.js";

// Through the provider: one button; the server runs the sign-in and brings
// the browser back to the page it was sent from.
function providerLogin() {
  const back = location.hash.startsWith("#/") && location.hash !== "#/login" ? location.hash : "#/";
  const button = h("button", { class: "primary", type: "button", id: "sso-login" }, t("login.provider"));
  button.addEventListener("click", () => location.assign(`/auth/login?return=${encodeURIComponent(back)}`));
  $("#page").replaceChildren(h("div", { class: "login panel" },
    h("h1", {}, t("login.title")),
    h("p", { class: "muted" }, t("login.providerHelp")),
    h("p", {}, button)));
  if (session.notice) banner(session.notice);
  session.notice = "";
}

function loginPage() {
  if (session.mode === "provider") return providerLogin();
  const input = h("textarea", { id: "token", rows: 5, spellcheck: "false", autocomplete: "off" });
  const form = h(
    "form",
    {
      id: "login",
      onsubmit: (event) => {
        event.preventDefault();
        const token = input.value.trim().replace(/^Bearer\s+/i, "");
        const claims = decodeClaims(token);
        if (!claims?.sub || !claims?.role) {
          banner(`${t("login.expired")} [UNAUTHENTICATED]`);
          return;
        }
        sessionStorage.setItem(TOKEN_KEY, token);
        session.token = token;
        session.claims = claims;
        banner("");
        if (location.hash === "#/") render();
        else location.hash = "#/";
      },
    },
    h("h1", {}, t("login.title")),
    h("p", { class: "muted" }, t("login.help")),
    field(t("login.token"), input),
    h("p", {}, h("button", { class: "primary", type: "submit", id: "login-submit" }, t("login"))),
  );
  $("#page").replaceChildren(h("div", { class: "login panel" }, form));
  if (session.notice) banner(session.notice);
  session.notice = "";
}

export { loginPage };
