//! The PAM client for the IDaaS Developer API (pam.md).
