'use strict';
// The built-in PLUGIN alibabacloudPluginCredentialProvider through the Node binding: the emulator's
// PLUGIN config, used as it is (no plugin added, no extra code), gets its token from the emulator's
// EIAM OpenAPI (GenerateOauthToken); then the documented errors (alibaba-plugin.md §7.1) and the
// precedence of a plugin added under the same name (D-44).
//
// The credential chain reads the process environment when a client is made (§2.1). Assigning to
// process.env calls setenv(3) (deleting calls unsetenv), which is the environment the addon's library
// reads; `node --test` runs this file in a process of its own and its tests one after another, so
// each test sets the variables right before it makes its client.
const { test, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const idaas = require('..');
const { startEmulator, rejectsWith, sleep, eventually, clientFromJSON } = require('./helpers');

const PLUGIN = 'alibabacloudPluginCredentialProvider';
const KEY = 'sk-EXAMPLE0123456789abcdef';
const isChainVar = (name) => name.startsWith('ALIBABA_CLOUD_') || name.startsWith('IDAAS_ALIBABA_CLOUD_');

let em;
let config; // the emulator's PLUGIN client config
let saved; // what this file changes in process.env, put back at the end
let homeCount = 0;

before(async () => {
  em = await startEmulator();
  config = em.info.clientConfigs.PLUGIN;
  assert.equal(config.authnConfiguration.pluginName, PLUGIN);
  const env = em.info.alibabaCloud.environment;
  assert.ok(env.ALIBABA_CLOUD_ACCESS_KEY_ID && env.ALIBABA_CLOUD_ACCESS_KEY_SECRET, JSON.stringify(Object.keys(env)));
  saved = Object.fromEntries(Object.keys(process.env).filter((k) => isChainVar(k) || k === 'HOME').map((k) => [k, process.env[k]]));
});
after(async () => {
  for (const k of Object.keys(process.env)) if (isChainVar(k) || k === 'HOME') delete process.env[k];
  Object.assign(process.env, saved);
  if (em) await em.stop();
});
beforeEach(() => em.clearRequests());

/**
 * Leaves the credential chain only the emulator's alibabaCloud.environment with `replace` applied
 * (undefined removes a variable), and a new empty HOME (no profile file of the machine is read).
 * Returns HOME.
 */
function chainEnv(replace = {}) {
  for (const k of Object.keys(process.env)) if (isChainVar(k)) delete process.env[k];
  const home = path.join(em.dir, `alibaba-home-${++homeCount}`);
  fs.mkdirSync(home);
  process.env.HOME = home;
  const vars = { ...em.info.alibabaCloud.environment, ...replace };
  for (const [k, v] of Object.entries(vars)) if (v !== undefined) process.env[k] = v;
  return home;
}

/** The x-acs-credentials-provider of every GenerateOauthToken request since the log was cleared. */
async function openApiCalls() {
  const { requests } = await em.requests();
  return requests
    .filter((r) => r.headers.some(([k, v]) => k === 'x-acs-action' && v === 'GenerateOauthToken'))
    .map((r) => (r.headers.find(([k]) => k === 'x-acs-credentials-provider') || [])[1]);
}

test('the AccessKey of the environment: a token from GenerateOauthToken, and PAM with it', async () => {
  chainEnv();
  const c = clientFromJSON(config);
  try {
    const token = await c.getBearerToken();
    assert.equal(token.split('.').length, 3, 'the emulator issues JWTs');
    const pam = c.pam();
    try {
      assert.equal(await pam.getApiKey('openai_prod_key'), KEY);
    } finally {
      pam.close();
    }
    // One OpenAPI call, signed with the environment's key; PAM used the cached token.
    assert.deepEqual(await openApiCalls(), ['default/env']);
  } finally {
    c.close();
  }
});

test('a wrong secret: the server refuses the signature, and no secret is shown', async () => {
  const wrong = 'wrong-alibaba-secret-from-the-node-test';
  chainEnv({ ALIBABA_CLOUD_ACCESS_KEY_SECRET: wrong });
  const c = clientFromJSON(config);
  try {
    const e = await rejectsWith(assert, c.getBearerToken(), 'IDAAS_AUTH');
    assert.ok(e instanceof idaas.AuthenticationError);
    assert.equal(e.serverCode, 'SignatureDoesNotMatch');
    assert.equal(e.httpStatus, 400);
    assert.ok(e.requestId);
    assert.equal(e.retryable, false);
    const shown = `${e.message} ${e.stack} ${JSON.stringify(e)}`;
    assert.ok(!shown.includes(wrong), 'the wrong secret is shown');
    assert.ok(!shown.includes(em.info.alibabaCloud.environment.ALIBABA_CLOUD_ACCESS_KEY_SECRET));
    assert.equal((await openApiCalls()).length, 1, 'a refused key is not retried');
  } finally {
    c.close();
  }
});

test('no credentials and the metadata service disabled: the chain names every source it asked', async () => {
  const home = chainEnv({
    ALIBABA_CLOUD_ACCESS_KEY_ID: undefined,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: undefined,
    ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true',
  });
  const c = clientFromJSON(config);
  try {
    const e = await rejectsWith(assert, c.getBearerToken(), 'IDAAS_CREDENTIAL');
    assert.equal(e.serverCode, 'AlibabaCloudCredentialsNotFound');
    assert.equal(e.httpStatus, 0);
    for (const want of [
      'default/env',
      'ALIBABA_CLOUD_ACCESS_KEY_ID',
      'default/oidc_role_arn',
      'default/cli_profile',
      'default/profile',
      home, // the profile files were looked for under HOME
      'default/ecs_ram_role',
      'ALIBABA_CLOUD_ECS_METADATA_DISABLED',
      'default/credential_uri',
    ]) {
      assert.ok(e.message.includes(want), `${want} not in: ${e.message}`);
    }
    assert.deepEqual(await openApiCalls(), []);
  } finally {
    c.close();
  }
});

test('no openApiEndpoint: a configuration error when the client is made', () => {
  chainEnv();
  const { openApiEndpoint, ...without } = config;
  assert.ok(openApiEndpoint);
  const cfg = idaas.Config.fromJSON(without); // it parses; the client is refused
  try {
    assert.throws(
      () => cfg.createClient(),
      (e) =>
        e instanceof idaas.ConfigError &&
        e.code === 'IDAAS_CONFIG' &&
        e.serverCode === 'OpenApiEndpointNotFound' &&
        e.message.includes(PLUGIN),
    );
  } finally {
    cfg.close();
  }
});

test('a plugin added under the same name wins over the built-in one', async () => {
  chainEnv(); // the environment's key would work: the added plugin is chosen, not tried first
  const base = idaas.nativeStats().liveCallbacks;
  const scopes = [];
  const cfg = idaas.Config.fromJSON(config);
  let c;
  try {
    cfg.addPlugin(PLUGIN, (scope) => {
      scopes.push(scope);
      return { token: 'from-the-node-plugin', expiresIn: 3600 };
    });
    c = cfg.createClient();
  } finally {
    cfg.close();
  }
  try {
    assert.equal(await c.getBearerToken(), 'from-the-node-plugin');
    assert.deepEqual(scopes, [config.scope]);
    assert.deepEqual(await openApiCalls(), []);
  } finally {
    c.close();
  }
  await eventually(() => idaas.nativeStats().liveCallbacks === base, 5000, 'the plugin released with its client');
  // The plugin call's argument is a napi external: collect it now, or Node reports its finalizer
  // record as leaked at exit under `make test-asan`.
  if (typeof global.gc === 'function') {
    for (let i = 0; i < 5; i++) {
      global.gc();
      await sleep(10);
    }
  }
});
