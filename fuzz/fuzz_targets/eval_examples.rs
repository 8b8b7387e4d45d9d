//! The shipped HIPAA policies evaluated on arbitrary JSON facts: outcomes
//! (mostly errors), never a panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

const POLICIES: &[(&str, &str)] = &[
    ("patching.edict", include_str!("../../examples/hipaa/patching.edict")),
    ("training.edict", include_str!("../../examples/hipaa/training.edict")),
    ("exceptions.edict", include_str!("../../examples/hipaa/exceptions.edict")),
];

fn policy() -> Option<&'static edict::PolicySet> {
    static SET: OnceLock<Option<edict::PolicySet>> = OnceLock::new();
    SET.get_or_init(|| {
        edict::PolicySet::from_sources(POLICIES.iter().map(|(n, t)| (n.to_string(), t.to_string()))).ok()
    })
    .as_ref()
}

fuzz_target!(|data: &[u8]| {
    let (Some(set), Ok(text)) = (policy(), std::str::from_utf8(data)) else {
        return;
    };
    if let Ok(facts) = edict::Facts::from_json_str(text) {
        let _ = set.evaluate(&facts, &edict::EvalOptions::default());
    }
});
