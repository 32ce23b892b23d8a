#!/usr/bin/env node
// A real OpenID Provider for Portcullis integration tests, built on npm `oidc-provider` 9.x.
//
//   $PORTCULLIS_NODE22 tests/oidc/provider.mjs --port 0 --keys DIR [--rotate]
//
// `oidc-provider` (and `jose`, which it depends on) are loaded from $PORTCULLIS_NODE_MODULES, or
// else $NODE_PATH, or else <repo>/.deps/servers/node_modules, so the script runs from any cwd.
//
// Binds 127.0.0.1 only. Issuer `http://127.0.0.1:PORT` (no trailing slash). Once listening it
// prints exactly one line `issuer http://127.0.0.1:PORT` to stdout, then one line per event:
//   login sub=<sub> audience=<aud>                  test grant issued a user token
//   exchange sub=<sub> audience=<aud>               RFC 8693 exchange succeeded
//   exchange_rejected reason=<error> [detail="<why>"]  RFC 8693 exchange failed (4xx)
//   client_credentials client_id=<id> audience=<aud|->
//   rotate kid=<kid>                                POST /test/rotate replaced the key
// Diagnostics (oidc-provider warnings, server errors) go to stderr only.
//
// Keys: DIR/jwks.json holds a private JWKS with ONE RSA-2048 key {kty,n,e,d,p,q,dp,dq,qi,kid,
// alg:"RS256",use:"sig"}, generated if missing. `--rotate` replaces it with a new key (new kid)
// before starting, so /jwks then serves only the new key. DIR/private-key.pem is the same key as
// PKCS#8 PEM, rewritten on every start for tests that sign tokens themselves.
//
// Clients (static):
//   test-client / test-secret        grant `urn:portcullis:test:login` (test-only user login)
//   portcullis  / portcullis-secret  grants token-exchange (RFC 8693) and client_credentials
// Both accept client_secret_basic and client_secret_post.
//
// Test endpoints (not OAuth): GET /test/stats, POST /test/rotate, POST /test/sign.
// /.well-known/oauth-authorization-server (RFC 8414) serves the same document as
// /.well-known/openid-configuration.

import { generateKeyPairSync, createPrivateKey, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// ---------------------------------------------------------------------------------------------
// Module resolution: oidc-provider lives in the test-deps prefix, not next to this script.

function nodeModulesDir() {
  const candidates = [
    process.env.PORTCULLIS_NODE_MODULES,
    ...(process.env.NODE_PATH || '').split(':'),
    join(dirname(fileURLToPath(import.meta.url)), '..', '..', '.deps', 'servers', 'node_modules'),
  ].filter(Boolean);
  for (const dir of candidates) {
    if (existsSync(join(dir, 'oidc-provider', 'package.json'))) return dir;
  }
  throw new Error(`oidc-provider not found in any of: ${candidates.join(', ')} (source .deps/env.sh)`);
}

const requireFromDeps = createRequire(join(nodeModulesDir(), 'oidc-provider', 'package.json'));
const importDep = (name) => import(pathToFileURL(requireFromDeps.resolve(name)).href);
const { default: Provider, errors } = await importDep('oidc-provider');
const jose = await importDep('jose');

// ---------------------------------------------------------------------------------------------
// Arguments.

function parseArgs(argv) {
  const out = { port: 0, keys: undefined, rotate: false };
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      i += 1;
      return argv[i];
    };
    if (a === '--port') out.port = Number(value());
    else if (a.startsWith('--port=')) out.port = Number(a.slice(7));
    else if (a === '--keys') out.keys = value();
    else if (a.startsWith('--keys=')) out.keys = a.slice(7);
    else if (a === '--rotate') out.rotate = true;
    else if (a === '--help' || a === '-h') usage();
    else usage(`unknown argument ${a}`);
  }
  if (!Number.isInteger(out.port) || out.port < 0 || out.port > 65535) usage('--port must be 0..65535');
  if (!out.keys) usage('--keys DIR is required');
  return out;
}

function usage(problem) {
  if (problem) process.stderr.write(`provider.mjs: ${problem}\n`);
  process.stderr.write('usage: provider.mjs --port N --keys DIR [--rotate]\n');
  process.exit(problem ? 2 : 0);
}

