// Test OpenID Provider for facesign integration tests (oidc-provider 9.x, Node >= 20).
// NOT for production: in-memory storage, static users/clients, any-host http.
//
// Env:
//   IDP_PORT            port on 127.0.0.1 (0 = pick a free one; the real one is printed)
//   IDP_ISSUER          issuer URL (default http://127.0.0.1:<port>); may carry a path
//   IDP_REDIRECT_URIS   comma-separated redirect URIs of facesign-console
//   IDP_POST_LOGOUT_REDIRECT_URIS  comma-separated post-logout redirect URIs
//   IDP_CONSOLE_SECRET  if set, facesign-console is confidential (client_secret_basic/post)
//   IDP_PASSWORD        the password every test user has (default "password")
//                       MFA login (acr urn:facesign:mfa, amr [pwd,otp]): login "<user>+mfa",
//                       or password "mfa"; otherwise acr urn:facesign:pwd, amr [pwd]
//   IDP_AT_ALG          default access-token alg for urn:facesign (RS256 | ES256), default RS256
//   IDP_AT_TTL          access token lifetime in seconds (default 300)
//   IDP_ROTATE_REFRESH  if set, every refresh rotates the refresh token, and
//                       one used twice revokes its grant (reuse detection)
//   IDP_JWKS_FILE       optional: private JWKS to use instead of generating keys at start
//   IDP_CLIENT_ROLES    optional JSON {"client-id": ["ROLE", ...]} merged over the defaults
//   IDP_USERS           optional JSON {"login": ["ROLE", ...]} merged over the defaults
//
// Test-only endpoints (outside the issuer path logic, always at the server root):
//   POST /test/rotate?alg=RS256|ES256[&drop_old=1]  new key first in JWKS, used for signing
//   POST /test/alg?alg=RS256|ES256                  switch the alg used for urn:facesign
//   GET  /test/state                                current kids and alg
import http from 'node:http';
import crypto from 'node:crypto';
import fs from 'node:fs';
import Provider, { errors } from 'oidc-provider';

const env = process.env;
const PASSWORD = env.IDP_PASSWORD ?? 'password';
const AT_TTL = Number(env.IDP_AT_TTL ?? 300);
const list = (v) => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);

// ---- static identities -----------------------------------------------------
const USERS = {
  admin1: ['ADMIN'],
  auditor1: ['AUDITOR'],
  seat1: ['SEAT'],
  supervisor1: ['SUPERVISOR'],
  qc1: ['QC_REVIEWER'],
  am1: ['ACCOUNT_MANAGER'],
  customer1: ['CUSTOMER'],
  multi1: ['SEAT', 'SUPERVISOR'],
  noroles1: [],
  ...(env.IDP_USERS ? JSON.parse(env.IDP_USERS) : {}),
};
const CLIENT_ROLES = {
  'credit-system': ['CREDIT_SYSTEM'],
  'core-banking': ['CREDIT_SYSTEM'],
  verification: ['VERIFICATION_SERVICE'],
  'partner-backoffice': ['PARTNER'],
  'no-roles-service': [],
  ...(env.IDP_CLIENT_ROLES ? JSON.parse(env.IDP_CLIENT_ROLES) : {}),
};
const ACR_MFA = 'urn:facesign:mfa';
const ACR_PWD = 'urn:facesign:pwd';

// ---- resource servers (audiences) -------------------------------------------
// Resource indicators must be absolute URIs; the audience may be any string.
let atAlg = env.IDP_AT_ALG ?? 'RS256';
const RESOURCE = 'urn:facesign';
const resourceServer = (indicator) => {
  const rs = (audience, alg) => ({
    audience, scope: 'facesign', accessTokenFormat: 'jwt', accessTokenTTL: AT_TTL, jwt: { sign: { alg } },
  });
  switch (indicator) {
    case 'urn:facesign': return rs('facesign', atAlg);
    case 'urn:facesign:rs256': return rs('facesign', 'RS256');
    case 'urn:facesign:es256': return rs('facesign', 'ES256');
    case 'urn:other': return rs('other-api', atAlg); // for wrong-audience tests
    default: return undefined;
  }
};

