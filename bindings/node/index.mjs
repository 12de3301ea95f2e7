// @idaas/node - ESM entry point (the implementation is the CommonJS index.js: one native addon instance).
import { createRequire } from 'node:module';

const idaas = createRequire(import.meta.url)('./index.js');

export const {
  init,
  Config,
  setLogger,
  staticProvider,
  providerFromCredential,
  version,
  nativeStats,
  IdaasError,
  ArgumentError,
  ConfigError,
  AuthenticationError,
  ServerReplyError,
  NetworkError,
  CancelledError,
  InternalError,
  ErrorCodes,
  Client,
  PamClient,
  Provider,
  ExchangeProvider,
  TokenTypes,
} = idaas;
export default idaas;
