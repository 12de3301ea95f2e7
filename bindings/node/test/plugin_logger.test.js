'use strict';
// PLUGIN clients (the JS plugin runs on the main thread while a native thread waits for it), their
// release with their config, the waits that would never end, loggers (per config and process-wide),
// worker_threads, entry points.
const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const idaas = require('..');
const { startEmulator, rejectsWith, sleep, eventually, clientFromFile } = require('./helpers');

let em;
before(async () => {
  em = await startEmulator();
});
after(async () => {
  idaas.setLogger(null);
  if (em) await em.stop();
});

function pluginConfig(name, http) {
  return {
    idaasInstanceId: 'idaas_test',
    clientId: 'app_test',
    issuer: 'http://127.0.0.1:9/api/v2/iauths_system/oauth2',
    tokenEndpoint: 'http://127.0.0.1:9/api/v2/iauths_system/oauth2/token',
    authnConfiguration: { authnMethod: 'PLUGIN', pluginName: name },
    ...(http ? { httpConfiguration: http } : {}),
  };
}

/** A client of a PLUGIN config with `fn` added as plugin `name` (the Config is closed at once). */
function pluginClient(name, fn, options, http) {
  const cfg = idaas.Config.fromJSON(pluginConfig(name, http));
  try {
    cfg.addPlugin(name, fn, options);
    return cfg.createClient();
  } finally {
    cfg.close();
  }
}

