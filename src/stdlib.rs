//! The standard library: modules written in Edict, embedded in the binary.

/// Every standard module, by the name `use std.NAME` gives it.
pub const MODULES: &[(&str, &str)] = &[
    ("cvss", include_str!("../stdlib/cvss.edict")),
    ("hipaa", include_str!("../stdlib/hipaa.edict")),
    ("kev", include_str!("../stdlib/kev.edict")),
    ("time", include_str!("../stdlib/time.edict")),
    ("versions", include_str!("../stdlib/versions.edict")),
];

/// The source of `std.NAME`.
pub fn module(name: &str) -> Option<&'static str> {
    MODULES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}
