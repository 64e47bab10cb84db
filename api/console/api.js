// The API client: GraphQL over fetch with the user's token, an
// Idempotency-Key on every mutation, subscriptions over graphql-transport-ws.

import { banner, h } from "./dom.js";
import { logout, render, stepUp } from "./router.js";
import { credentials, loadSession, may, session, signedIn } from "./session.js";
import { t } from "./words.js";

class ApiError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

// Error messages come back in the console's language (Chinese by default).
function language() {
  return session.lang === "en" ? "en" : "zh-CN";
}

// A fresh Idempotency-Key (crypto.randomUUID needs a secure context; the
// random bytes do not).
function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// Sends one request; a mutation carries an Idempotency-Key and is retried with
// the same key when its answer is lost (network failure, TIMEOUT), so a retry
// never runs a command twice.
async function send(query, variables) {
  const mutation = query.trimStart().startsWith("mutation");
  const headers = {
    "content-type": "application/json",
    ...credentials(),
    "accept-language": language(),
  };
  if (mutation) headers["idempotency-key"] = newKey();
  const body = JSON.stringify({ query, variables });
  for (let attempt = 1; ; attempt += 1) {
    try {
      const response = await fetch("/graphql", { method: "POST", headers, body, credentials: "same-origin" });
      if (!mutation || attempt >= 3 || (response.status !== 503 && response.status !== 409)) return response;
    } catch (error) {
      if (!mutation || attempt >= 3) throw new ApiError(String(error.message ?? error), "NETWORK");
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function gql(query, variables = {}, reread = false) {
  const response = await send(query, variables);
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`HTTP ${response.status}`, `HTTP_${response.status}`);
  }
  if (body.errors?.length) {
    const error = body.errors[0];
    const code = error.extensions?.code ?? "ERROR";
    const reason = error.extensions?.reason;
    if (code === "UNAUTHENTICATED") {
      // Through the provider the session may live on under a new CSRF token
      // (another tab signed in again): read it once before giving up.
      if (session.mode === "provider" && !reread) {
        await loadSession();
        if (signedIn()) return gql(query, variables, true);
      }
      logout(t("login.expired"));
    }
    // Issue 34: what matters most needs a multi-factor login; through the
    // provider the console asks it for one and comes back to this page, with
    // a pasted token the caller logs in again with a multi-factor one.
    if (reason === "STEP_UP_REQUIRED") {
      if (session.mode === "provider") stepUp();
      else logout(t("login.stepUp"));
    }
    // Four eyes: a configuration change made here is proposed instead, for
    // a second admin to approve (系统管理 › 变更复核).
    if (reason === "FOUR_EYES" && query.trimStart().startsWith("mutation")) {
      await gql(`mutation($document: String!, $variables: JSON) { proposeChange(document: $document, variables: $variables) { id } }`,
        { document: query, variables });
      throw new ApiError(t("fourEyes.proposed"), "PROPOSED");
    }
    throw new ApiError(error.message, code);
  }
  return body.data;
}

// Runs a mutation from a button or form: disables it while running, shows the
// API's error (message and code) and leaves the page as it was on failure.
async function act(button, work, then = render) {
  if (button) button.disabled = true;
  try {
    await work();
    banner(t("done"), "info");
    await then();
  } catch (error) {
    banner(`${error.message} [${error.code ?? "ERROR"}]`);
  } finally {
    if (button) button.disabled = false;
  }
}

// A button that runs one command through `act`, or nothing when the role may
// not run it. `variables` may be a function, read when the button is clicked.
function commandButton(operation, label, query, variables, attrs = {}) {
  if (!may(`Mutation.${operation}`)) return null;
  const button = h("button", { type: "button", "data-op": operation, ...attrs }, label);
  button.addEventListener("click", () =>
    act(button, () => gql(query, typeof variables === "function" ? variables() : variables)));
  return button;
}

// A `graphql-transport-ws` subscription that reconnects until disposed.
function subscribe(query, variables, onData, onLive) {
  let socket;
  let disposed = false;
  const open = () => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/graphql/ws`, "graphql-transport-ws");
    socket.onopen = () =>
      socket.send(JSON.stringify({
        type: "connection_init",
        payload: session.mode === "provider"
          ? { csrf: session.csrf, role: session.claims?.role, acceptLanguage: language() }
          : { authorization: `Bearer ${session.token}`, acceptLanguage: language() },
      }));
    socket.onmessage = (message) => {
      const msg = JSON.parse(message.data);
      if (msg.type === "connection_ack") {
        socket.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query, variables } }));
        onLive(true);
      } else if (msg.type === "next" && msg.payload?.data) {
        onData(msg.payload.data);
      } else if (msg.type === "ping") {
        socket.send(JSON.stringify({ type: "pong" }));
      } else if (msg.type === "error" || msg.payload?.errors) {
        const error = (msg.payload?.errors ?? msg.payload ?? [])[0];
        banner(`${error?.message ?? "subscription error"} [${error?.extensions?.code ?? "ERROR"}]`);
      }
    };
    socket.onclose = () => {
      onLive(false);
      if (!disposed) setTimeout(open, 2000);
    };
  };
  open();
  return () => {
    disposed = true;
    socket?.close();
  };
}

export { ApiError, newKey, send, gql, act, commandButton, subscribe };
