'use strict';
// examples/node/jwt_lifecycle.js runs the scenario of examples/c/jwt_lifecycle.c against the emulator.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { startEmulator, ROOT } = require('./helpers');

let em;
before(async () => {
  em = await startEmulator();
});
after(async () => {
  if (em) await em.stop();
});

test('examples/node/jwt_lifecycle.js: token, API key, generate -> validate -> revoke -> validate -> reinstate', () => {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'examples', 'node', 'jwt_lifecycle.js'), em.configPath], {
    env: process.env, // holds the emulator's client secret
    encoding: 'utf8',
    timeout: 60000,
  });
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout;
  assert.match(out, /^bearer token: eyJ/m);
  assert.match(out, /^API key of openai_prod_key: sk-EXA\.\.\./m);
  assert.match(out, /^generated atntkn_/m);
  assert.match(out, /after generate:\s+active=true/);
  assert.match(out, /after revoke:\s+active=false/);
  assert.match(out, /after reinstate:\s+active=true/);
});

test('examples/node/jwt_lifecycle.js: an error names its class and code; not retryable: exit 1', () => {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'examples', 'node', 'jwt_lifecycle.js'), em.configPath, 'no_such_provider'], {
    env: process.env,
    encoding: 'utf8',
    timeout: 60000,
  });
  assert.equal(r.status, 1, r.stderr); // 404 of an unknown provider: a retry cannot help
  assert.match(r.stderr, /\[ServerReplyError IDAAS_CLIENT_ERROR\]/);
});

test('examples/node/jwt_lifecycle.js: a missing config file is a ConfigError', () => {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'examples', 'node', 'jwt_lifecycle.js'), path.join(em.dir, 'nope.json')], {
    env: process.env,
    encoding: 'utf8',
    timeout: 60000,
  });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /\[ConfigError IDAAS_CONFIG\]/);
});
