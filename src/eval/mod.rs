//! Values, facts loading and evaluation.

pub mod value;
