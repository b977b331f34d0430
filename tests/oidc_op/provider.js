// The OpenID provider of the portal's single sign-on tests: panva's oidc-provider (OpenID certified)
// with plain login and consent pages of its own and a control API under /_test/.
//
//   node provider.js    (environment: OP_CLIENT_ID, OP_CLIENT_SECRET, OP_REDIRECT_URIS, OP_PORT)
//
// It listens on 127.0.0.1 (OP_PORT, or a free port when 0 or unset) and prints one JSON line,
// {"issuer": "http://127.0.0.1:<port>"}, once it accepts connections.
//
// The login page takes a login, a password and the authentication context the "home organisation"
// asserts (acr): the REFEDS single-factor or MFA profile, so a test chooses the acr of the ID token.
//
// Control API (JSON, for the tests only):
//   POST /_test/reset            forget accounts, recorded requests, errors and pending faults
//   POST /_test/accounts         add an account: {sub, password, email, email_verified, name, ...}
//   POST /_test/id-token-fault   {"fault": ...}: the next token response carries a bad ID token
//   POST /_test/userinfo-fault   {"fault": "other_sub"}: the next userinfo answer names someone else
//   GET  /_test/events           {"requests": ["GET /jwks", ...], "errors": [{event, error, description, detail}]}
//
// Like many providers, it puts acr into the ID token only when the client asks for it (acr_values).
import { createServer } from 'node:http';
import { createSign, generateKeyPairSync, randomBytes } from 'node:crypto';

import Provider from 'oidc-provider';

const SFA = 'https://refeds.org/profile/sfa';
const MFA = 'https://refeds.org/profile/mfa';
const ACR_VALUES = [SFA, MFA];
const KID = 'op-signing-key';

const clientId = process.env.OP_CLIENT_ID || 'aif-portal';
const clientSecret = process.env.OP_CLIENT_SECRET || 'aif-portal-secret';
const redirectUris = (process.env.OP_REDIRECT_URIS || '').split(',').filter(Boolean);
const port = Number(process.env.OP_PORT || 0);

function rsaJwk(kid) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
}

// The provider's own signing key, and a stranger's key that claims the same kid.
const signingJwk = rsaJwk(KID);
const foreignJwk = rsaJwk(KID);

const state = { accounts: new Map(), requests: [], errors: [], idTokenFault: null, userinfoFault: null };

function reset() {
  state.accounts.clear();
  state.requests.length = 0;
  state.errors.length = 0;
  state.idTokenFault = null;
  state.userinfoFault = null;
}

// --- JWTs, for the faults -----------------------------------------------------------------------

const b64json = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const unb64json = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

function signRs256(header, payload, jwk) {
  const input = `${b64json(header)}.${b64json(payload)}`;
  const signer = createSign('RSA-SHA256');
  signer.update(input);
  const { kid, alg, use, ...keyOnly } = jwk;
  const signature = signer.sign({ key: keyOnly, format: 'jwk' }).toString('base64url');
  return `${input}.${signature}`;
}

// Each fault breaks one thing an RP must check; every other claim stays as the provider issued it.
function spoil(idToken, fault) {
  const [headerPart, payloadPart, signaturePart] = idToken.split('.');
  const header = unb64json(headerPart);
  const payload = unb64json(payloadPart);
  const now = Math.floor(Date.now() / 1000);
  switch (fault) {
    case 'tampered_payload': // claims changed after signing: the signature no longer matches
      return `${headerPart}.${b64json({ ...payload, sub: 'somebody-else' })}.${signaturePart}`;
    case 'foreign_key': // well-formed, signed by a key that is not in the provider's JWKS
      return signRs256(header, payload, foreignJwk);
    case 'alg_none': // unsigned
      return `${b64json({ ...header, alg: 'none' })}.${payloadPart}.`;
    case 'wrong_audience': // properly signed, for another client
      return signRs256(header, { ...payload, aud: 'another-client' }, signingJwk);
    case 'wrong_issuer':
      return signRs256(header, { ...payload, iss: 'https://issuer.invalid' }, signingJwk);
    case 'expired':
      return signRs256(header, { ...payload, iat: now - 7200, exp: now - 3600 }, signingJwk);
    case 'wrong_nonce':
      return signRs256(header, { ...payload, nonce: randomBytes(16).toString('base64url') }, signingJwk);
    case 'no_nonce': {
      const { nonce, ...rest } = payload;
      return signRs256(header, rest, signingJwk);
    }
    default:
      throw new Error(`unknown ID token fault ${fault}`);
  }
}

