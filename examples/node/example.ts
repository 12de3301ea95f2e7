/*
 * example.ts - the Node binding from TypeScript (type-checked by `make -C bindings/node test` with
 * `tsc --noEmit`): the quick start (init), the advanced path (Config with a logger and options),
 * tokens, token exchange, API keys, the JWT lifecycle, listing every token page, the 3LO poll with an
 * AbortSignal, and typed error handling.
 *
 *   npx tsc -p examples/node   (emits examples/node/example.js)
 *   node examples/node/example.js CONFIG_JSON_PATH
 */
import {
  init,
  Config,
  CancelledError,
  IdaasError,
  NetworkError,
  TokenTypes,
  type AuthenticationToken,
  type Client,
  type Credential,
  type JwtTokenResponse,
  type LogRecord,
  type PamClient,
} from '../../bindings/node/index.js';

/** The quick start: one call, the lookup of every IDaaS SDK (path, CLOUD_IDAAS_CONFIG_PATH, ~/.cloud_idaas). */
async function quickStart(configPath: string | undefined): Promise<Client> {
  return init(configPath);
}

/** The advanced path: a configuration with a logger of its own, and client options. */
function withLogger(configPath: string | undefined): Client {
  const config = Config.load(configPath);
  try {
    config.setLogger((r: LogRecord) => console.error(`[${r.level}] ${r.target}: ${r.message}`), { level: 'warn' });
    return config.createClient({ asyncRefresh: false });
  } finally {
    config.close(); // the client keeps what it needs
  }
}

async function bearerTokens(client: Client): Promise<void> {
  const token: string = await client.getBearerToken();
  // the hot path: served from the refresh-ahead cache, synchronously
  const again: string = client.getBearerTokenSync();
  console.log(`token ${token.slice(0, 12)}... cached=${token === again}`);
  const scoped = await client.getBearerToken('api.example.com|read:file');
  console.log(`scoped token: ${scoped.length} chars`);
}

async function exchange(client: Client): Promise<PamClient> {
  const subject = await client.getBearerToken();
  const credential: Credential = await client.exchangeToken({
    subjectToken: subject,
    subjectTokenType: TokenTypes.ACCESS_TOKEN,
  });
  console.log(`exchanged: ${credential.token_type}, expires_at=${credential.expires_at}`);
  // a PAM client acting with the user-bound token
  return client.pam({ provider: credential });
}

async function jwtLifecycle(pam: PamClient): Promise<void> {
  const generated: JwtTokenResponse = await pam.generateJwt('partner_jwt', 'billing-agent', ['https://api.partner.example'], {
    expiration: 900,
    includeDerivedShortToken: true,
  });
  const jwt = generated.jwtContent.jwtValue;
  const active: boolean = await pam.validateToken(jwt);
  await pam.revokeToken(jwt);
  const afterRevoke = await pam.validateToken(jwt);
  await pam.reinstateToken(jwt);
  console.log(`JWT active=${active} afterRevoke=${afterRevoke} reinstated=${await pam.validateToken(jwt)}`);

  const consumer = generated.consumerId;
  if (consumer) {
    const ids: string[] = [];
    for await (const t of pam.listAllTokens(consumer, 'partner_jwt', { maxResults: 10 })) {
      const token: AuthenticationToken = t;
      if (token.authenticationTokenId) ids.push(token.authenticationTokenId);
    }
    console.log(`${ids.length} token(s) for ${consumer}`);
  }
}

async function threeLeggedOAuth(userPam: PamClient): Promise<void> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error('the user did not answer in time')), 5000);
  try {
    const result = await userPam.pollOAuthToken('google_drive_reader', {
      intervalMs: 1000,
      signal: controller.signal,
      onAuthorizationUrl: (url: string) => console.log(`open ${url} to authorize`),
    });
    console.log(`OAuth token: ${result.oauthAccessTokenContent?.tokenType ?? 'unknown type'}`);
  } catch (e) {
    if (e instanceof CancelledError) console.log('authorization cancelled');
    else throw e;
  } finally {
    clearTimeout(timer);
  }
}

async function main(configPath: string | undefined): Promise<number> {
  let client: Client | undefined;
  let pam: PamClient | undefined;
  let userPam: PamClient | undefined;
  try {
    client = await quickStart(configPath);
    const logged = withLogger(configPath);
    try {
      console.log(`a client with its own logger: token of ${(await logged.getBearerToken()).length} chars`);
    } finally {
      logged.close();
    }
    pam = client.pam({ apiKeyCache: { ttlSecs: 600 } });
    await bearerTokens(client);
    const key: string | null = await pam.getApiKey('openai_prod_key');
    console.log(`API key: ${key ? `${key.slice(0, 6)}...` : '(none)'}`);
    await jwtLifecycle(pam);
    userPam = await exchange(client);
    await threeLeggedOAuth(userPam);
    return 0;
  } catch (e) {
    if (e instanceof IdaasError) {
      console.error(`[${e.code}] ${e.message} (HTTP ${e.httpStatus}, server code ${e.serverCode ?? '-'}, request ${e.requestId ?? '-'})`);
      if (e instanceof NetworkError) console.error('the network failed or timed out');
      return e.retryable ? 75 : 1;
    }
    throw e;
  } finally {
    userPam?.close();
    pam?.close();
    client?.close();
  }
}

main(process.argv[2]).then((code) => {
  process.exitCode = code;
});
