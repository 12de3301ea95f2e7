// @idaas/node - ESM entry point (the implementation is the CommonJS index.js: one native addon instance).
import { createRequire } from 'node:module';

const idaas = createRequire(import.meta.url)('./index.js');

export const {
  createClient,
  createClientAsync,
  staticProvider,
  providerFromCredential,
  setLogger,
  registerPlugin,
  version,
  nativeStats,
  IdaasError,
  ErrorCodes,
  Client,
  PamClient,
  Provider,
  ExchangeProvider,
  TokenTypes,
} = idaas;
export default idaas;
