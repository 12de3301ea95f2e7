//! Fault spec parsing.
/// Parses `ROUTE=FAULT[:times]`.
pub fn parse_fault_spec(_s: &str) -> Result<crate::FaultRule, String> {
    Err("todo".into())
}
