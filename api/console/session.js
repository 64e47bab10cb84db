// Who is logged in, the language, and the role rules (from
// /console/labels.json) that decide which pages and buttons show.
//
// Two ways in (GET /auth/session says which): through the bank's identity
// provider, where the server holds the tokens and the browser only an
// HttpOnly cookie plus the session's CSRF token; or, in the demo and in
// development, a pasted bearer token kept in sessionStorage.

const TOKEN_KEY = "facesign.console.token";
const LANG_KEY = "facesign.console.lang";
const ROLE_KEY = "facesign.console.role";

const session = {
  mode: "token",
  token: sessionStorage.getItem(TOKEN_KEY),
  csrf: null,
  roles: [],
  lang: localStorage.getItem(LANG_KEY) || "zh",
  claims: null,
  labels: null,
  notice: "",
};

function decodeClaims(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = decodeURIComponent(atob(part).split("").map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`).join(""));
    return JSON.parse(json);
  } catch {
    return null;
  }
}

// Reads how this server signs the console in and, through the provider, who
// is signed in; the role acted in is the one chosen last, else the first.
async function loadSession() {
  const response = await fetch("/auth/session", { credentials: "same-origin" });
  const info = response.ok ? await response.json() : { mode: "token" };
  session.mode = info.mode === "provider" ? "provider" : "token";
  if (session.mode === "token") {
    session.claims = session.token ? decodeClaims(session.token) : null;
    return;
  }
  session.token = null;
  if (!info.signedIn) {
    session.claims = null;
    session.csrf = null;
    return;
  }
  session.csrf = info.csrf;
  session.roles = info.roles ?? [];
  const chosen = sessionStorage.getItem(ROLE_KEY);
  const role = session.roles.includes(chosen) ? chosen : session.roles[0];
  session.claims = { sub: info.sub, role, exp: info.expiresAt, multiFactor: info.multiFactor };
}

// Acts in another of the signed-in person's roles.
function chooseRole(role) {
  if (!session.roles.includes(role)) return;
  sessionStorage.setItem(ROLE_KEY, role);
  session.claims = { ...session.claims, role };
}

function signedIn() {
  if (session.mode === "provider") return Boolean(session.claims && session.csrf);
  return Boolean(session.token && session.claims && session.claims.exp * 1000 >= Date.now());
}

// What every request carries: the bearer token, or the CSRF token and role
// of a session the cookie names.
function credentials() {
  if (session.mode === "provider") {
    return { "x-facesign-csrf": session.csrf ?? "", "x-facesign-role": session.claims?.role ?? "" };
  }
  return { authorization: `Bearer ${session.token}` };
}

function may(operation) {
  const roles = session.labels?.rules?.[operation];
  return Boolean(roles && session.claims && roles.includes(session.claims.role));
}

export { TOKEN_KEY, LANG_KEY, session, decodeClaims, loadSession, chooseRole, signedIn, credentials, may };
