//! Every facts loader (JSON, JSON Lines, YAML, CSV), with and without the
//! HIPAA example's schema, on arbitrary bytes: a located error or facts,
//! never a panic. The first byte picks the format and whether to validate.
#![no_main]

use std::sync::OnceLock;

use edict::eval::load::Format;
use libfuzzer_sys::fuzz_target;

const SCHEMA: &str = include_str!("../../examples/hipaa/schema.edict");

fn schema_set() -> Option<&'static edict::PolicySet> {
    static SET: OnceLock<Option<edict::PolicySet>> = OnceLock::new();
    SET.get_or_init(|| edict::PolicySet::from_sources([("schema.edict".to_string(), SCHEMA.to_string())]).ok())
        .as_ref()
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let format = match selector % 4 {
        0 => Format::Json,
        1 => Format::JsonLines,
        2 => Format::Yaml,
        _ => Format::Csv,
    };
    let schema = if selector & 4 != 0 {
        schema_set().and_then(|s| s.program().schema.as_deref())
    } else {
        None
    };
    let mount = if format == Format::Json { None } else { Some("assets") };
    let mut facts = edict::Facts::default();
    let _ = facts.add_text("fuzz", mount, text, format, schema);
});