// --- HTTP helpers -------------------------------------------------------------------------------

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(ctx, status, title, body) {
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>`
    + `<body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

function loginPage(ctx, uid, status = 200, error = '') {
  const options = ACR_VALUES.map((acr) => `<option value="${escapeHtml(acr)}">${escapeHtml(acr)}</option>`).join('');
  page(ctx, status, 'Sign in at your home organisation', `${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
<form id="login" method="post" action="/interaction/${escapeHtml(uid)}/login">
<label>Login <input name="login" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<label>Authentication <select name="acr">${options}</select></label>
<button type="submit">Sign in</button>
</form>`);
}

function consentPage(ctx, uid, clientName, scopes) {
  page(ctx, 200, `Share your details with ${clientName}?`, `<p>Scopes: ${escapeHtml(scopes.join(' '))}</p>
<form id="consent" method="post" action="/interaction/${escapeHtml(uid)}/confirm"><button type="submit">Allow</button></form>
<form id="abort" method="post" action="/interaction/${escapeHtml(uid)}/abort"><button type="submit">Cancel</button></form>`);
}

// --- the provider -------------------------------------------------------------------------------

const server = createServer();
server.listen(port, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      client_name: 'AI Factory portal',
      redirect_uris: redirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
    }],
    acrValues: ACR_VALUES,
    claims: {
      acr: null,
      amr: null,
      auth_time: null,
      sid: null,
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name'],
    },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    features: { devInteractions: { enabled: false } },
    jwks: { keys: [signingJwk] },
    pkce: { required: () => true },
    async findAccount(ctx, sub) {
      const account = state.accounts.get(sub);
      if (!account) return undefined;
      return {
        accountId: sub,
        async claims() {
          const { password, ...claims } = account;
          return claims;
        },
      };
    },
  });

  for (const event of ['grant.error', 'authorization.error', 'userinfo.error', 'server_error']) {
    provider.on(event, (ctx, err) => {
      state.errors.push({
        event, error: err.error || err.name, description: err.error_description || err.message, detail: err.error_detail,
      });
    });
  }

  // The control API: before anything of the provider.
  provider.use(async (ctx, next) => {
    if (!ctx.path.startsWith('/_test/')) return next();
    const body = ctx.method === 'POST' ? JSON.parse((await readBody(ctx.req)) || '{}') : {};
    ctx.type = 'json';
    switch (`${ctx.method} ${ctx.path}`) {
      case 'POST /_test/reset':
        reset();
        ctx.body = { ok: true };
        return undefined;
      case 'POST /_test/accounts':
        if (!body.sub || !body.password) ctx.throw(400, 'sub and password are required');
        state.accounts.set(body.sub, body);
        ctx.body = { ok: true };
        return undefined;
      case 'POST /_test/id-token-fault':
        try {
          spoil(signRs256({ alg: 'RS256', kid: KID }, {}, signingJwk), body.fault);
        } catch (err) {
          ctx.throw(400, err.message);
        }
        state.idTokenFault = body.fault;
        ctx.body = { ok: true };
        return undefined;
      case 'POST /_test/userinfo-fault':
        if (body.fault !== 'other_sub') ctx.throw(400, `unknown userinfo fault ${body.fault}`);
        state.userinfoFault = body.fault;
        ctx.body = { ok: true };
        return undefined;
      case 'GET /_test/events':
        ctx.body = { requests: state.requests, errors: state.errors };
        return undefined;
      default:
        ctx.throw(404);
    }
    return undefined;
  });

  // Every other request is recorded; token and userinfo answers get the pending fault, if any.
  provider.use(async (ctx, next) => {
    state.requests.push(`${ctx.method} ${ctx.path}`);
    await next();
    if (ctx.oidc?.route === 'token' && ctx.status === 200 && ctx.body?.id_token && state.idTokenFault) {
      ctx.body = { ...ctx.body, id_token: spoil(ctx.body.id_token, state.idTokenFault) };
      state.idTokenFault = null;
    }
    if (ctx.oidc?.route === 'userinfo' && ctx.status === 200 && ctx.body?.sub && state.userinfoFault) {
      ctx.body = { ...ctx.body, sub: 'somebody-else' };
      state.userinfoFault = null;
    }
  });

  // The interaction pages: sign-in (with the acr to assert) and consent.
  provider.use(async (ctx, next) => {
    const match = ctx.path.match(/^\/interaction\/([^/]+)(?:\/(login|confirm|abort))?$/);
    if (!match) return next();
    const [, uid, action] = match;
    ctx.set('cache-control', 'no-store');
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const { prompt, params } = details;

    if (ctx.method === 'GET' && !action) {
      if (prompt.name === 'login') return loginPage(ctx, uid);
      const client = await provider.Client.find(params.client_id);
      return consentPage(ctx, uid, client.clientName || client.clientId, String(params.scope).split(' '));
    }
    if (ctx.method !== 'POST') ctx.throw(405);
    const form = new URLSearchParams(await readBody(ctx.req));

    if (action === 'login') {
      if (prompt.name !== 'login') ctx.throw(400, 'no sign-in is pending');
      const account = state.accounts.get(form.get('login'));
      if (!account || account.password !== form.get('password')) {
        return loginPage(ctx, uid, 401, 'Unknown login or wrong password.');
      }
      const acr = form.get('acr');
      if (!ACR_VALUES.includes(acr)) return loginPage(ctx, uid, 400, 'Unknown authentication context.');
      const amr = acr === MFA ? ['pwd', 'otp'] : ['pwd'];
      return provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: account.sub, acr, amr } },
        { mergeWithLastSubmission: false });
    }
    if (action === 'confirm') {
      if (prompt.name !== 'consent') ctx.throw(400, 'no consent is pending');
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
      if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
      if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
      const grantId = await grant.save();
      return provider.interactionFinished(ctx.req, ctx.res, { consent: details.grantId ? {} : { grantId } },
        { mergeWithLastSubmission: true });
    }
    return provider.interactionFinished(ctx.req, ctx.res,
      { error: 'access_denied', error_description: 'The end-user cancelled.' }, { mergeWithLastSubmission: false });
  });

  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
