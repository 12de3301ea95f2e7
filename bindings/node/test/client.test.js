'use strict';
// The M2M client against the emulator: tokens (async + sync), token exchange, providers, every error
// mapping reachable from JS, 200 concurrent Promises, the event loop ticking during slow calls.
const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const idaas = require('..');
const { startEmulator, rejectsWith, sleep } = require('./helpers');

const AT = 'urn:ietf:params:oauth:token-type:access_token';
let em;

before(async () => {
  em = await startEmulator();
});
after(async () => {
  if (em) await em.stop();
});

describe('createClient', () => {
  test('from configPath, config object, config JSON and the default lookup', async () => {
    const a = idaas.createClient({ configPath: em.configPath });
    const b = idaas.createClient({ config: em.config });
    const c = idaas.createClient({ config: JSON.stringify(em.config) });
    const saved = process.env.CLOUD_IDAAS_CONFIG_PATH;
    process.env.CLOUD_IDAAS_CONFIG_PATH = em.configPath;
    const d = idaas.createClient();
    if (saved === undefined) delete process.env.CLOUD_IDAAS_CONFIG_PATH;
    else process.env.CLOUD_IDAAS_CONFIG_PATH = saved;
    for (const cl of [a, b, c, d]) {
      assert.ok(cl instanceof idaas.Client);
      assert.match(await cl.getBearerToken(), /^eyJ/);
      cl.close();
    }
  });

  test('identifies the binding in the User-Agent', async () => {
    await em.clearRequests();
    const cl = idaas.createClient({ config: em.config });
    await cl.getBearerToken();
    const log = await em.requests('/token');
    const entries = Array.isArray(log) ? log : log.requests || [];
    const text = JSON.stringify(entries);
    assert.match(text, /idaas-node\//);
    cl.close();
  });

  test('createClientAsync with prefetch surfaces credential errors at creation', async () => {
    const ok = await idaas.createClientAsync({ config: em.config, prefetch: true });
    assert.match(ok.getBearerTokenSync(), /^eyJ/); // already cached: no I/O
    ok.close();
    process.env[em.secretVar] = 'wrong-secret';
    try {
      await rejectsWith(assert, idaas.createClientAsync({ config: em.config, prefetch: true }), 'IDAAS_AUTH');
    } finally {
      process.env[em.secretVar] = em.info.clientSecret;
    }
    assert.throws(() => idaas.createClient({ config: em.config, prefetch: true }), TypeError);
  });

  test('config errors: IDAAS_CONFIG (missing file, invalid content, bad options)', async () => {
    let e = assert.throws(() => idaas.createClient({ configPath: path.join(em.dir, 'nope.json') }), idaas.IdaasError);
    assert.throws(
      () => idaas.createClient({ configPath: path.join(em.dir, 'nope.json') }),
      (err) => err.code === 'IDAAS_CONFIG' && err.codeNumber === 200 && err.serverCode === 'LoadConfigFileFailed',
    );
    assert.throws(() => idaas.createClient({ config: '{}' }), (err) => err.code === 'IDAAS_CONFIG');
    assert.throws(() => idaas.createClient({ config: 'not json' }), (err) => err.code === 'IDAAS_CONFIG');
    assert.throws(
      () => idaas.createClient({ config: em.config, asyncRefresh: 'yes' }),
      (err) => err.code === 'IDAAS_INVALID_ARGUMENT',
    );
    assert.throws(() => idaas.createClient({ config: em.config, configPath: em.configPath }), TypeError);
    assert.throws(() => idaas.createClient({ configPath: 'a\0b' }), TypeError);
    void e;
  });
});

describe('tokens', () => {
  test('getBearerToken / getBearerTokenSync share the cache; scopes', async () => {
    const cl = idaas.createClient({ configPath: em.configPath });
    const t = await cl.getBearerToken();
    assert.equal(cl.getBearerTokenSync(), t);
    assert.equal(await cl.getBearerToken(null), t);
    const scoped = await cl.getBearerToken('api.example.com|read:file');
    assert.notEqual(scoped, t);
    assert.equal(cl.getBearerTokenSync('api.example.com|read:file'), scoped);
    cl.close();
  });

  test('providers: client scope (cached), static, from a credential', async () => {
    const cl = idaas.createClient({ configPath: em.configPath });
    const p = cl.provider();
    const t = await p.getToken();
    assert.equal(p.getTokenSync(), t);
    cl.close(); // the provider stays valid
    assert.equal(await p.getToken(), t);
    p.close();
    const s = idaas.staticProvider('static-token-value', 0);
    assert.equal(await s.getToken(), 'static-token-value');
    assert.equal(s.getTokenSync(), 'static-token-value');
    s.close();
    assert.throws(() => idaas.staticProvider('  '), (e) => e.code === 'IDAAS_INVALID_ARGUMENT');
    const fc = idaas.providerFromCredential({ access_token: 'abc', token_type: 'Bearer' });
    assert.equal(fc.getTokenSync(), 'abc');
    assert.throws(() => idaas.providerFromCredential('{'), (e) => e.code === 'IDAAS_INVALID_ARGUMENT');
  });

  test('token exchange: client and exchange provider; credential objects', async () => {
    const cl = idaas.createClient({ configPath: em.configPath });
    const subject = await cl.getBearerToken();
    const cred = await cl.exchangeToken({ subjectToken: subject, subjectTokenType: AT });
    assert.equal(typeof cred.access_token, 'string');
    assert.ok(cred.expires_at > 1700000000);
    assert.ok(cred.expires_in > 0);
    const scoped = await cl.exchangeToken({
      subjectToken: subject,
      subjectTokenType: idaas.TokenTypes.ACCESS_TOKEN,
      requestedTokenType: AT,
      scope: 'api.example.com|read:file',
    });
    assert.equal(typeof scoped.access_token, 'string');
    const xp = cl.exchangeProvider('api.example.com|read:file');
    cl.close();
    const x = await xp.exchange({ subjectToken: subject, subjectTokenType: AT });
    assert.equal(typeof x.access_token, 'string');
    const err = await xp.exchange({ subjectToken: 'not-a-token', subjectTokenType: AT }).catch((e) => e);
    assert.ok(err instanceof idaas.IdaasError);
    assert.ok(['IDAAS_AUTH', 'IDAAS_CLIENT_ERROR'].includes(err.code), err.code);
    assert.ok(err.httpStatus >= 400);
    await rejectsWith(assert, xp.exchange({ subjectToken: ' ', subjectTokenType: AT }), 'IDAAS_INVALID_ARGUMENT');
    await assert.rejects(xp.exchange({ subjectTokenType: AT }), TypeError);
    xp.close();
    const cl2 = idaas.createClient({ configPath: em.configPath });
    await rejectsWith(
      assert,
      cl2.exchangeToken({ subjectToken: subject, subjectTokenType: AT, scope: 'bad scope' }),
      'IDAAS_INVALID_ARGUMENT',
    );
    await rejectsWith(assert, cl2.exchangeToken({ subjectToken: subject, subjectTokenType: '' }), 'IDAAS_INVALID_ARGUMENT');
    assert.throws(() => cl2.exchangeProvider('x y'), (e) => e.code === 'IDAAS_INVALID_ARGUMENT');
    cl2.close();
  });
});

describe('error mapping', () => {
  test('IDAAS_INVALID_ARGUMENT: invalid scope (async and sync)', async () => {
    const cl = idaas.createClient({ configPath: em.configPath });
    await rejectsWith(assert, cl.getBearerToken('bad scope'), 'IDAAS_INVALID_ARGUMENT', (e) => {
      assert.equal(e.codeNumber, 102);
      assert.equal(e.httpStatus, 0);
    });
    assert.throws(() => cl.getBearerTokenSync('bad scope'), (e) => e.code === 'IDAAS_INVALID_ARGUMENT');
    assert.throws(() => cl.provider('bad scope'), (e) => e.code === 'IDAAS_INVALID_ARGUMENT');
    cl.close();
  });

  test('IDAAS_AUTH: scope not granted; wrong secret (401 invalid_client + request id, no secret)', async () => {
    const cl = idaas.createClient({ configPath: em.configPath });
    await rejectsWith(assert, cl.getBearerToken('api.example.com|admin'), 'IDAAS_AUTH', (e) => {
      assert.ok(e.httpStatus >= 400 && e.httpStatus < 500);
      assert.ok(e.serverCode);
    });
    cl.close();
    process.env[em.secretVar] = 'not-the-secret';
    try {
      const bad = idaas.createClient({ configPath: em.configPath });
      await rejectsWith(assert, bad.getBearerToken(), 'IDAAS_AUTH', (e) => {
        assert.equal(e.codeNumber, 301);
        assert.equal(e.kind, 'auth');
        assert.equal(e.httpStatus, 401);
        assert.equal(e.serverCode, 'invalid_client');
        assert.ok(e.requestId);
        assert.ok(!e.message.includes('not-the-secret'));
        assert.equal(e.retryable, false);
        assert.ok(e instanceof Error);
        assert.equal(e.name, 'IdaasError');
      });
      bad.close();
    } finally {
      process.env[em.secretVar] = em.info.clientSecret;
    }
  });

  test('IDAAS_CREDENTIAL: the secret variable is not set', async () => {
    delete process.env[em.secretVar];
    try {
      const cl = idaas.createClient({ configPath: em.configPath });
      await rejectsWith(assert, cl.getBearerToken(), 'IDAAS_CREDENTIAL', (e) => assert.match(e.message, new RegExp(em.secretVar)));
      cl.close();
    } finally {
      process.env[em.secretVar] = em.info.clientSecret;
    }
  });

  test('IDAAS_SERVER_ERROR / IDAAS_UNEXPECTED_RESPONSE / IDAAS_TRANSPORT through faults', async () => {
    try {
      await em.addFault('token=status/503:10');
      let cl = idaas.createClient({ configPath: em.configPath });
      await rejectsWith(assert, cl.getBearerToken(), 'IDAAS_SERVER_ERROR', (e) => {
        assert.equal(e.httpStatus, 503);
        assert.equal(e.codeNumber, 401);
        assert.equal(e.retryable, true);
      });
      cl.close();
      await em.clearFaults();
      await em.addFault('token=non-json:10');
      cl = idaas.createClient({ configPath: em.configPath });
      await rejectsWith(assert, cl.getBearerToken(), 'IDAAS_UNEXPECTED_RESPONSE');
      cl.close();
      await em.clearFaults();
      await em.addFault('token=reset:10');
      cl = idaas.createClient({ configPath: em.configPath });
      await rejectsWith(assert, cl.getBearerToken(), 'IDAAS_TRANSPORT', (e) => assert.equal(e.retryable, true));
      cl.close();
    } finally {
      await em.clearFaults();
    }
    const refused = idaas.createClient({
      config: {
        idaasInstanceId: 'i',
        clientId: 'app_secret',
        issuer: 'http://127.0.0.1:1/oauth2',
        tokenEndpoint: 'http://127.0.0.1:1/oauth2/token',
        authnConfiguration: { authnMethod: 'CLIENT_SECRET_POST', clientSecretEnvVarName: em.secretVar },
      },
    });
    await rejectsWith(assert, refused.getBearerToken(), 'IDAAS_TRANSPORT', (e) => assert.equal(e.httpStatus, 0));
    refused.close();
  });

  test('IDAAS_TIMEOUT: read timeout', async () => {
    const cfg = JSON.parse(JSON.stringify(em.config));
    cfg.httpConfiguration = { ...cfg.httpConfiguration, readTimeout: 2000 };
    await em.addFault('token=latency/4000:10');
    try {
      const cl = idaas.createClient({ config: cfg });
      await rejectsWith(assert, cl.getBearerToken(), 'IDAAS_TIMEOUT', (e) => assert.equal(e.codeNumber, 501));
      cl.close();
    } finally {
      await em.clearFaults();
    }
  });

  test('IDAAS_UNSUPPORTED (release build) / IDAAS_PANIC (test-hooks build) through the real error path', () => {
    const native = require(process.env.IDAAS_NODE_ADDON ? path.resolve(process.env.IDAAS_NODE_ADDON) : '../build/idaas.node');
    assert.throws(
      () => native.debugPanic(),
      (e) => e instanceof idaas.IdaasError && ['IDAAS_UNSUPPORTED', 'IDAAS_PANIC'].includes(e.code) && e.codeNumber >= 900,
    );
  });

  test('the code table covers every header code; unknown codes map by name', () => {
    const expected = {
      IDAAS_NULL_ARGUMENT: 100, IDAAS_INVALID_UTF8: 101, IDAAS_INVALID_ARGUMENT: 102, IDAAS_BUFFER_TOO_SMALL: 103,
      IDAAS_REENTRANT_CALL: 104,
      IDAAS_CONFIG: 200, IDAAS_CREDENTIAL: 300, IDAAS_AUTH: 301, IDAAS_CLIENT_ERROR: 400, IDAAS_SERVER_ERROR: 401,
      IDAAS_UNEXPECTED_RESPONSE: 402, IDAAS_TRANSPORT: 500, IDAAS_TIMEOUT: 501, IDAAS_CANCELLED: 600,
      IDAAS_INTERNAL: 900, IDAAS_PANIC: 901, IDAAS_UNSUPPORTED: 902,
    };
    for (const [name, n] of Object.entries(expected)) {
      assert.equal(idaas.ErrorCodes[name], n);
      const e = new idaas.IdaasError('m', { codeNumber: n });
      assert.equal(e.code, name);
    }
    const header = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'include', 'idaas.h'), 'utf8');
    const inHeader = [...header.matchAll(/IDAAS_CODE_([A-Z0-9_]+) = (\d+)/g)].filter(([, n]) => n !== 'OK');
    assert.equal(inHeader.length, Object.keys(expected).length, 'a code was added to the header');
    for (const [, , num] of inHeader) assert.ok(Object.values(expected).includes(Number(num)), `code ${num}`);
    assert.equal(new idaas.IdaasError('m', { codeNumber: 777 }).code, 'IDAAS_UNKNOWN');
    assert.equal(new idaas.IdaasError('m', { codeNumber: 400, httpStatus: 429 }).retryable, true);
  });

  test('closed handles and bad argument types', async () => {
    const cl = idaas.createClient({ configPath: em.configPath });
    cl.close();
    cl.close(); // idempotent
    assert.equal(cl.closed, true);
    await assert.rejects(cl.getBearerToken(), (e) => e.code === 'ERR_IDAAS_CLOSED');
    assert.throws(() => cl.getBearerTokenSync(), (e) => e.code === 'ERR_IDAAS_CLOSED');
    assert.throws(() => cl.pam(), (e) => e.code === 'ERR_IDAAS_CLOSED');
    const cl2 = idaas.createClient({ configPath: em.configPath });
    await assert.rejects(cl2.getBearerToken(42), TypeError);
    assert.throws(() => cl2.getBearerTokenSync({}), TypeError);
    await assert.rejects(cl2.getBearerToken('a\0b'), TypeError);
    cl2.close();
  });
});

