//! The client: a configuration, one HTTP agent, one provider per scope (core.md §11).
