// Who is logged in: the token, its claims, the language, and the role rules
// (from /console/labels.json) that decide which pages and buttons show.

const TOKEN_KEY = "facesign.console.token";
const LANG_KEY = "facesign.console.lang";

const session = {
  token: sessionStorage.getItem(TOKEN_KEY),
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

function may(operation) {
  const roles = session.labels?.rules?.[operation];
  return Boolean(roles && session.claims && roles.includes(session.claims.role));
}

export { TOKEN_KEY, LANG_KEY, session, decodeClaims, may };