describe('plugins', () => {
  test('an async plugin with a lifetime: called once per scope, then cached (also for the sync read)', async () => {
    const calls = [];
    const c = pluginClient('node-cached', async (scope) => {
      calls.push(scope);
      await sleep(5);
      return { token: `plugin-token-${scope}`, expiresIn: 3600 };
    });
    const t = await c.getBearerToken();
    assert.match(t, /^plugin-token-/);
    assert.equal(await c.getBearerToken(), t);
    assert.equal(c.getBearerTokenSync(), t); // cached: the plugin is not needed
    assert.equal(calls.length, 1);
    const scoped = await Promise.all(Array.from({ length: 50 }, (_, i) => c.getBearerToken(`api.example.com|s${i % 5}`)));
    scoped.forEach((s, i) => assert.equal(s, `plugin-token-api.example.com|s${i % 5}`));
    assert.equal(calls.length, 6);
    assert.throws(() => c.exchangeProvider(), (e) => e instanceof idaas.ConfigError);
    c.close();
  });

  test('a sync plugin returning a bare string: no lifetime, asked on every use', async () => {
    let n = 0;
    const c = pluginClient('node-string', () => `t${++n}`);
    assert.equal(await c.getBearerToken(), 't1');
    assert.equal(await c.getBearerToken(), 't2');
    c.close();
  });

  test('plugins belong to their config: clients made before a plugin was added do not see it', async () => {
    const cfg = idaas.Config.fromJSON(pluginConfig('node-later'));
    assert.throws(() => cfg.createClient(), (e) => e instanceof idaas.ConfigError);
    cfg.addPlugin('node-later', () => ({ token: 'first', expiresIn: 3600 }));
    const a = cfg.createClient();
    cfg.addPlugin('node-later', () => ({ token: 'second', expiresIn: 3600 })); // replaces it for later clients
    const b = cfg.createClient();
    cfg.close();
    assert.equal(await a.getBearerToken(), 'first');
    assert.equal(await b.getBearerToken(), 'second');
    a.close();
    b.close();
  });

  test('a plugin is released with its config and the last client using it (no global registry)', async () => {
    await sleep(100); // the callbacks of earlier tests' closed clients finish their release first
    const base = idaas.nativeStats().liveCallbacks;
    const cfg = idaas.Config.fromJSON(pluginConfig('node-released'));
    cfg.addPlugin('node-released', () => ({ token: 'r', expiresIn: 3600 }));
    cfg.setLogger(() => {}, { level: 'debug' });
    assert.equal(idaas.nativeStats().liveCallbacks, base + 2);
    const c1 = cfg.createClient();
    const c2 = cfg.createClient();
    cfg.close();
    assert.equal(await c1.getBearerToken(), 'r');
    c1.close();
    await sleep(50);
    assert.equal(idaas.nativeStats().liveCallbacks, base + 2, 'c2 still uses the plugin and the logger');
    assert.equal(await c2.getBearerToken(), 'r');
    c2.close();
    await eventually(() => idaas.nativeStats().liveCallbacks === base, 5000, 'plugin and logger released');
    // a replaced plugin is released as soon as nothing uses it
    const cfg2 = idaas.Config.fromJSON(pluginConfig('node-replaced'));
    cfg2.addPlugin('node-replaced', () => 'a');
    cfg2.addPlugin('node-replaced', () => 'b');
    await eventually(() => idaas.nativeStats().liveCallbacks === base + 1, 5000, 'the replaced plugin released');
    cfg2.close();
    await eventually(() => idaas.nativeStats().liveCallbacks === base, 5000, 'the plugin released with its config');
  });

  test('plugins and loggers of configs and clients dropped without close() are released by the GC', async (t) => {
    if (typeof global.gc !== 'function') {
      t.skip('needs --expose-gc');
      return;
    }
    await sleep(100);
    const base = idaas.nativeStats().liveCallbacks;
    await (async () => {
      for (let i = 0; i < 20; i++) {
        const cfg = idaas.Config.fromJSON(pluginConfig('node-dropped'));
        cfg.addPlugin('node-dropped', () => ({ token: `d${i}`, expiresIn: 3600 }));
        cfg.setLogger(() => {});
        const c = cfg.createClient();
        assert.equal(await c.getBearerToken(), `d${i}`);
      }
    })();
    assert.ok(idaas.nativeStats().liveCallbacks >= base + 2);
    for (let i = 0; i < 50 && idaas.nativeStats().liveCallbacks > base; i++) {
      global.gc();
      await sleep(20);
    }
    assert.equal(idaas.nativeStats().liveCallbacks, base, 'every plugin and logger released');
  });

  test('deadlock rule: a synchronous call that needs the plugin fails at once with IDAAS_CREDENTIAL', async () => {
    let n = 0;
    const c = pluginClient('node-sync', () => {
      n++;
      return { token: 'x', expiresIn: 3600 };
    });
    // the async API works, and then the sync read is served from the cache
    assert.equal(await c.getBearerToken(), 'x');
    assert.equal(c.getBearerTokenSync(), 'x');
    assert.equal(n, 1);
    // a scope with nothing cached would need the plugin while the main thread waits: refused at once
    const t0 = Date.now();
    assert.throws(
      () => c.getBearerTokenSync('api.example.com|cold'),
      (e) => e.code === 'IDAAS_CREDENTIAL' && /synchronous call on the main thread/.test(e.message),
    );
    assert.ok(Date.now() - t0 < 1000);
    assert.equal(n, 1);
    c.close();
  });

  test('a plugin that awaits its own client for the token it is fetching gets an error, not a hang', async () => {
    // The client's cache waits for the plugin, the plugin waits for the cache: the inner call gives
    // up after twice the call budget (RefreshWaitTimeout), the plugin fails, and so does the outer
    // call — well before the plugin's own 30 s timeout.
    const callTimeout = 2000;
    for (const sync of [false, true]) {
      let client;
      const inner = [];
      client = pluginClient(
        `node-self-${sync}`,
        async () => {
          try {
            return { token: sync ? client.getBearerTokenSync() : await client.getBearerToken(), expiresIn: 3600 };
          } catch (e) {
            inner.push(e);
            throw e;
          }
        },
        {},
        { callTimeout },
      );
      const t0 = Date.now();
      await rejectsWith(assert, client.getBearerToken(), 'IDAAS_CREDENTIAL', (e) => {
        assert.ok(e instanceof idaas.AuthenticationError);
        assert.equal(e.serverCode, 'PluginFailed');
        assert.match(e.message, /gave up waiting/);
      });
      const waited = Date.now() - t0;
      assert.ok(waited >= 2 * callTimeout - 500, `gave up after ${waited} ms: twice the call budget`);
      assert.ok(waited < 4 * callTimeout + 4000, `returned after ${waited} ms, not after the plugin timeout`);
      assert.equal(inner.length, 1);
      assert.ok(inner[0] instanceof idaas.NetworkError, inner[0].stack);
      assert.equal(inner[0].code, 'IDAAS_TIMEOUT');
      assert.equal(inner[0].serverCode, 'RefreshWaitTimeout');
      client.close();
    }
  });

  test('a sync read waiting for a token whose plugin is running gives up (RefreshWaitTimeout); then the plugin answers', async () => {
    let answer;
    const c = pluginClient('node-inflight', () => new Promise((resolve) => (answer = resolve)), { timeoutMs: 30000 }, {
      callTimeout: 2000,
    });
    const pending = c.getBearerToken(); // a worker thread fetches: it waits for the plugin ...
    await eventually(() => answer !== undefined, 5000, 'the plugin was asked');
    const t0 = Date.now();
    assert.throws(
      () => c.getBearerTokenSync(), // ... and the JS thread blocks waiting for that same fetch
      (e) => e instanceof idaas.NetworkError && e.serverCode === 'RefreshWaitTimeout',
    );
    const waited = Date.now() - t0;
    assert.ok(waited < 12000, `the sync read returned after ${waited} ms`);
    answer({ token: 'late', expiresIn: 3600 }); // the JS thread is free again: the plugin answers
    assert.equal(await pending, 'late');
    assert.equal(c.getBearerTokenSync(), 'late');
    c.close();
  });

  test('a plugin that needs the libuv thread pool (fs) under 50 concurrent calls does not deadlock', async () => {
    const fs = require('node:fs');
    const os = require('node:os');
    const path = require('node:path');
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'idaas-plugin-')), 'token');
    fs.writeFileSync(file, 'file-token');
    let calls = 0;
    const c = pluginClient(
      'node-fs',
      async (scope) => {
        calls++;
        return { token: `${await fs.promises.readFile(file, 'utf8')}-${scope.length}`, expiresIn: 3600 };
      },
      { timeoutMs: 5000 },
    );
    const t0 = Date.now();
    const tokens = await Promise.all(
      Array.from({ length: 50 }, (_, i) => c.getBearerToken(i % 2 ? 'api.example.com|read:file' : undefined)),
    );
    assert.ok(Date.now() - t0 < 4000, `took ${Date.now() - t0} ms`);
    assert.ok(tokens.every((t) => t.startsWith('file-token-')));
    assert.equal(calls, 2, 'single flight per scope');
    c.close();
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  });

  test('plugin failures: throw, reject, bad value, no answer in time -> IDAAS_CREDENTIAL', async () => {
    const cases = [
      ['node-throws', () => {
        throw new Error('vault is sealed');
      }, {}, /vault is sealed/],
      ['node-rejects', async () => {
        throw new Error('vault timed out');
      }, {}, /vault timed out/],
      ['node-bad', () => 42, {}, /token string/],
      ['node-silent', () => new Promise(() => {}), { timeoutMs: 300 }, /did not answer within 300 ms/],
    ];
    for (const [name, fn, options, re] of cases) {
      const c = pluginClient(name, fn, options);
      await rejectsWith(assert, c.getBearerToken(), 'IDAAS_CREDENTIAL', (e) => {
        assert.match(e.message, re);
        assert.equal(e.serverCode, 'PluginFailed');
        assert.equal(e.retryable, false);
      });
      c.close();
    }
  });

  test('addPlugin argument errors', () => {
    const cfg = idaas.Config.fromJSON(pluginConfig('x'));
    assert.throws(() => cfg.addPlugin(' ', () => 't'), (e) => e instanceof idaas.ArgumentError);
    assert.throws(() => cfg.addPlugin('x', 'not a function'), TypeError);
    assert.throws(() => cfg.addPlugin('x', () => 't', { timeoutMs: 0 }), TypeError);
    assert.throws(() => cfg.addPlugin('x', () => 't', { timeoutMs: -1 }), TypeError);
    assert.throws(() => cfg.createClient(), (e) => e.code === 'IDAAS_CONFIG');
    cfg.close();
    assert.throws(() => cfg.addPlugin('x', () => 't'), (e) => e.code === 'ERR_IDAAS_CLOSED');
  });
});

