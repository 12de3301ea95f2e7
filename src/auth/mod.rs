//! Client authentication: private keys, client-assertion JWTs, federated sources (core.md §4, §6).