// ---- keys --------------------------------------------------------------------
let serial = 0;
function newKey(alg) {
  const { privateKey } = alg === 'ES256'
    ? crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  serial += 1;
  const kid = `${alg.toLowerCase()}-${serial}-${crypto.randomBytes(4).toString('hex')}`;
  return { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
}
let keys = env.IDP_JWKS_FILE
  ? JSON.parse(fs.readFileSync(env.IDP_JWKS_FILE, 'utf8')).keys
  : [newKey('RS256'), newKey('ES256')];

// ---- storage ------------------------------------------------------------------------
// One store shared by every Provider instance (a key rotation builds a new instance;
// oidc-provider 9's built-in memory adapter is per instance and capped at 1000 entries).
const store = new Map(); // key -> { payload, exp }
const live = (key) => {
  const e = store.get(key);
  if (e && e.exp && e.exp < Date.now()) { store.delete(key); return undefined; }
  return e;
};
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode',
  'BackchannelAuthenticationRequest', 'PreAuthorizedCode']);
setInterval(() => { for (const k of store.keys()) live(k); }, 60_000).unref();
class SharedMemoryAdapter {
  constructor(model) { this.model = model; }
  key(id) { return `${this.model}:${id}`; }
  async upsert(id, payload, expiresIn) {
    const exp = expiresIn ? Date.now() + expiresIn * 1000 : undefined;
    store.set(this.key(id), { payload, exp });
    if (payload.uid) store.set(`${this.model}:uid:${payload.uid}`, { payload: id, exp });
    if (payload.userCode) store.set(`${this.model}:uc:${payload.userCode}`, { payload: id, exp });
    if (payload.grantId && GRANTABLE.has(this.model)) {
      const g = live(`grant:${payload.grantId}`) ?? { payload: new Set() };
      g.payload.add(this.key(id));
      store.set(`grant:${payload.grantId}`, { payload: g.payload, exp: Math.max(g.exp ?? 0, exp ?? 0) || undefined });
    }
  }
  async find(id) { return live(this.key(id))?.payload; }
  async findByUid(uid) { const id = live(`${this.model}:uid:${uid}`)?.payload; return id && this.find(id); }
  async findByUserCode(c) { const id = live(`${this.model}:uc:${c}`)?.payload; return id && this.find(id); }
  async consume(id) { const e = live(this.key(id)); if (e) e.payload.consumed = Math.floor(Date.now() / 1000); }
  async destroy(id) { store.delete(this.key(id)); }
  async revokeByGrantId(grantId) {
    for (const k of live(`grant:${grantId}`)?.payload ?? []) store.delete(k);
    store.delete(`grant:${grantId}`);
  }
}

// ---- clients -----------------------------------------------------------------
function clients() {
  const service = Object.keys(CLIENT_ROLES).map((id) => ({
    client_id: id,
    client_secret: `${id}-secret`,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic', // client_secret_post is accepted too
  }));
  const consoleClient = {
    client_id: 'facesign-console',
    client_name: 'facesign console',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    application_type: 'web',
    redirect_uris: list(env.IDP_REDIRECT_URIS ?? 'http://127.0.0.1:8080/auth/callback'),
    post_logout_redirect_uris: list(env.IDP_POST_LOGOUT_REDIRECT_URIS ?? 'http://127.0.0.1:8080/'),
    ...(env.IDP_CONSOLE_SECRET
      ? { client_secret: env.IDP_CONSOLE_SECRET, token_endpoint_auth_method: 'client_secret_basic' }
      : { token_endpoint_auth_method: 'none' }),
  };
  return [...service, consoleClient];
}

