'use strict';
// Every PAM operation of the header against the emulator, the API-key cache, the 3LO poll with
// onAuthorizationUrl and AbortSignal, the async iterator over token pages, and their errors.
const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const idaas = require('..');
const { startEmulator, rejectsWith, clientFromFile, clientFromJSON } = require('./helpers');

const AT = 'urn:ietf:params:oauth:token-type:access_token';
const KEY = 'sk-EXAMPLE0123456789abcdef';
let em;
let client;
let pam;

before(async () => {
  em = await startEmulator();
  client = clientFromFile(em.configPath);
  pam = client.pam();
});
after(async () => {
  pam?.close();
  client?.close();
  if (em) await em.stop();
});

test('no native handle is left open once every PAM client, provider and cancel token is closed', async () => {
  const base = idaas.nativeStats().liveHandles;
  const user = await userPam(); // a temporary provider from the credential: freed at once
  assert.equal(idaas.nativeStats().liveHandles, base + 1);
  await user.pollOAuthToken('google_drive_reader'); // its cancel token is freed when it settles
  await user.pollOAuthToken('x', { intervalMs: 0 }).catch(() => {});
  assert.equal(idaas.nativeStats().liveHandles, base + 1);
  user.close();
  assert.equal(idaas.nativeStats().liveHandles, base);
});

/** A PAM client with a user-bound token (the client's token exchanged), for the 3LO operations. */
async function userPam() {
  const subject = await client.getBearerToken();
  const cred = await client.exchangeToken({ subjectToken: subject, subjectTokenType: AT });
  return client.pam({ provider: cred });
}

/** Plays the user: completes or fails the session behind an authorization URL. */
async function answer(url, status) {
  const id = new URL(url).searchParams.get('session');
  assert.ok(id, `no session in ${url}`);
  await em.setSession(id, status);
}

describe('API keys', () => {
  test('getApiKey: a key; null for a credential without one; 404', async () => {
    assert.equal(await pam.getApiKey('openai_prod_key'), KEY);
    assert.equal(await pam.getApiKey('partner_oauth_client'), null);
    await rejectsWith(assert, pam.getApiKey('no_such_credential'), 'IDAAS_CLIENT_ERROR', (e) => {
      assert.equal(e.httpStatus, 404);
      assert.ok(e.serverCode);
      assert.ok(e.requestId);
    });
    await rejectsWith(assert, pam.getApiKey(' '), 'IDAAS_INVALID_ARGUMENT');
    await assert.rejects(pam.getApiKey(), TypeError);
  });

  test('server errors: 500 -> IDAAS_SERVER_ERROR, 403 -> IDAAS_AUTH', async () => {
    try {
      await em.addFault('devapi:ObtainCredential=status/500:10');
      await rejectsWith(assert, pam.getApiKey('openai_prod_key'), 'IDAAS_SERVER_ERROR', (e) => assert.equal(e.httpStatus, 500));
      await em.clearFaults();
      await em.addFault('devapi:ObtainCredential=status/403:1');
      await rejectsWith(assert, pam.getApiKey('openai_prod_key'), 'IDAAS_AUTH');
    } finally {
      await em.clearFaults();
    }
  });

  test('the API-key cache option serves from memory; invalidateApiKey', async () => {
    const cached = client.pam({ apiKeyCache: { ttlSecs: 600 } });
    assert.equal(await cached.getApiKey('openai_prod_key'), KEY);
    try {
      await em.addFault('devapi:ObtainCredential=status/404:10');
      assert.equal(await cached.getApiKey('openai_prod_key'), KEY);
      cached.invalidateApiKey('openai_prod_key');
      await rejectsWith(assert, cached.getApiKey('openai_prod_key'), 'IDAAS_CLIENT_ERROR');
    } finally {
      await em.clearFaults();
    }
    cached.invalidateApiKey();
    pam.invalidateApiKey(); // no cache: no-op
    cached.close();
    const defaults = client.pam({ apiKeyCache: true });
    assert.equal(await defaults.getApiKey('openai_prod_key'), KEY);
    defaults.close();
    assert.throws(() => client.pam({ apiKeyCache: { ttl: 1 } }), (e) => e.code === 'IDAAS_INVALID_ARGUMENT');
    assert.throws(() => client.pam({ apiKeyCache: { ttlSecs: 0 } }), (e) => e.code === 'IDAAS_INVALID_ARGUMENT');
  });

  test('a static provider the server rejects: IDAAS_AUTH 401', async () => {
    const p = client.pam({ provider: idaas.staticProvider('not-a-valid-token') });
    await rejectsWith(assert, p.getApiKey('openai_prod_key'), 'IDAAS_AUTH', (e) => assert.equal(e.httpStatus, 401));
    p.close();
  });

  test('a config without developerApiEndpoint: IDAAS_CONFIG', () => {
    const cfg = { ...em.config };
    delete cfg.developerApiEndpoint;
    const c = clientFromJSON(cfg);
    assert.throws(() => c.pam(), (e) => e.code === 'IDAAS_CONFIG');
    c.close();
  });
});

