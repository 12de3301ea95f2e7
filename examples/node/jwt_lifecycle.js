#!/usr/bin/env node
'use strict';
/*
 * jwt_lifecycle: the scenario of examples/c/jwt_lifecycle.c with the Node binding: a bearer token, an
 * API key, then a JWT authentication token generated -> validated -> revoked -> validated ->
 * reinstated -> validated (IDaaS Developer API).
 *
 *   node jwt_lifecycle.js CONFIG_JSON_PATH [CREDENTIAL_PROVIDER [SUBJECT [AUDIENCE]]]
 *
 * Defaults match the emulator: partner_jwt, billing-agent, https://api.partner.example; API key of
 * openai_prod_key (IDAAS_EXAMPLE_API_KEY_ID overrides it). The client secret comes from the
 * environment variable named in the config (e.g. IDAAS_CLIENT_SECRET). Exit status: 0, 2 (usage), 75
 * (a failure the library says a retry may fix: EX_TEMPFAIL) or 1 (any other failure).
 */
const path = require('node:path');
const idaas = require(process.env.IDAAS_NODE_PACKAGE || path.join(__dirname, '..', '..', 'bindings', 'node'));

async function main(argv) {
  if (argv.length < 1) {
    console.error('usage: jwt_lifecycle.js CONFIG_JSON_PATH [CREDENTIAL_PROVIDER [SUBJECT [AUDIENCE]]]');
    return 2;
  }
  const [configPath, provider = 'partner_jwt', subject = 'billing-agent', audience = 'https://api.partner.example'] = argv;
  let client;
  let pam;
  try {
    client = await idaas.init(configPath);
    pam = client.pam();
    const token = await client.getBearerToken();
    console.log(`bearer token: ${token.slice(0, 16)}... (${token.length} chars)`);

    const keyId = process.env.IDAAS_EXAMPLE_API_KEY_ID || 'openai_prod_key';
    const key = await pam.getApiKey(keyId);
    console.log(`API key of ${keyId}: ${key ? `${key.slice(0, 6)}... (${key.length} chars)` : '(none)'}`);

    const generated = await pam.generateJwt(provider, subject, [audience], {
      expiration: 900,
      includeDerivedShortToken: true,
      customClaims: { tenant: 'acme' },
    });
    const jwt = generated.jwtContent.jwtValue;
    console.log(`generated ${generated.authenticationTokenId}: ${jwt.slice(0, 16)}... (${jwt.length} chars)`);

    const show = async (step) => console.log(`${step.padEnd(22)} active=${await pam.validateToken(jwt)}`);
    await show('after generate:');
    await pam.revokeToken(jwt);
    await show('after revoke:');
    await pam.reinstateToken(jwt);
    await show('after reinstate:');
    return 0;
  } catch (e) {
    if (e instanceof idaas.IdaasError) {
      // e.name is the class of the failure (ConfigError, AuthenticationError, ServerReplyError ...)
      console.error(`failed: [${e.name} ${e.code}] ${e.message}`);
      return e.retryable ? 75 : 1;
    }
    throw e;
  } finally {
    pam?.close();
    client?.close();
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
