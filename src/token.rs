//! The token endpoint protocol: requests per method, responses, errors (core.md §5).