describe('OAuth tokens', () => {
  test('fetchOAuthToken (v1, deprecated)', async () => {
    const t = await pam.fetchOAuthToken('google_drive_reader');
    assert.ok(typeof t === 'string' && t.length > 0);
    assert.ok(await pam.fetchOAuthToken('google_drive_reader', 'https://www.googleapis.com/auth/drive.readonly'));
    await rejectsWith(assert, pam.fetchOAuthToken('no_such_provider'), 'IDAAS_CLIENT_ERROR');
  });

  test('fetchOAuthTokenV2: 2LO, options, errors', async () => {
    const r = await pam.fetchOAuthTokenV2('google_drive_reader', 'm2m');
    assert.ok(r.oauthAccessTokenContent.accessTokenValue);
    assert.equal(r.oauthAuthorizationSession, null);
    assert.ok(r.credentialProviderId);
    const r2 = await pam.fetchOAuthTokenV2('google_drive_reader', 'm2m', {
      scope: 'https://www.googleapis.com/auth/drive.readonly',
      forceAuthentication: true,
      customParameters: { prompt: 'consent' },
    });
    assert.ok(r2.oauthAccessTokenContent.accessTokenValue);
    await rejectsWith(assert, pam.fetchOAuthTokenV2('google_drive_reader', '3lo'), 'IDAAS_INVALID_ARGUMENT', (e) =>
      assert.equal(e.serverCode, 'invalid_authorization_flow'),
    );
    await rejectsWith(assert, pam.fetchOAuthTokenV2('google_drive_reader', 'm2m', { scopes: 'x' }), 'IDAAS_INVALID_ARGUMENT');
  });

  test('3LO: a session, its state; flow mismatch; unknown session', async () => {
    const user = await userPam();
    await rejectsWith(assert, user.fetchOAuthTokenV2('google_drive_user', 'm2m'), 'IDAAS_CLIENT_ERROR', (e) =>
      assert.equal(e.serverCode, 'authorization_flow_mismatch'),
    );
    const r = await user.fetchOAuthTokenV2('google_drive_user', 'user_federation', { forceAuthentication: true });
    assert.equal(r.oauthAccessTokenContent, null);
    const s = r.oauthAuthorizationSession;
    assert.ok(s.sessionUri && s.authorizationUrl);
    const state = await user.getOAuthSession(s.sessionUri);
    assert.equal(state.sessionStatus, 'pending');
    await rejectsWith(assert, user.getOAuthSession('urn:ietf:params:oauth:request_uri:nope'), 'IDAAS_CLIENT_ERROR', (e) =>
      assert.equal(e.httpStatus, 404),
    );
    user.close();
  });

  test('pollOAuthToken: approved, immediate, refused, out of polls, deadline', async () => {
    const user = await userPam();
    const fast = { intervalMs: 50, maxPollingRetries: 40, forceAuthentication: true };
    const urls = [];
    const ok = await user.pollOAuthToken('google_drive_user', {
      ...fast,
      onAuthorizationUrl: (url) => {
        urls.push(url);
        answer(url, 'completed');
      },
    });
    assert.equal(urls.length, 1);
    assert.ok(ok.oauthAccessTokenContent.accessTokenValue);

    let called = 0;
    const now = await user.pollOAuthToken('google_drive_reader', { onAuthorizationUrl: () => called++ });
    assert.equal(called, 0);
    assert.ok(now.oauthAccessTokenContent.accessTokenValue);

    await rejectsWith(
      assert,
      user.pollOAuthToken('google_drive_user', { ...fast, onAuthorizationUrl: (url) => answer(url, 'failed') }),
      'IDAAS_AUTH',
    );
    await rejectsWith(
      assert,
      user.pollOAuthToken('google_drive_user', { intervalMs: 20, maxPollingRetries: 3, forceAuthentication: true }),
      'IDAAS_TIMEOUT',
      (e) => assert.equal(e.serverCode, 'polling_timeout'),
    );
    await rejectsWith(
      assert,
      user.pollOAuthToken('google_drive_user', { intervalMs: 100, timeoutMs: 250, forceAuthentication: true }),
      'IDAAS_TIMEOUT',
    );
    await rejectsWith(assert, user.pollOAuthToken('x', { intervalMs: 0 }), 'IDAAS_INVALID_ARGUMENT');
    await rejectsWith(assert, user.pollOAuthToken('x', { interval: 1 }), 'IDAAS_INVALID_ARGUMENT');
    await assert.rejects(user.pollOAuthToken('x', { onAuthorizationUrl: 'nope' }), TypeError);
    user.close();
  });

  test('pollOAuthToken: AbortSignal cancels promptly (IDAAS_CANCELLED); a throwing callback cancels', async () => {
    const user = await userPam();
    const ac = new AbortController();
    const t0 = Date.now();
    await rejectsWith(
      assert,
      user.pollOAuthToken('google_drive_user', {
        intervalMs: 10000,
        forceAuthentication: true,
        signal: ac.signal,
        onAuthorizationUrl: () => setTimeout(() => ac.abort(new Error('user gave up')), 200),
      }),
      'IDAAS_CANCELLED',
      (e) => {
        assert.equal(e.codeNumber, 600);
        assert.ok(e instanceof idaas.CancelledError);
        assert.equal(e.cause?.message, 'user gave up');
      },
    );
    assert.ok(Date.now() - t0 < 5000, 'cancelled promptly');
    await rejectsWith(assert, user.pollOAuthToken('google_drive_user', { signal: ac.signal }), 'IDAAS_CANCELLED', (e) =>
      assert.ok(e instanceof idaas.CancelledError && e.retryable === false),
    );

    const boom = new Error('cannot open a browser');
    await assert.rejects(
      user.pollOAuthToken('google_drive_user', {
        intervalMs: 10000,
        forceAuthentication: true,
        onAuthorizationUrl: () => {
          throw boom;
        },
      }),
      (e) => e === boom,
    );
    user.close();
  });
  test('long 3LO polls in flight do not starve the libuv thread pool (fs keeps working)', async () => {
    const fs = require('node:fs');
    const user = await userPam();
    const ac = new AbortController();
    const polls = Array.from({ length: 8 }, () =>
      user.pollOAuthToken('google_drive_user', { intervalMs: 10000, forceAuthentication: true, signal: ac.signal }).catch((e) => e),
    );
    await new Promise((r) => setTimeout(r, 300)); // the polls are sleeping on worker threads now
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 16 }, () => fs.promises.readFile(__filename)));
    const fsMs = Date.now() - t0;
    ac.abort();
    const results = await Promise.all(polls);
    assert.ok(fsMs < 2000, `fs took ${fsMs} ms with 8 polls in flight`);
    for (const e of results) assert.equal(e.code, 'IDAAS_CANCELLED');
    user.close();
  });
});

