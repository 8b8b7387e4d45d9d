//! The parser and checker on arbitrary text: diagnostics, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = edict::PolicySet::from_sources([("fuzz.edict".to_string(), text.to_string())]);
    }
});
