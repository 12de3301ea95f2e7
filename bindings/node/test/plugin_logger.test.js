'use strict';
// PLUGIN clients (the JS plugin runs on the main thread while a native thread waits for it), the
// deadlock rule for synchronous calls, the logger (records from worker threads), entry points.
const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const idaas = require('..');
const { startEmulator, rejectsWith, sleep } = require('./helpers');

let em;
before(async () => {
  em = await startEmulator();
});
after(async () => {
  idaas.setLogger(null);
  if (em) await em.stop();
});

function pluginConfig(name) {
  return {
    idaasInstanceId: 'idaas_test',
    clientId: 'app_test',
    issuer: 'http://127.0.0.1:9/api/v2/iauths_system/oauth2',
    tokenEndpoint: 'http://127.0.0.1:9/api/v2/iauths_system/oauth2/token',
    authnConfiguration: { authnMethod: 'PLUGIN', pluginName: name },
  };
}

describe('plugins', () => {
  test('an async plugin with a lifetime: called once per scope, then cached (also for the sync read)', async () => {
    const calls = [];
    idaas.registerPlugin('node-cached', async (scope) => {
      calls.push(scope);
      await sleep(5);
      return { token: `plugin-token-${scope}`, expiresIn: 3600 };
    });
    const c = idaas.createClient({ config: pluginConfig('node-cached') });
    const t = await c.getBearerToken();
    assert.match(t, /^plugin-token-/);
    assert.equal(await c.getBearerToken(), t);
    assert.equal(c.getBearerTokenSync(), t); // cached: the plugin is not needed
    assert.equal(calls.length, 1);
    const scoped = await Promise.all(Array.from({ length: 50 }, (_, i) => c.getBearerToken(`api.example.com|s${i % 5}`)));
    scoped.forEach((s, i) => assert.equal(s, `plugin-token-api.example.com|s${i % 5}`));
    assert.equal(calls.length, 6);
    assert.throws(() => c.exchangeProvider(), (e) => e.code === 'IDAAS_CONFIG');
    c.close();
  });

  test('a sync plugin returning a bare string: no lifetime, asked on every use', async () => {
    let n = 0;
    idaas.registerPlugin('node-string', () => `t${++n}`);
    const c = idaas.createClient({ config: pluginConfig('node-string') });
    assert.equal(await c.getBearerToken(), 't1');
    assert.equal(await c.getBearerToken(), 't2');
    c.close();
  });

  test('deadlock rule: a synchronous call that needs the plugin fails at once with IDAAS_CREDENTIAL', async () => {
    let n = 0;
    idaas.registerPlugin('node-sync', () => {
      n++;
      return { token: 'x', expiresIn: 3600 };
    });
    const c = idaas.createClient({ config: pluginConfig('node-sync') });
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

  test('deadlock rule: a sync read waiting for a token whose plugin runs on the blocked JS thread fails in ~1 s', async () => {
    idaas.registerPlugin('node-inflight', async () => ({ token: 'late', expiresIn: 3600 }), { timeoutMs: 20000 });
    const c = idaas.createClient({ config: pluginConfig('node-inflight') });
    const pending = c.getBearerToken().catch((e) => e); // a worker thread now needs the plugin ...
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50); // ... (give it time to ask)
    const t0 = Date.now();
    assert.throws(
      () => c.getBearerTokenSync(), // ... and the JS thread blocks waiting for that same token
      (e) => e.code === 'IDAAS_CREDENTIAL' && /deadlock avoided/.test(e.message),
    );
    const waited = Date.now() - t0;
    assert.ok(waited < 5000, `the sync call returned after ${waited} ms, not after the 20 s plugin timeout`);
    const e = await pending;
    assert.equal(e.code, 'IDAAS_CREDENTIAL');
    c.close();
  });

  test('a plugin that needs the libuv thread pool (fs) under 50 concurrent calls does not deadlock', async () => {
    const fs = require('node:fs');
    const os = require('node:os');
    const path = require('node:path');
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'idaas-plugin-')), 'token');
    fs.writeFileSync(file, 'file-token');
    let calls = 0;
    idaas.registerPlugin(
      'node-fs',
      async (scope) => {
        calls++;
        return { token: `${await fs.promises.readFile(file, 'utf8')}-${scope.length}`, expiresIn: 3600 };
      },
      { timeoutMs: 5000 },
    );
    const c = idaas.createClient({ config: pluginConfig('node-fs') });
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
    idaas.registerPlugin('node-throws', () => {
      throw new Error('vault is sealed');
    });
    idaas.registerPlugin('node-rejects', async () => {
      throw new Error('vault timed out');
    });
    idaas.registerPlugin('node-bad', () => 42);
    idaas.registerPlugin('node-silent', () => new Promise(() => {}), { timeoutMs: 300 });
    const cases = [
      ['node-throws', /vault is sealed/],
      ['node-rejects', /vault timed out/],
      ['node-bad', /token string/],
      ['node-silent', /did not answer within 300 ms/],
    ];
    for (const [name, re] of cases) {
      const c = idaas.createClient({ config: pluginConfig(name) });
      await rejectsWith(assert, c.getBearerToken(), 'IDAAS_CREDENTIAL', (e) => {
        assert.match(e.message, re);
        assert.equal(e.serverCode, 'PluginFailed');
      });
      c.close();
    }
  });

  test('registration errors; unregistered plugin names', () => {
    assert.throws(() => idaas.registerPlugin(' ', () => 't'), (e) => e.code === 'IDAAS_INVALID_ARGUMENT');
    assert.throws(() => idaas.registerPlugin('x', 'not a function'), TypeError);
    assert.throws(() => idaas.createClient({ config: pluginConfig('never-registered') }), (e) => e.code === 'IDAAS_CONFIG');
  });
});

describe('logger', () => {
  test('records from worker threads reach the JS function; null removes it', async () => {
    const records = [];
    idaas.setLogger((r) => records.push(r), { level: 'debug' });
    const c = idaas.createClient({ configPath: em.configPath });
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
    const c = idaas.createClient({ configPath: em.configPath });
    assert.match(await c.getBearerToken(), /^eyJ/);
    await sleep(20);
    idaas.setLogger(null);
    c.close();
    assert.throws(() => idaas.setLogger(() => {}, { level: 'loud' }), RangeError);
    assert.throws(() => idaas.setLogger(() => {}, { level: 9 }), (e) => e.code === 'IDAAS_INVALID_ARGUMENT');
    assert.throws(() => idaas.setLogger('x'), TypeError);
  });
});

describe('worker threads', () => {
  test('the addon loads in worker_threads; terminating a worker with calls in flight is safe', async () => {
    const { Worker } = require('node:worker_threads');
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const idaas = require(${JSON.stringify(require.resolve('..'))});
      idaas.setLogger(() => {}, { level: 'debug' });
      const c = idaas.createClient({ configPath: workerData });
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
    const c = idaas.createClient({ configPath: em.configPath });
    assert.match(await c.getBearerToken(), /^eyJ/);
    c.close();
  });
});

describe('entry points', () => {
  test('CommonJS and ESM expose the same API (package self-reference through "exports")', async () => {
    const cjs = require('@idaas/node');
    const esm = await import('@idaas/node');
    assert.equal(cjs, idaas);
    assert.equal(esm.createClient, idaas.createClient);
    assert.equal(esm.IdaasError, idaas.IdaasError);
    assert.equal(esm.default, idaas);
    for (const k of Object.keys(idaas)) assert.ok(k in esm, `ESM export ${k}`);
    assert.match(idaas.version(), /^\d+\.\d+\.\d+/);
  });
});
