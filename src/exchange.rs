//! RFC 8693 token exchange (core.md §7).