describe('concurrency and the event loop', () => {
  test('200 concurrent Promises on one client', async () => {
    const cl = idaas.createClient({ configPath: em.configPath });
    const pam = cl.pam();
    const scopes = [undefined, 'api.example.com|read:file', 'api.example.com|write:file'];
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        i % 4 === 3 ? pam.getApiKey('openai_prod_key') : cl.getBearerToken(scopes[i % 3]),
      ),
    );
    assert.equal(results.length, 200);
    const byScope = new Map();
    results.forEach((r, i) => {
      if (i % 4 === 3) return assert.equal(r, 'sk-EXAMPLE0123456789abcdef');
      const s = String(scopes[i % 3]);
      if (!byScope.has(s)) byScope.set(s, r);
      assert.equal(r, byScope.get(s), 'one cached token per scope');
    });
    assert.equal(byScope.size, 3);
    pam.close();
    cl.close();
  });

  test('the event loop keeps ticking while slow calls are in flight', async () => {
    await em.addFault('any=latency/700:40');
    try {
      const clients = Array.from({ length: 4 }, () => idaas.createClient({ configPath: em.configPath }));
      const period = 20;
      const ticks = [];
      const timer = setInterval(() => ticks.push(performance.now()), period);
      const t0 = performance.now();
      const calls = clients.flatMap((cl) => [cl.getBearerToken(), cl.getBearerToken('api.example.com|read:file')]);
      const results = await Promise.all(calls);
      const elapsed = performance.now() - t0;
      clearInterval(timer);
      assert.equal(results.length, 8);
      assert.ok(elapsed >= 650, `the latency fault applied (${elapsed.toFixed(0)} ms)`);
      const expected = elapsed / period;
      assert.ok(ticks.length >= expected * 0.6, `${ticks.length} ticks in ${elapsed.toFixed(0)} ms (expected ~${expected.toFixed(0)})`);
      let maxGap = 0;
      for (let i = 1; i < ticks.length; i++) maxGap = Math.max(maxGap, ticks[i] - ticks[i - 1]);
      assert.ok(maxGap < 250, `max gap between ticks ${maxGap.toFixed(0)} ms`);
      clients.forEach((c) => c.close());
    } finally {
      await em.clearFaults();
    }
  });

  test('close() while calls are in flight: they complete, the handle is freed afterwards', async () => {
    await em.addFault('token=latency/300:2');
    try {
      const cl = idaas.createClient({ configPath: em.configPath });
      const p = cl.getBearerToken();
      cl.close();
      assert.match(await p, /^eyJ/);
      await assert.rejects(cl.getBearerToken(), (e) => e.code === 'ERR_IDAAS_CLOSED');
    } finally {
      await em.clearFaults();
    }
  });

  test('close() frees native handles at once; dropped handles are freed by the GC finalizer', async (t) => {
    const base = idaas.nativeStats().liveHandles;
    const cl = idaas.createClient({ configPath: em.configPath });
    const pam = cl.pam();
    const p = cl.provider();
    const xp = cl.exchangeProvider();
    assert.equal(idaas.nativeStats().liveHandles, base + 4);
    for (const h of [xp, p, pam, cl]) h.close();
    assert.equal(idaas.nativeStats().liveHandles, base);
    if (typeof global.gc !== 'function') {
      t.skip('needs --expose-gc');
      return;
    }
    (() => {
      for (let i = 0; i < 200; i++) {
        const c = idaas.createClient({ configPath: em.configPath });
        c.pam();
        c.provider();
      }
    })();
    assert.ok(idaas.nativeStats().liveHandles >= base + 100);
    for (let i = 0; i < 20 && idaas.nativeStats().liveHandles > base; i++) {
      global.gc();
      await sleep(20);
    }
    assert.equal(idaas.nativeStats().liveHandles, base, 'every dropped handle finalized');
  });
});
