//! Editor support files: the TextMate grammar stays in step with the language.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::common::root;

fn grammar() -> Value {
    let text = std::fs::read_to_string(root().join("editors/edict.tmLanguage.json")).unwrap();
    serde_json::from_str(&text).expect("editors/edict.tmLanguage.json is valid JSON")
}

/// Every `name` (scope) anywhere in the grammar.
fn scopes(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "name" || k == "contentName" {
                    if let Some(s) = v.as_str() {
                        out.push(s.to_string());
                    }
                }
                scopes(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| scopes(i, out)),
        _ => {}
    }
}

/// The words of `\b(a|b|c)\b`-style patterns.
fn alternatives(pattern: &str) -> Vec<String> {
    let inner = pattern
        .trim_start_matches("\\b(")
        .split(')')
        .next()
        .unwrap_or("");
    inner.split('|').map(str::to_string).collect()
}

#[test]
fn textmate_grammar_is_valid_and_scoped_for_edict() {
    let g = grammar();
    assert_eq!(g["scopeName"], "source.edict");
    assert_eq!(g["fileTypes"], serde_json::json!(["edict"]));
    let mut found = Vec::new();
    scopes(&g["repository"], &mut found);
    assert!(found.len() > 20, "{found:?}");
    for scope in &found {
        assert!(
            scope.ends_with(".edict") || scope == "source.edict.embedded",
            "scope `{scope}` should end in .edict"
        );
    }
    for wanted in [
        "comment.line.documentation.edict",
        "comment.line.double-slash.edict",
        "string.quoted.double.edict",
        "constant.character.escape.edict",
        "meta.interpolation.edict",
        "constant.numeric.date.edict",
        "constant.numeric.duration.edict",
        "storage.type.edict",
        "keyword.control.edict",
        "keyword.other.clause.edict",
        "constant.language.edict",
        "support.function.builtin.edict",
        "entity.name.function.edict",
    ] {
        assert!(found.iter().any(|s| s == wanted), "no `{wanted}` scope");
    }
    // Every `include` names a repository entry that exists.
    let text = g.to_string();
    for part in text.split("\"include\":\"#").skip(1) {
        let name = part.split('"').next().unwrap();
        assert!(g["repository"].get(name).is_some(), "missing #{name}");
    }
}

#[test]
fn textmate_keywords_are_the_grammars_keywords() {
    let pest = std::fs::read_to_string(root().join("grammar/edict.pest")).unwrap();
    let from_pest: BTreeSet<String> = pest
        .lines()
        .filter_map(|l| l.strip_prefix("kw_"))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect();
    assert!(from_pest.len() > 30, "{from_pest:?}");
    let g = grammar();
    let from_textmate: BTreeSet<String> = g["repository"]["keywords"]["patterns"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| alternatives(p["match"].as_str().unwrap()))
        .collect();
    assert_eq!(
        from_textmate, from_pest,
        "editors/edict.tmLanguage.json `keywords` must list exactly the kw_* rules of grammar/edict.pest"
    );
}

#[test]
fn textmate_builtins_are_real_builtins() {
    let g = grammar();
    let pattern = g["repository"]["builtins"]["patterns"][0]["match"]
        .as_str()
        .unwrap();
    let listed = alternatives(pattern);
    assert!(listed.len() > 20, "{listed:?}");
    let known: BTreeSet<&str> = edict::builtins::all().iter().map(|b| b.name).collect();
    for name in &listed {
        assert!(known.contains(name.as_str()), "`{name}` is not a builtin");
    }
}

/// The keys docs/editors.md promises for `edict check --format json`, in order.
const CHECK_JSON_KEYS: [&str; 9] = [
    "file",
    "line",
    "column",
    "end_line",
    "end_column",
    "severity",
    "code",
    "message",
    "help",
];

#[test]
fn check_json_has_the_documented_stable_keys_and_every_syntax_error() {
    let out = crate::common::edict(&[
        "check",
        "--format",
        "json",
        "tests/syntax/err/three_broken_declarations.edict",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let lines: Vec<serde_json::Map<String, Value>> = crate::common::stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let at: Vec<(u64, &str)> = lines
        .iter()
        .map(|l| (l["line"].as_u64().unwrap(), l["code"].as_str().unwrap()))
        .collect();
    assert_eq!(at, [(4, "E0001"), (11, "E0001"), (15, "E0001")]);
    for line in &lines {
        let keys: Vec<&str> = line.keys().map(String::as_str).collect();
        assert_eq!(keys, CHECK_JSON_KEYS);
    }
    let docs = std::fs::read_to_string(root().join("docs/editors.md")).unwrap();
    for key in CHECK_JSON_KEYS {
        assert!(
            docs.contains(&format!("| `{key}`")),
            "docs/editors.md does not document `{key}`"
        );
    }
}