describe('logger', () => {
  test('records from worker threads reach the JS function; null removes it', async () => {
    const records = [];
    idaas.setLogger((r) => records.push(r), { level: 'debug' });
    const c = clientFromFile(em.configPath);
    await c.getBearerToken();
    await sleep(50); // records are queued to the main thread
    assert.ok(records.length > 0, 'some records');
    for (const r of records) {
      assert.ok(['error', 'warn', 'info', 'debug'].includes(r.level), r.level);
      assert.equal(typeof r.levelNumber, 'number');
      assert.equal(typeof r.target, 'string');
      assert.equal(typeof r.message, 'string');
      assert.ok(!r.message.includes(em.info.clientSecret), 'no secret in logs');
    }
    assert.ok(records.some((r) => r.target.length > 0));
    idaas.setLogger(null);
    const n = records.length;
    await c.getBearerToken('api.example.com|read:file');
    await sleep(50);
    assert.equal(records.length, n);
    c.close();
  });

  test('a throwing logger does not break calls; level validation', async () => {
    idaas.setLogger(() => {
      throw new Error('logger bug');
    }, { level: 'trace' });
    const c = clientFromFile(em.configPath);
    assert.match(await c.getBearerToken(), /^eyJ/);
    await sleep(20);
    idaas.setLogger(null);
    c.close();
    assert.throws(() => idaas.setLogger(() => {}, { level: 'loud' }), RangeError);
    assert.throws(() => idaas.setLogger(() => {}, { level: 9 }), (e) => e.code === 'IDAAS_INVALID_ARGUMENT');
    const cfg = idaas.Config.load(em.configPath);
    assert.throws(() => cfg.setLogger(() => {}, { level: 9 }), (e) => e instanceof idaas.ArgumentError);
    assert.throws(() => cfg.setLogger(() => {}, { level: 'loud' }), RangeError);
    assert.throws(() => cfg.setLogger('x'), TypeError);
    cfg.close();
    assert.throws(() => idaas.setLogger('x'), TypeError);
  });
});