const args = parseArgs(process.argv.slice(2));

// ---------------------------------------------------------------------------------------------
// Keys.

const keysDir = resolve(args.keys);
const jwksPath = join(keysDir, 'jwks.json');
const pemPath = join(keysDir, 'private-key.pem');

function writeAtomic(path, text) {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, path);
}

function newKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: `test-${randomUUID()}`, alg: 'RS256', use: 'sig' };
}

function storeKeys(jwks) {
  writeAtomic(jwksPath, `${JSON.stringify(jwks, null, 2)}\n`);
  const pem = createPrivateKey({ key: jwks.keys[0], format: 'jwk' }).export({ type: 'pkcs8', format: 'pem' });
  writeAtomic(pemPath, pem);
}

function loadOrCreateKeys(rotate) {
  mkdirSync(keysDir, { recursive: true });
  let jwks;
  if (!rotate && existsSync(jwksPath)) {
    jwks = JSON.parse(readFileSync(jwksPath, 'utf8'));
    if (!Array.isArray(jwks.keys) || jwks.keys.length === 0) throw new Error(`${jwksPath}: no keys`);
  } else {
    jwks = { keys: [newKey()] };
  }
  storeKeys(jwks);
  return jwks;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
function publicJwks(jwks) {
  return {
    keys: jwks.keys.map((k) => Object.fromEntries(
      Object.entries(k).filter(([name]) => !PRIVATE_MEMBERS.includes(name)),
    )),
  };
}

// ---------------------------------------------------------------------------------------------
// Constants shared with the tests.

const LOGIN_GRANT = 'urn:portcullis:test:login';
const EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const USER_TOKEN_TTL = 3600;
const EXCHANGED_TOKEN_TTL = 300;
const CLIENT_CREDENTIALS_TTL = 600;

const stats = { exchanges: 0, client_credentials: 0, logins: 0, exchange_rejections: 0 };

function emit(line) {
  process.stdout.write(`${line}\n`);
}

// Extra JWT claims per token instance (groups, act, nbf), read by `extraTokenClaims`.
const extraClaims = new WeakMap();

// ---------------------------------------------------------------------------------------------
// Provider.

function absoluteUri(value) {
  const url = URL.parse(value);
  return url !== null && !url.href.includes('#');
}

function makeResourceServer(provider, identifier) {
  return new provider.ResourceServer(identifier, {
    scope: '',
    audience: identifier,
    accessTokenFormat: 'jwt',
  });
}

function buildProvider(issuer, jwks) {
  const verifyKeys = jose.createLocalJWKSet(publicJwks(jwks));

  const provider = new Provider(issuer, {
    jwks,
    clients: [
      {
        client_id: 'test-client',
        client_secret: 'test-secret',
        grant_types: [LOGIN_GRANT],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
      },
      {
        client_id: 'portcullis',
        client_secret: 'portcullis-secret',
        grant_types: [EXCHANGE_GRANT, 'client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => undefined,
        useGrantedResource: async () => false,
        // Any absolute URI is a resource server; every requested scope is granted for it.
        getResourceServerInfo: async (ctx) => ({
          scope: typeof ctx?.oidc?.params?.scope === 'string' ? ctx.oidc.params.scope : '',
          accessTokenFormat: 'jwt',
        }),
      },
    },
    ttl: {
      AccessToken: (ctx, token) => token.resourceServer?.accessTokenTTL || USER_TOKEN_TTL,
      ClientCredentials: (ctx, token) => token.resourceServer?.accessTokenTTL || CLIENT_CREDENTIALS_TTL,
    },
    extraTokenClaims: async (ctx, token) => extraClaims.get(token),
  });

  // --- urn:portcullis:test:login: mint a user's access token without a browser. ------------
  provider.registerGrantType(LOGIN_GRANT, async (ctx) => {
    const { params, client } = ctx.oidc;
    const sub = params.sub;
    if (!sub) throw new errors.InvalidRequest('missing required parameter \'sub\'');
    if (!params.resource) throw new errors.InvalidRequest('missing required parameter \'resource\'');
    if (!absoluteUri(params.resource)) throw new errors.InvalidTarget('resource indicator must be an absolute URI without fragment');

    let expiresIn;
    if (params.expires_in !== undefined) {
      expiresIn = Number(params.expires_in);
      if (!Number.isInteger(expiresIn) || expiresIn === 0) {
        throw new errors.InvalidRequest('expires_in must be a non-zero integer (negative = already expired)');
      }
    }
    const extra = {};
    if (params.groups !== undefined) {
      extra.groups = params.groups.split(',').map((g) => g.trim()).filter(Boolean);
    }
    if (params.not_before !== undefined) {
      const offset = Number(params.not_before);
      if (!Number.isInteger(offset)) throw new errors.InvalidRequest('not_before must be an integer');
      extra.nbf = Math.floor(Date.now() / 1000) + offset;
    }

    const at = new provider.AccessToken({
      accountId: sub,
      client,
      gty: LOGIN_GRANT,
      scope: params.scope || undefined,
      ...(expiresIn !== undefined ? { expiresIn } : {}),
    });
    at.resourceServer = makeResourceServer(provider, params.resource);
    extraClaims.set(at, extra);
    ctx.oidc.entity('AccessToken', at);
    const value = await at.save();

    stats.logins += 1;
    emit(`login sub=${sub} audience=${params.resource}`);
    ctx.body = {
      access_token: value,
      token_type: 'Bearer',
      expires_in: at.expiration,
      ...(at.scope ? { scope: at.scope } : {}),
    };
  }, ['sub', 'groups', 'scope', 'resource', 'expires_in', 'not_before']);

  // --- RFC 8693 token exchange. -------------------------------------------------------------
  provider.registerGrantType(EXCHANGE_GRANT, async (ctx) => {
    try {
      const { params, client } = ctx.oidc;
      if (!params.subject_token) throw new errors.InvalidRequest('missing required parameter \'subject_token\'');
      if (!params.subject_token_type) throw new errors.InvalidRequest('missing required parameter \'subject_token_type\'');
      if (params.subject_token_type !== ACCESS_TOKEN_TYPE) {
        throw new errors.InvalidRequest(`unsupported subject_token_type (only ${ACCESS_TOKEN_TYPE})`);
      }
      if (params.requested_token_type !== undefined && params.requested_token_type !== ACCESS_TOKEN_TYPE) {
        throw new errors.InvalidRequest(`unsupported requested_token_type (only ${ACCESS_TOKEN_TYPE})`);
      }
      if (params.actor_token !== undefined) {
        throw new errors.InvalidRequest('actor_token is not supported');
      }
      if (params.resource !== undefined && !absoluteUri(params.resource)) {
        throw new errors.InvalidTarget('resource indicator must be an absolute URI without fragment');
      }
      if (params.resource !== undefined && params.audience !== undefined && params.resource !== params.audience) {
        throw new errors.InvalidTarget('audience and resource differ; only a single audience value is supported');
      }
      const audience = params.resource ?? params.audience;
      if (!audience) throw new errors.InvalidRequest('audience or resource is required');

      let subject;
      try {
        ({ payload: subject } = await jose.jwtVerify(params.subject_token, verifyKeys, {
          issuer,
          algorithms: ['RS256'],
          typ: 'at+jwt',
          requiredClaims: ['sub', 'exp', 'iat'],
        }));
      } catch (err) {
        throw new errors.InvalidGrant(`subject_token is invalid: ${err.code || err.message}`);
      }

      const scope = params.scope !== undefined ? params.scope : subject.scope;
      const at = new provider.AccessToken({
        accountId: subject.sub,
        client,
        gty: EXCHANGE_GRANT,
        scope: scope || undefined,
        expiresIn: EXCHANGED_TOKEN_TTL,
      });
      at.resourceServer = makeResourceServer(provider, audience);
      const extra = { act: { sub: client.clientId } };
      if (subject.groups !== undefined) extra.groups = subject.groups;
      extraClaims.set(at, extra);
      ctx.oidc.entity('AccessToken', at);
      const value = await at.save();

      stats.exchanges += 1;
      emit(`exchange sub=${subject.sub} audience=${audience}`);
      ctx.body = {
        access_token: value,
        issued_token_type: ACCESS_TOKEN_TYPE,
        token_type: 'Bearer',
        expires_in: at.expiration,
        ...(at.scope ? { scope: at.scope } : {}),
      };
    } catch (err) {
      stats.exchange_rejections += 1;
      const detail = err.error_detail ? ` detail=${JSON.stringify(err.error_detail)}` : '';
      emit(`exchange_rejected reason=${err.error || 'server_error'}${detail}`);
      throw err;
    }
  }, ['subject_token', 'subject_token_type', 'requested_token_type', 'actor_token',
    'actor_token_type', 'audience', 'resource', 'scope']);

  provider.on('grant.success', (ctx) => {
    if (ctx.oidc.params.grant_type === 'client_credentials') {
      stats.client_credentials += 1;
      emit(`client_credentials client_id=${ctx.oidc.client.clientId} audience=${ctx.oidc.params.resource || '-'}`);
    }
  });
  provider.on('server_error', (ctx, err) => {
    process.stderr.write(`provider.mjs: server_error: ${err.stack || err}\n`);
  });

  return provider;
}

// ---------------------------------------------------------------------------------------------
// HTTP: our own server so the issuer can carry the real port even with --port 0, and so the
// /test/* endpoints sit beside the provider.

let jwks = loadOrCreateKeys(args.rotate);
let provider;
let providerCallback;

function sendJson(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(text);
}

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

// POST /test/sign {"payload": {...}, "header": {...}?} -> {"token": "<compact JWS>"}
// Signs ANY payload with the current key (header defaults: alg RS256, typ at+jwt, kid current).
// Nothing is added to the payload: the caller writes iss/sub/aud/exp/iat itself.
async function testSign(req, res) {
  let input;
  try {
    input = JSON.parse(await readBody(req));
  } catch {
    return sendJson(res, 400, { error: 'body must be JSON {"payload": {...}, "header": {...}}' });
  }
  if (!input || typeof input.payload !== 'object' || input.payload === null) {
    return sendJson(res, 400, { error: 'payload object required' });
  }
  const current = jwks.keys[0];
  const header = { alg: 'RS256', typ: 'at+jwt', kid: current.kid, ...(input.header || {}) };
  if (!/^(RS|PS)(256|384|512)$/.test(header.alg)) {
    return sendJson(res, 400, { error: 'header.alg must be RS256/384/512 or PS256/384/512 (RSA key)' });
  }
  const key = await jose.importJWK({ ...current, alg: header.alg }, header.alg);
  const token = await new jose.CompactSign(new TextEncoder().encode(JSON.stringify(input.payload)))
    .setProtectedHeader(header)
    .sign(key);
  return sendJson(res, 200, { token });
}

async function handle(req, res) {
  const path = new URL(req.url, 'http://x').pathname;
  if (path === '/test/stats' && req.method === 'GET') {
    return sendJson(res, 200, { ...stats });
  }
  if (path === '/test/rotate' && req.method === 'POST') {
    // Same as restarting with --rotate, without losing the port: new key, JWKS = only it.
    jwks = { keys: [newKey()] };
    storeKeys(jwks);
    provider = buildProvider(provider.issuer, jwks);
    providerCallback = provider.callback();
    emit(`rotate kid=${jwks.keys[0].kid}`);
    return sendJson(res, 200, { kid: jwks.keys[0].kid });
  }
  if (path === '/test/sign' && req.method === 'POST') {
    return testSign(req, res);
  }
  if (path === '/.well-known/oauth-authorization-server') {
    // RFC 8414 metadata: the same document as OIDC discovery (oidc-provider serves only that).
    req.url = '/.well-known/openid-configuration';
  }
  return providerCallback(req, res);
}

const server = createServer((req, res) => {
  handle(req, res).catch((err) => {
    process.stderr.write(`provider.mjs: ${err.stack || err}\n`);
    if (!res.headersSent) sendJson(res, 500, { error: 'server_error' });
    else res.destroy();
  });
});
server.keepAliveTimeout = 5000;

function shutdown() {
  server.closeAllConnections?.();
  server.close();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

server.on('error', (err) => {
  process.stderr.write(`provider.mjs: cannot listen on 127.0.0.1:${args.port}: ${err.message}\n`);
  process.exit(1);
});
server.listen({ port: args.port, host: '127.0.0.1', exclusive: true }, () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  provider = buildProvider(issuer, jwks);
  providerCallback = provider.callback();
  emit(`issuer ${issuer}`);
});
