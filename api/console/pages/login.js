// The login page: paste a token.

import { $, banner, field, h } from "../dom.js";
import { render } from "../router.js";
import { decodeClaims, session, TOKEN_KEY } from "../session.js";
import { t } from "../words.js";

function loginPage() {
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