// ---- provider configuration ----------------------------------------------------
function configuration() {
  return {
    adapter: SharedMemoryAdapter,
    clients: clients(),
    jwks: { keys },
    cookies: { keys: ['facesign-test-idp-cookie-key'] }, // fixed so sessions survive rotation
    claims: { acr: null, amr: null, auth_time: null, sid: null, openid: ['sub', 'acr', 'amr', 'auth_time'], profile: ['name', 'preferred_username'], roles: ['roles'] },
    scopes: ['openid', 'offline_access', 'profile', 'roles', 'facesign'],
    async findAccount(ctx, sub) {
      if (!Object.hasOwn(USERS, sub)) return undefined;
      return {
        accountId: sub,
        async claims() { return { sub, name: sub, preferred_username: sub, roles: USERS[sub] }; },
      };
    },
    features: {
      devInteractions: { enabled: false }, // our own pages below (they can set acr/amr)
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          // `form` = <form id="op.logoutForm" method="post" action=".../session/end/confirm">
          //          <input type="hidden" name="xsrf" value="..."/></form>
          ctx.body = `<!DOCTYPE html><html><head><title>Logout</title></head><body>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>
</body></html>`;
        },
      },
      clientCredentials: { enabled: true }, // off by default!
      revocation: { enabled: true },
      introspection: { enabled: true },
      userinfo: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => RESOURCE, // no `resource` param -> urn:facesign
        useGrantedResource: async () => true, // token endpoint w/o resource -> the granted one
        getResourceServerInfo: async (ctx, indicator) => {
          const rs = resourceServer(indicator);
          if (!rs) throw new errors.InvalidTarget();
          return rs;
        },
      },
    },
    async extraTokenClaims(ctx, token) {
      if (token.kind === 'ClientCredentials') {
        return { roles: CLIENT_ROLES[token.clientId] ?? [] };
      }
      // AccessToken from authorization_code / refresh_token: the source carries acr/amr
      const src = ctx?.oidc?.entities?.AuthorizationCode ?? ctx?.oidc?.entities?.RefreshToken;
      return {
        roles: USERS[token.accountId] ?? [],
        acr: src?.acr,
        amr: src?.amr,
        auth_time: src?.authTime,
      };
    },
    // First-party test IdP: never show a consent page; grant whatever was asked.
    async loadExistingGrant(ctx) {
      const { client, session, provider, params } = ctx.oidc;
      const grantId = ctx.oidc.result?.consent?.grantId || session.grantIdFor(client.clientId);
      let grant = grantId ? await provider.Grant.find(grantId) : undefined;
      if (grant && grant.accountId !== session.accountId) grant = undefined;
      grant ??= new provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      grant.addOIDCScope([...ctx.oidc.requestParamOIDCScopes].join(' ') || 'openid');
      if (params.claims) {
        const c = JSON.parse(params.claims);
        grant.addOIDCClaims([...Object.keys(c.id_token ?? {}), ...Object.keys(c.userinfo ?? {})]);
      }
      const requested = ctx.oidc.requestParamScopes;
      for (const [indicator, rs] of Object.entries(ctx.oidc.resourceServers ?? {})) {
        grant.addResourceScope(indicator, [...rs.scopes].filter((s) => requested.has(s)).join(' '));
      }
      await grant.save();
      return grant;
    },
    responseTypes: ['code'],
    // Refresh tokens for facesign-console without needing offline_access + prompt=consent.
    issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
    ...(env.IDP_ROTATE_REFRESH ? { rotateRefreshToken: () => true } : {}),
    pkce: { required: () => true }, // S256 is the only method oidc-provider 9 accepts
    clientBasedCORS: () => true,
    interactions: { url: (ctx, interaction) => `${mountPath}/interaction/${interaction.uid}` },
    ttl: {
      AccessToken: AT_TTL,
      ClientCredentials: AT_TTL,
      AuthorizationCode: 60,
      IdToken: AT_TTL,
      RefreshToken: 3600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
    renderError(ctx, out) {
      ctx.type = 'json';
      ctx.body = out;
    },
  };
}

// ---- server ----------------------------------------------------------------------
let issuer;
let issuerUrl;
let mountPath;
let provider;
let handler;
const build = () => {
  provider = new Provider(issuer, configuration());
  handler = provider.callback();
};

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const loginPage = (uid, params, error) => `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Sign-in</title></head><body>
<h1>Sign-in to ${esc(params.client_id)}</h1>
${error ? `<p class="error">${esc(error)}</p>` : ''}
<form id="login" method="post" action="${mountPath}/interaction/${uid}/login">
  <input type="text" name="login" value="${esc(params.login_hint ?? '')}" autofocus>
  <input type="password" name="password">
  <button type="submit">Sign-in</button>
</form>
<a href="${mountPath}/interaction/${uid}/abort">Cancel</a>
</body></html>`;

