//! Scope strings: `audience|value` items (core.md §3).
