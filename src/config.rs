//! Configuration: file lookup, JSON parsing, validation and normalisation (core.md §2).