describe('JWT authentication tokens', () => {
  test('generate -> obtain -> obtain by short token -> validate/revoke/reinstate (+ by consumer)', async () => {
    const g = await pam.generateJwt('partner_jwt', 'billing-agent', ['https://api.partner.example'], {
      includeDerivedShortToken: true,
      expiration: 900,
      customClaims: { tenant: 'acme', tier: 2 },
    });
    const jwt = g.jwtContent.jwtValue;
    const dst = g.jwtContent.derivedShortToken;
    assert.ok(jwt && dst && g.authenticationTokenId && g.consumerId);
    assert.equal(g.authenticationTokenType, 'jwt');
    assert.equal((await pam.obtainJwt(g.consumerId, g.authenticationTokenId)).jwtValue, jwt);
    assert.equal((await pam.obtainJwtByShortToken(dst)).jwtValue, jwt);

    assert.equal(await pam.validateToken(jwt), true);
    assert.equal(await pam.validateToken(dst), true);
    assert.equal(await pam.revokeToken(jwt), undefined);
    assert.equal(await pam.validateToken(jwt), false);
    await pam.reinstateToken(jwt, 'jwt');
    assert.equal(await pam.validateToken(jwt), true);
    await pam.revokeTokensByConsumer(g.consumerId, 'partner_jwt');
    assert.equal(await pam.validateToken(jwt), false);
    await pam.reinstateTokensByConsumer(g.consumerId, 'partner_jwt');
    assert.equal(await pam.validateToken(jwt), true);
    assert.equal(await pam.validateToken('garbage-token'), false);

    // a state-changing call is not retried and its failure is reported as is
    await em.addFault('devapi:RevokeAuthenticationToken=status/502:1');
    try {
      await rejectsWith(assert, pam.revokeToken(jwt), 'IDAAS_SERVER_ERROR', (e) => assert.equal(e.httpStatus, 502));
    } finally {
      await em.clearFaults();
    }
    assert.equal(await pam.validateToken(jwt), true);
  });

  test('listTokens (one page) and listAllTokens (async iterator over every page)', async () => {
    const a = await pam.generateJwt('partner_jwt', 'list-agent', 'https://api.partner.example');
    await pam.generateJwt('partner_jwt', 'list-agent', ['https://api.partner.example']);
    await pam.generateJwt('partner_jwt', 'list-agent', ['https://api.partner.example']);
    const consumer = a.consumerId;
    const page = await pam.listTokens(consumer, 'partner_jwt', { maxResults: 1 });
    assert.equal(page.entities.length, 1);
    assert.ok(page.totalCount >= 3);
    assert.ok(page.nextToken);
    assert.ok(!JSON.stringify(page).includes('jwtValue'));
    const all = [];
    for await (const t of pam.listAllTokens(consumer, 'partner_jwt', { maxResults: 1 })) all.push(t);
    assert.equal(all.length, page.totalCount);
    assert.equal(new Set(all.map((t) => t.authenticationTokenId)).size, all.length);
    const all2 = [];
    for await (const t of pam.listAllTokens(consumer, 'partner_jwt')) all2.push(t);
    assert.equal(all2.length, all.length);
    const filtered = await pam.listTokens(consumer, 'partner_jwt', { revoked: false, expired: false });
    assert.ok(Array.isArray(filtered.entities));
    // breaking out of the loop early is fine
    for await (const t of pam.listAllTokens(consumer, 'partner_jwt', { maxResults: 1 })) {
      assert.ok(t.authenticationTokenId);
      break;
    }
    await rejectsWith(assert, pam.listTokens(consumer, 'partner_jwt', { maxResults: -1 }), 'IDAAS_INVALID_ARGUMENT');
    const it = pam.listAllTokens(consumer, 'partner_jwt', { maxResults: -1 });
    await rejectsWith(assert, it.next(), 'IDAAS_INVALID_ARGUMENT');
  });

  test('argument and server errors of the JWT operations', async () => {
    await rejectsWith(assert, pam.generateJwt('partner_jwt', 's', 'urn:cloud:idaas:x'), 'IDAAS_INVALID_ARGUMENT');
    await rejectsWith(assert, pam.generateJwt('partner_jwt', 's', ['a'], { expiry: 1 }), 'IDAAS_INVALID_ARGUMENT');
    await rejectsWith(assert, pam.generateJwt('no_such_provider', 's', ['a']), 'IDAAS_CLIENT_ERROR');
    await rejectsWith(assert, pam.obtainJwt('consumer', 'atntkn_nope'), 'IDAAS_CLIENT_ERROR');
    await rejectsWith(assert, pam.revokeToken(''), 'IDAAS_INVALID_ARGUMENT');
    await rejectsWith(assert, pam.reinstateTokensByConsumer('c', ' '), 'IDAAS_INVALID_ARGUMENT');
    await assert.rejects(pam.obtainJwtByShortToken(), TypeError);
    await assert.rejects(pam.validateToken(null), TypeError);
  });
});
