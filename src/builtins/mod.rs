//! Functions implemented in Rust, one file per family.
