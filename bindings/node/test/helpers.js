'use strict';
// Test helpers: start the emulator binary (--port 0 --ready-file), write a client config, set the
// client-secret variable in process.env BEFORE clients are created, drive the control API.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..', '..');

function emulatorBin() {
  if (process.env.IDAAS_EMULATOR_BIN) return process.env.IDAAS_EMULATOR_BIN;
  const target = process.env.CARGO_TARGET_DIR || path.join(ROOT, 'target');
  return path.join(target, 'debug', 'idaas-emulator');
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startEmulator(extraArgs = []) {
  const bin = emulatorBin();
  if (!fs.existsSync(bin)) throw new Error(`emulator binary not found: ${bin} (cargo build -p idaas-emulator, or set IDAAS_EMULATOR_BIN)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idaas-node-test-'));
  const readyFile = path.join(dir, 'ready.json');
  const child = spawn(bin, ['--port', '0', '--ready-file', readyFile, '--exit-on-stdin-eof', ...extraArgs], {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  let exited = null;
  child.on('exit', (code, sig) => {
    exited = `exit ${code ?? sig}`;
  });
  const t0 = Date.now();
  while (!fs.existsSync(readyFile)) {
    if (exited) throw new Error(`emulator ${bin} ${exited} before writing its ready file: ${stderr}`);
    if (Date.now() - t0 > 30000) {
      child.kill('SIGKILL');
      throw new Error(`emulator not ready after 30 s: ${stderr}`);
    }
    await sleep(25);
  }
  const info = JSON.parse(fs.readFileSync(readyFile, 'utf8'));
  const config = info.clientConfigs.CLIENT_SECRET_POST;
  const configPath = path.join(dir, 'client-config.json');
  fs.writeFileSync(configPath, JSON.stringify(config, null, 2));
  const secretVar = config.authnConfiguration.clientSecretEnvVarName;
  process.env[secretVar] = info.clientSecret; // before any client is created

  const base = info.httpBaseUrl;
  async function control(method, p, body) {
    const res = await fetch(base + p, {
      method,
      headers: body ? { 'content-type': 'application/json' } : undefined,
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${method} ${p}: HTTP ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }
  return {
    info,
    config,
    configPath,
    dir,
    secretVar,
    control,
    addFault: (spec) => control('POST', '/_emulator/faults', { spec }),
    clearFaults: () => control('DELETE', '/_emulator/faults'),
    requests: (pathContains) =>
      control('GET', `/_emulator/requests${pathContains ? `?path_contains=${encodeURIComponent(pathContains)}` : ''}`),
    clearRequests: () => control('DELETE', '/_emulator/requests'),
    setSession: (id, status) => control('POST', `/_emulator/sessions/${encodeURIComponent(id)}`, { status }),
    async stop() {
      if (!exited) {
        // stdin EOF: a graceful shutdown (the emulator removes its temp dir); SIGKILL as the fallback
        const done = new Promise((r) => (exited ? r() : child.once('exit', r)));
        child.stdin.end();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await done;
        clearTimeout(timer);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Asserts that `p` rejects with an IdaasError of `code`; returns the error. */
async function rejectsWith(assert, p, code, check) {
  const { IdaasError } = require('..');
  let err;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected a rejection with ${code}`);
  assert.ok(err instanceof IdaasError, `expected IdaasError, got ${err && err.stack}`);
  assert.equal(err.code, code, `${err.message}`);
  if (check) check(err);
  return err;
}

/** A client from a config file (the Config is closed at once: the client keeps what it needs). */
function clientFromFile(configPath, options) {
  const { Config } = require('..');
  const cfg = Config.load(configPath);
  try {
    return cfg.createClient(options);
  } finally {
    cfg.close();
  }
}

/** A client from a config object or JSON text. */
function clientFromJSON(config, options) {
  const { Config } = require('..');
  const cfg = Config.fromJSON(config);
  try {
    return cfg.createClient(options);
  } finally {
    cfg.close();
  }
}

/** Waits until `cond()` holds (polling every 10 ms); fails after `ms`. */
async function eventually(cond, ms = 2000, what = 'condition') {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`${what} still false after ${ms} ms`);
    await sleep(10);
  }
}

module.exports = { startEmulator, rejectsWith, sleep, eventually, clientFromFile, clientFromJSON, ROOT };
