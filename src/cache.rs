//! The refresh-ahead token cache (core.md §8, decision D-19).
