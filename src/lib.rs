//! Edict: policy-as-code for compliance rules over JSON facts.
#![forbid(unsafe_code)]

pub mod builtins;
pub mod eval;