describe('config logger', () => {
  test("a config's logger gets its clients' records; clients without one go to the process-wide logger", async () => {
    const mine = [];
    const shared = [];
    idaas.setLogger((r) => shared.push(r), { level: 'debug' });
    try {
      const cfg = idaas.Config.load(em.configPath);
      cfg.setLogger((r) => mine.push(r), { level: 'debug' });
      const own = cfg.createClient();
      cfg.setLogger(null); // clients made from now on have no logger of their own
      const other = cfg.createClient();
      cfg.close();
      await own.getBearerToken();
      await eventually(() => mine.some((r) => r.target.startsWith('idaas')), 2000, 'records in the config logger');
      assert.ok(!shared.some((r) => r.target.startsWith('idaas')), 'no idaas record of `own` in the process-wide logger');
      await sleep(50);
      const nMine = mine.length;
      await other.getBearerToken();
      await eventually(() => shared.some((r) => r.target.startsWith('idaas')), 2000, 'records in the process-wide logger');
      await sleep(50);
      assert.equal(mine.length, nMine, "`other`'s records do not reach the config logger");
      for (const r of [...mine, ...shared]) assert.ok(!r.message.includes(em.info.clientSecret), 'no secret in logs');
      own.close();
      other.close();
    } finally {
      idaas.setLogger(null);
    }
  });
});

describe('worker threads', () => {
  test('the addon loads in worker_threads; terminating a worker with calls in flight is safe', async () => {
    const { Worker } = require('node:worker_threads');
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const idaas = require(${JSON.stringify(require.resolve('..'))});
      idaas.setLogger(() => {}, { level: 'debug' });
      const cfg = idaas.Config.load(workerData);
      cfg.setLogger(() => {}, { level: 'debug' });
      cfg.addPlugin('unused', () => 'x');
      const c = cfg.createClient();
      c.getBearerToken().then((t) => {
        parentPort.postMessage(t === c.getBearerTokenSync());
        for (let i = 0; i < 10; i++) c.getBearerToken('api.example.com|w' + i).catch(() => {});
      });
    `;
    for (let i = 0; i < 3; i++) {
      const w = new Worker(code, { eval: true, workerData: em.configPath });
      const same = await new Promise((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      });
      assert.equal(same, true);
      await w.terminate();
    }
    const c = clientFromFile(em.configPath);
    assert.match(await c.getBearerToken(), /^eyJ/);
    c.close();
  });
});

describe('entry points', () => {
  test('CommonJS and ESM expose the same API (package self-reference through "exports")', async () => {
    const cjs = require('@idaas/node');
    const esm = await import('@idaas/node');
    assert.equal(cjs, idaas);
    assert.equal(esm.init, idaas.init);
    assert.equal(esm.Config, idaas.Config);
    assert.equal(esm.AuthenticationError, idaas.AuthenticationError);
    assert.equal(esm.IdaasError, idaas.IdaasError);
    assert.equal(esm.default, idaas);
    for (const k of Object.keys(idaas)) assert.ok(k in esm, `ESM export ${k}`);
    assert.match(idaas.version(), /^\d+\.\d+\.\d+/);
  });
});
