'use strict';
// The M2M client against the emulator: tokens (async + sync), token exchange, providers, every error
// mapping reachable from JS, 200 concurrent Promises, the event loop ticking during slow calls.
const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const idaas = require('..');
const { startEmulator, rejectsWith, sleep, clientFromFile, clientFromJSON } = require('./helpers');

const AT = 'urn:ietf:params:oauth:token-type:access_token';
let em;

before(async () => {
  em = await startEmulator();
});
after(async () => {
  if (em) await em.stop();
});

describe('init and Config', () => {
  test('init(path), init() with the default lookup, Config.load, Config.fromJSON (object and text)', async () => {
    const a = await idaas.init(em.configPath);
    const saved = process.env.CLOUD_IDAAS_CONFIG_PATH;
    process.env.CLOUD_IDAAS_CONFIG_PATH = em.configPath;
    let b;
    let c;
    try {
      b = await idaas.init();
      c = idaas.Config.load().createClient();
    } finally {
      if (saved === undefined) delete process.env.CLOUD_IDAAS_CONFIG_PATH;
      else process.env.CLOUD_IDAAS_CONFIG_PATH = saved;
    }
    const d = clientFromFile(em.configPath);
    const e = clientFromJSON(em.config);
    const f = clientFromJSON(JSON.stringify(em.config), { asyncRefresh: false });
    for (const cl of [a, b, c, d, e, f]) {
      assert.ok(cl instanceof idaas.Client);
      assert.match(await cl.getBearerToken(), /^eyJ/);
      cl.close();
    }
  });

  test('init: a missing file is a ConfigError (LoadConfigFileFailed), also through the default lookup', async () => {
    await rejectsWith(assert, idaas.init(path.join(em.dir, 'nope.json')), 'IDAAS_CONFIG', (e) => {
      assert.ok(e instanceof idaas.ConfigError);
      assert.equal(e.serverCode, 'LoadConfigFileFailed');
    });
    const saved = process.env.CLOUD_IDAAS_CONFIG_PATH;
    process.env.CLOUD_IDAAS_CONFIG_PATH = path.join(em.dir, 'missing', 'client-config.json');
    try {
      await rejectsWith(assert, idaas.init(), 'IDAAS_CONFIG');
    } finally {
      if (saved === undefined) delete process.env.CLOUD_IDAAS_CONFIG_PATH;
      else process.env.CLOUD_IDAAS_CONFIG_PATH = saved;
    }
    await assert.rejects(idaas.init(42), TypeError);
  });

  test('init(): a default file saved as client_config.json (underscore) is named in the error', async () => {
    const home = fs.mkdtempSync(path.join(em.dir, 'home-'));
    fs.mkdirSync(path.join(home, '.cloud_idaas'));
    fs.writeFileSync(path.join(home, '.cloud_idaas', 'client_config.json'), JSON.stringify(em.config));
    const saved = { HOME: process.env.HOME, CLOUD_IDAAS_CONFIG_PATH: process.env.CLOUD_IDAAS_CONFIG_PATH };
    process.env.HOME = home;
    delete process.env.CLOUD_IDAAS_CONFIG_PATH;
    try {
      await rejectsWith(assert, idaas.init(), 'IDAAS_CONFIG', (e) => assert.match(e.message, /client_config\.json/));
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  test('identifies the binding in the User-Agent (init and Config)', async () => {
    for (const make of [() => idaas.init(em.configPath), async () => clientFromJSON(em.config)]) {
      await em.clearRequests();
      const cl = await make();
      await cl.getBearerToken();
      const log = await em.requests('/token');
      const entries = Array.isArray(log) ? log : log.requests || [];
      assert.match(JSON.stringify(entries), /idaas-node\//);
      cl.close();
    }
  });

  test('config errors: ConfigError (missing file, invalid content), ArgumentError (bad options)', () => {
    assert.throws(
      () => idaas.Config.load(path.join(em.dir, 'nope.json')),
      (err) =>
        err instanceof idaas.ConfigError && err.code === 'IDAAS_CONFIG' && err.codeNumber === 200 && err.serverCode === 'LoadConfigFileFailed',
    );
    assert.throws(() => idaas.Config.fromJSON('{}'), (err) => err instanceof idaas.ConfigError);
    assert.throws(() => idaas.Config.fromJSON('not json'), (err) => err.code === 'IDAAS_CONFIG');
    const cfg = idaas.Config.fromJSON(em.config);
    assert.throws(() => cfg.createClient({ asyncRefresh: 'yes' }), (err) => err instanceof idaas.ArgumentError);
    assert.throws(() => cfg.createClient({ asyncRefersh: false }), (err) => err.code === 'IDAAS_INVALID_ARGUMENT');
    assert.throws(() => cfg.createClient({ prefetch: true }), TypeError);
    cfg.close();
    assert.throws(() => cfg.createClient(), (err) => err.code === 'ERR_IDAAS_CLOSED');
    assert.throws(() => idaas.Config.load('a\0b'), TypeError);
    assert.throws(() => idaas.Config.fromJSON(), TypeError);
  });

  test('clients outlive their config', async () => {
    const cfg = idaas.Config.load(em.configPath);
    const cl = cfg.createClient();
    cfg.close();
    assert.match(await cl.getBearerToken(), /^eyJ/);
    cl.close();
  });
});

describe('tokens', () => {
  test('getBearerToken / getBearerTokenSync share the cache; scopes', async () => {
    const cl = clientFromFile(em.configPath);
    const t = await cl.getBearerToken();
    assert.equal(cl.getBearerTokenSync(), t);
    assert.equal(await cl.getBearerToken(null), t);
    const scoped = await cl.getBearerToken('api.example.com|read:file');
    assert.notEqual(scoped, t);
    assert.equal(cl.getBearerTokenSync('api.example.com|read:file'), scoped);
    cl.close();
  });

  test('providers: client scope (cached), static, from a credential', async () => {
    const cl = clientFromFile(em.configPath);
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
    const cl = clientFromFile(em.configPath);
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
    const cl2 = clientFromFile(em.configPath);
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
    const cl = clientFromFile(em.configPath);
    await rejectsWith(assert, cl.getBearerToken('bad scope'), 'IDAAS_INVALID_ARGUMENT', (e) => {
      assert.equal(e.codeNumber, 102);
      assert.equal(e.httpStatus, 0);
    });
    assert.throws(() => cl.getBearerTokenSync('bad scope'), (e) => e.code === 'IDAAS_INVALID_ARGUMENT');
    assert.throws(() => cl.provider('bad scope'), (e) => e.code === 'IDAAS_INVALID_ARGUMENT');
    cl.close();
  });

  test('IDAAS_AUTH: scope not granted; wrong secret (401 invalid_client + request id, no secret)', async () => {
    const cl = clientFromFile(em.configPath);
    await rejectsWith(assert, cl.getBearerToken('api.example.com|admin'), 'IDAAS_AUTH', (e) => {
      assert.ok(e.httpStatus >= 400 && e.httpStatus < 500);
      assert.ok(e.serverCode);
    });
    cl.close();
    process.env[em.secretVar] = 'not-the-secret';
    try {
      const bad = clientFromFile(em.configPath);
      await rejectsWith(assert, bad.getBearerToken(), 'IDAAS_AUTH', (e) => {
        assert.equal(e.codeNumber, 301);
        assert.equal(e.kind, 'auth');
        assert.equal(e.httpStatus, 401);
        assert.equal(e.serverCode, 'invalid_client');
        assert.ok(e.requestId);
        assert.ok(!e.message.includes('not-the-secret'));
        assert.equal(e.retryable, false);
        assert.ok(e instanceof idaas.AuthenticationError);
        assert.ok(e instanceof idaas.IdaasError);
        assert.ok(e instanceof Error);
        assert.equal(e.name, 'AuthenticationError');
        assert.match(e.stack, /^AuthenticationError: /);
      });
      bad.close();
    } finally {
      process.env[em.secretVar] = em.info.clientSecret;
    }
  });

  test('IDAAS_CREDENTIAL: the secret variable is not set', async () => {
    delete process.env[em.secretVar];
    try {
      const cl = clientFromFile(em.configPath);
      await rejectsWith(assert, cl.getBearerToken(), 'IDAAS_CREDENTIAL', (e) => assert.match(e.message, new RegExp(em.secretVar)));
      cl.close();
    } finally {
      process.env[em.secretVar] = em.info.clientSecret;
    }
  });

  test('IDAAS_SERVER_ERROR / IDAAS_UNEXPECTED_RESPONSE / IDAAS_TRANSPORT through faults', async () => {
    try {
      await em.addFault('token=status/503:10');
      let cl = clientFromFile(em.configPath);
      await rejectsWith(assert, cl.getBearerToken(), 'IDAAS_SERVER_ERROR', (e) => {
        assert.equal(e.httpStatus, 503);
        assert.equal(e.codeNumber, 401);
        assert.equal(e.retryable, true);
        assert.ok(e instanceof idaas.ServerReplyError);
      });
      cl.close();
      await em.clearFaults();
      await em.addFault('token=status/429:10');
      cl = clientFromFile(em.configPath);
      await rejectsWith(assert, cl.getBearerToken(), 'IDAAS_CLIENT_ERROR', (e) => {
        assert.equal(e.httpStatus, 429);
        assert.equal(e.retryable, true, 'the library says a throttled request may be retried');
        assert.ok(e instanceof idaas.ServerReplyError);
      });
      cl.close();
      await em.clearFaults();
      await em.addFault('token=non-json:10');
      cl = clientFromFile(em.configPath);
      await rejectsWith(assert, cl.getBearerToken(), 'IDAAS_UNEXPECTED_RESPONSE', (e) => assert.equal(e.retryable, false));
      cl.close();
      await em.clearFaults();
      await em.addFault('token=reset:10');
      cl = clientFromFile(em.configPath);
      await rejectsWith(assert, cl.getBearerToken(), 'IDAAS_TRANSPORT', (e) => {
        assert.equal(e.retryable, true);
        assert.ok(e instanceof idaas.NetworkError);
      });
      cl.close();
    } finally {
      await em.clearFaults();
    }
    const refused = clientFromJSON({
        idaasInstanceId: 'i',
        clientId: 'app_secret',
        issuer: 'http://127.0.0.1:1/oauth2',
        tokenEndpoint: 'http://127.0.0.1:1/oauth2/token',
        authnConfiguration: { authnMethod: 'CLIENT_SECRET_POST', clientSecretEnvVarName: em.secretVar },
    });
    await rejectsWith(assert, refused.getBearerToken(), 'IDAAS_TRANSPORT', (e) => assert.equal(e.httpStatus, 0));
    refused.close();
  });

  test('IDAAS_TIMEOUT: read timeout', async () => {
    const cfg = JSON.parse(JSON.stringify(em.config));
    cfg.httpConfiguration = { ...cfg.httpConfiguration, readTimeout: 2000 };
    await em.addFault('token=latency/4000:10');
    try {
      const cl = clientFromJSON(cfg);
      await rejectsWith(assert, cl.getBearerToken(), 'IDAAS_TIMEOUT', (e) => {
        assert.equal(e.codeNumber, 501);
        assert.equal(e.retryable, true);
        assert.ok(e instanceof idaas.NetworkError);
      });
      cl.close();
    } finally {
      await em.clearFaults();
    }
  });

  test('IDAAS_UNSUPPORTED (release build) / IDAAS_PANIC (test-hooks build) through the real error path', () => {
    const native = require(process.env.IDAAS_NODE_ADDON ? path.resolve(process.env.IDAAS_NODE_ADDON) : '../build/idaas.node');
    assert.throws(
      () => native.debugPanic(),
      (e) =>
        e instanceof idaas.InternalError && ['IDAAS_UNSUPPORTED', 'IDAAS_PANIC'].includes(e.code) && e.codeNumber >= 900,
    );
  });

  test('codes and classes come from the header: every code has its class and error type', () => {
    // contract.js is generated from include/idaas.h (scripts/gen-contract.py --check in CI): the codes
    // seen here are the header's
    const header = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'include', 'idaas.h'), 'utf8');
    const inHeader = [...header.matchAll(/IDAAS_CODE_([A-Z0-9_]+) = (\d+)/g)].map(([, n, v]) => [`IDAAS_${n}`, Number(v)]);
    assert.deepEqual(Object.entries(idaas.ErrorCodes), inHeader);
    const byClass = {
      1: idaas.ArgumentError,
      2: idaas.ConfigError,
      3: idaas.AuthenticationError,
      4: idaas.ServerReplyError,
      5: idaas.NetworkError,
      6: idaas.CancelledError,
      9: idaas.InternalError,
    };
    const native = require(process.env.IDAAS_NODE_ADDON ? path.resolve(process.env.IDAAS_NODE_ADDON) : '../build/idaas.node');
    for (const [name, n] of inHeader) {
      if (n === 0) continue;
      const cls = native.codeClass(n);
      assert.ok(byClass[cls], `${name}: class ${cls} has an error type`);
    }
    // the groups as the header documents them, checked against the library's verdict
    assert.equal(native.codeClass(idaas.ErrorCodes.IDAAS_REENTRANT_CALL), 1);
    assert.equal(native.codeClass(idaas.ErrorCodes.IDAAS_CREDENTIAL), 3);
    assert.equal(native.codeClass(idaas.ErrorCodes.IDAAS_TIMEOUT), 5);
    // a code of a newer library: classified by the library, named by the library
    assert.equal(native.codeClass(777), 9);
    assert.equal(native.codeName(777), 'unknown');
    assert.equal(native.codeClass(450), 4);
    assert.equal(new idaas.IdaasError('m', { codeNumber: 777 }).code, 'IDAAS_UNKNOWN');
  });

  test('closed handles and bad argument types', async () => {
    const cl = clientFromFile(em.configPath);
    cl.close();
    cl.close(); // idempotent
    assert.equal(cl.closed, true);
    await assert.rejects(cl.getBearerToken(), (e) => e.code === 'ERR_IDAAS_CLOSED');
    assert.throws(() => cl.getBearerTokenSync(), (e) => e.code === 'ERR_IDAAS_CLOSED');
    assert.throws(() => cl.pam(), (e) => e.code === 'ERR_IDAAS_CLOSED');
    const cl2 = clientFromFile(em.configPath);
    await assert.rejects(cl2.getBearerToken(42), TypeError);
    assert.throws(() => cl2.getBearerTokenSync({}), TypeError);
    await assert.rejects(cl2.getBearerToken('a\0b'), TypeError);
    cl2.close();
  });
});

describe('concurrency and the event loop', () => {
  test('200 concurrent Promises on one client', async () => {
    const cl = clientFromFile(em.configPath);
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
      const clients = Array.from({ length: 4 }, () => clientFromFile(em.configPath));
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
      const cl = clientFromFile(em.configPath);
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
    const cl = clientFromFile(em.configPath);
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
        const c = clientFromFile(em.configPath);
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
