//! The facts loader on arbitrary bytes: a located error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = edict::Facts::from_json_str(text);
    }
});