async function readForm(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res, status, body, type = 'text/html; charset=utf-8') {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

async function interaction(req, res, path) {
  const m = path.match(/^\/interaction\/([^/]+)(\/login|\/abort)?$/);
  if (!m) return send(res, 404, 'not found', 'text/plain');
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (e) {
    return send(res, 400, JSON.stringify({ error: e.error ?? e.name, error_description: e.error_description ?? e.message }), 'application/json');
  }
  const { uid, prompt, params } = details;
  if (!m[2] && req.method === 'GET') {
    if (prompt.name === 'login') return send(res, 200, loginPage(uid, params));
    // Only reachable if a consent prompt is still required (e.g. prompt=consent): grant it.
    return provider.interactionFinished(req, res, { consent: { grantId: details.grantId } }, { mergeWithLastSubmission: true });
  }
  if (m[2] === '/abort') {
    return provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: 'End-User aborted interaction',
    }, { mergeWithLastSubmission: false });
  }
  if (m[2] === '/login' && req.method === 'POST') {
    const form = await readForm(req);
    const raw = form.get('login') ?? '';
    const mfa = raw.endsWith('+mfa') || form.get('password') === 'mfa';
    const login = raw.replace(/\+mfa$/, '');
    const okPassword = form.get('password') === PASSWORD || form.get('password') === 'mfa';
    if (!Object.hasOwn(USERS, login) || !okPassword) {
      return send(res, 401, loginPage(uid, params, 'invalid login or password'));
    }
    return provider.interactionFinished(req, res, {
      login: {
        accountId: login,
        acr: mfa ? ACR_MFA : ACR_PWD,
        amr: mfa ? ['pwd', 'otp'] : ['pwd'],
        remember: true,
      },
    }, { mergeWithLastSubmission: false });
  }
  return send(res, 405, 'method not allowed', 'text/plain');
}

async function testEndpoint(req, res, url) {
  const alg = url.searchParams.get('alg') ?? 'RS256';
  if (!['RS256', 'ES256'].includes(alg)) return send(res, 400, '{"error":"alg"}', 'application/json');
  if (url.pathname === '/test/rotate' && req.method === 'POST') {
    const key = newKey(alg);
    const kty = key.kty;
    const old = url.searchParams.get('drop_old') ? keys.filter((k) => k.kty !== kty) : keys;
    keys = [key, ...old]; // first key of an alg is the one used for signing
    build();
  } else if (url.pathname === '/test/alg' && req.method === 'POST') {
    atAlg = alg;
  } else if (!(url.pathname === '/test/state' && req.method === 'GET')) {
    return send(res, 404, 'not found', 'text/plain');
  }
  return send(res, 200, JSON.stringify({
    accessTokenAlg: atAlg,
    signingKids: { RS256: keys.find((k) => k.kty === 'RSA')?.kid, ES256: keys.find((k) => k.kty === 'EC')?.kid },
    kids: keys.map((k) => k.kid),
  }), 'application/json');
}

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, 'http://x');
    if (url.pathname.startsWith('/test/')) return await testEndpoint(req, res, url);
    if (mountPath && !(url.pathname === mountPath || url.pathname.startsWith(`${mountPath}/`))) {
      return send(res, 404, 'not found', 'text/plain');
    }
    // Generated URLs (discovery endpoints, redirects) use the issuer's host whatever
    // host the caller used, so the browser never switches host (cookies!) mid-flow.
    req.headers.host = issuerUrl.host;
    const path = url.pathname.slice(mountPath.length) || '/';
    if (path.startsWith('/interaction/')) return await interaction(req, res, path);
    if (mountPath) {
      req.originalUrl = req.url;
      req.url = req.url.slice(mountPath.length) || '/';
    }
    return handler(req, res);
  } catch (e) {
    console.error(e);
    if (!res.headersSent) send(res, 500, JSON.stringify({ error: 'server_error', error_description: e.message }), 'application/json');
  }
});

server.listen(Number(env.IDP_PORT ?? 0), '127.0.0.1', () => {
  const { port } = server.address();
  issuer = (env.IDP_ISSUER ?? `http://127.0.0.1:${port}`).replace(/\/$/, '');
  issuerUrl = new URL(issuer);
  mountPath = issuerUrl.pathname === '/' ? '' : issuerUrl.pathname.replace(/\/$/, '');
  build();
  console.log(JSON.stringify({ ready: true, issuer, port }));
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
