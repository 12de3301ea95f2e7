//! PLUGIN authentication: application-supplied token sources (core.md §6.4, decision D-17).
