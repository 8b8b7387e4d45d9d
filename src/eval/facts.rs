//! Facts: the JSON documents rules are evaluated against.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use std::sync::Arc;

use super::demand::Demand;
use super::load::{self, Format, Violation};
use super::value::{Str, Value};
use crate::schema::{Schema, Ty};

/// Lists shorter than this are checked against the schema on one thread.
const PARALLEL_CHECK_ITEMS: usize = 4096;

/// A facts document: top-level keys merged from every input.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    keys: IndexMap<Str, Value>,
    /// Where each input came from, in the order given.
    pub inputs: Vec<FactsInput>,
    /// Whether a malformed JSON Lines record is left out and listed in
    /// `rejected`, rather than failing the whole input.
    pub skip_malformed_records: bool,
    /// JSON Lines records read, well-formed or not.
    pub records_read: usize,
    /// The malformed JSON Lines records left out, in input order.
    pub rejected: Vec<FactsError>,
    /// Threads for parsing a large JSON document (0 or 1: the calling thread only).
    pub parse_threads: usize,
    /// What the policy can observe of the facts; JSON read without a schema
    /// is built only that far (`None`: everything).
    pub demand: Option<Arc<Demand>>,
}

/// One facts input as given on the command line.
#[derive(Clone, Debug)]
pub struct FactsInput {
    /// The key it is mounted under, for `--facts name=file`.
    pub mount: Option<String>,
    /// The file (`-` for stdin).
    pub path: PathBuf,
    /// Its raw bytes' length.
    pub bytes: usize,
    /// The SHA-256 of its raw bytes, lowercase hex.
    pub sha256: String,
}

/// Why facts could not be loaded.
#[derive(Debug, Clone, PartialEq, thiserror::Error, miette::Diagnostic)]
pub enum FactsError {
    /// The file could not be read.
    #[error("cannot read facts file `{path}`: {reason}")]
    #[diagnostic(code(F0003))]
    Read {
        /// The file.
        path: String,
        /// The operating system's reason.
        reason: String,
    },
    /// The input is malformed JSON, YAML or CSV.
    #[error("{path}:{line}:{column}: malformed {format}: {reason}")]
    #[diagnostic(
        code(F0001),
        help("fix the input at that line and column; nothing was evaluated")
    )]
    Syntax {
        /// The file.
        path: String,
        /// The format it was read as.
        format: &'static str,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser expected.
        reason: String,
    },
    /// A document that is not an object was given without a mount name.
    #[error("{path}: the top level is {found}, not an object")]
    #[diagnostic(code(F0004), help("mount it under a name: `--facts NAME={path}`"))]
    NotAnObject {
        /// The file.
        path: String,
        /// What it is.
        found: &'static str,
    },
    /// Two inputs give the same top-level key.
    #[error("facts key `{key}` is given by both `{first}` and `{second}`")]
    #[diagnostic(
        code(F0002),
        help("mount one of them under another name: `--facts NAME=FILE`")
    )]
    DuplicateKey {
        /// The key.
        key: String,
        /// The first input giving it.
        first: String,
        /// The second.
        second: String,
    },
    /// The facts do not match the policy set's schema.
    #[error("{path}: the facts do not match the schema ({} problem{})", violations.len(), if violations.len() == 1 { "" } else { "s" })]
    #[diagnostic(
        code(F0005),
        help("each problem is listed with its line, column and JSON path")
    )]
    Invalid {
        /// The file (`<facts>` for keys no file gave).
        path: String,
        /// Every violation, in document order.
        violations: Vec<Violation>,
    },
    /// The file's format cannot be told from its name.
    #[error("cannot tell the format of facts file `{path}`")]
    #[diagnostic(
        code(F0010),
        help("name it .json, .jsonl, .ndjson, .yaml, .yml or .csv, or give `--facts-format`")
    )]
    UnknownFormat {
        /// The file.
        path: String,
    },
}

impl Facts {
    /// Parses a JSON document whose top level is an object.
    pub fn from_json_str(json: &str) -> Result<Facts, FactsError> {
        let mut facts = Facts::default();
        facts.add_json("<string>", None, json)?;
        Ok(facts)
    }

    /// Reads a facts file and merges it in, mounted under `mount` when given.
    pub fn add_file(&mut self, path: &Path, mount: Option<&str>) -> Result<(), FactsError> {
        let text = std::fs::read_to_string(path).map_err(|e| FactsError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        self.add_json(&path.display().to_string(), mount, &text)?;
        self.record_input(path, mount, &text, None);
        Ok(())
    }

    /// Records an input that was read and merged, with the digest of its
    /// bytes (computed here unless given).
    fn record_input(
        &mut self,
        path: &Path,
        mount: Option<&str>,
        text: &str,
        sha256: Option<String>,
    ) {
        self.inputs.push(FactsInput {
            mount: mount.map(str::to_string),
            path: path.to_path_buf(),
            bytes: text.len(),
            sha256: sha256.unwrap_or_else(|| sha256_hex(text.as_bytes())),
        });
    }

    /// Parses JSON text and merges it in.
    pub fn add_json(
        &mut self,
        name: &str,
        mount: Option<&str>,
        text: &str,
    ) -> Result<(), FactsError> {
        let everything = Demand::everything();
        let demand = self.demand.as_deref().unwrap_or(&everything);
        let shape = match mount {
            Some(key) => demand.key(key),
            None => demand.root(),
        };
        let mut interner = super::json::Interner::default();
        let value =
            super::json::parse_parallel(text, self.parse_threads, demand, shape, &mut interner)
                .map_err(|e| FactsError::Syntax {
                    path: name.to_string(),
                    format: "JSON",
                    line: e.line(),
                    column: e.column(),
                    reason: strip_position(&e.to_string()),
                })?;
        match (mount, value) {
            (Some(key), value) => self.insert(name, key, value),
            (None, Value::Object(map)) => {
                for (k, v) in map.iter() {
                    self.insert(name, k, v.clone())?;
                }
                Ok(())
            }
            (None, other) => Err(FactsError::NotAnObject {
                path: name.to_string(),
                found: other.type_name(),
            }),
        }
    }

    fn insert(&mut self, source: &str, key: &str, value: Value) -> Result<(), FactsError> {
        if self.keys.contains_key(key) {
            let first = self
                .inputs
                .iter()
                .map(|i| i.path.display().to_string())
                .find(|_| true)
                .unwrap_or_else(|| "an earlier input".into());
            return Err(FactsError::DuplicateKey {
                key: key.to_string(),
                first,
                second: source.to_string(),
            });
        }
        self.keys.insert(Str::from(key), value);
        Ok(())
    }

    /// Reads facts from a file, a directory of facts files, or `-` (stdin),
    /// checked against the schema when there is one.
    pub fn add_source(
        &mut self,
        path: &Path,
        mount: Option<&str>,
        format: Option<Format>,
        schema: Option<&Schema>,
    ) -> Result<(), Vec<FactsError>> {
        let shown = path.display().to_string();
        if shown == "-" {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map_err(|e| {
                vec![FactsError::Read {
                    path: shown.clone(),
                    reason: e.to_string(),
                }]
            })?;
            let format = format.unwrap_or(Format::Json);
            self.add_text("<stdin>", mount, &text, format, schema)
                .map_err(|e| vec![e])?;
            self.record_input(path, mount, &text, None);
            return Ok(());
        }
        if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| {
                    vec![FactsError::Read {
                        path: shown.clone(),
                        reason: e.to_string(),
                    }]
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && Format::from_path(p).is_some())
                .collect();
            files.sort();
            let mut errors = Vec::new();
            for file in files {
                if let Err(mut e) = self.add_source(&file, None, None, schema) {
                    errors.append(&mut e);
                }
            }
            return if errors.is_empty() {
                Ok(())
            } else {
                Err(errors)
            };
        }
        let Some(format) = format.or_else(|| Format::from_path(path)) else {
            return Err(vec![FactsError::UnknownFormat { path: shown }]);
        };
        let text = std::fs::read_to_string(path).map_err(|e| {
            vec![FactsError::Read {
                path: shown.clone(),
                reason: e.to_string(),
            }]
        })?;
        let stem = path.file_stem().and_then(|s| s.to_str());
        let mount = mount.or(if format.is_list() { stem } else { None });
        // The digest is needed only for the report; with threads to spare,
        // it is computed while the text is parsed.
        let (added, sha256) = if self.parse_threads > 1 {
            std::thread::scope(|scope| {
                let digest = scope.spawn(|| sha256_hex(text.as_bytes()));
                let added = self.add_text(&shown, mount, &text, format, schema);
                (added, digest.join().ok())
            })
        } else {
            (self.add_text(&shown, mount, &text, format, schema), None)
        };
        added.map_err(|e| vec![e])?;
        self.record_input(path, mount, &text, sha256);
        Ok(())
    }

    /// Parses facts text in a format and merges it in, checked against the
    /// schema when there is one; ISO dates in `date` fields become dates.
    pub fn add_text(
        &mut self,
        name: &str,
        mount: Option<&str>,
        text: &str,
        format: Format,
        schema: Option<&Schema>,
    ) -> Result<(), FactsError> {
        match (format, schema) {
            // Nothing to validate, so no positions to keep: parse straight
            // into values (src/eval/json/), the fast path for big fleets.
            (Format::Json, None) => return self.add_json(name, mount, text),
            (Format::Json, Some(schema)) => {
                if let Some(values) = self.valid_json(text, mount, schema) {
                    for (key, value) in values {
                        self.insert(name, &key, value)?;
                    }
                    return Ok(());
                }
            }
            _ => {}
        }
        let syntax = |e: load::SyntaxError| FactsError::Syntax {
            path: name.to_string(),
            format: format.name(),
            line: e.line,
            column: e.column,
            reason: e.reason,
        };
        let node = match load::parse(text, format) {
            Err(_) if format == Format::JsonLines && self.skip_malformed_records => {
                let (node, errors) = load::parse_records(text);
                self.records_read += errors.len();
                self.rejected.extend(errors.into_iter().map(syntax));
                node
            }
            other => other.map_err(syntax)?,
        };
        if let (Format::JsonLines, load::NodeKind::List(items)) = (format, &node.kind) {
            self.records_read += items.len();
        }
        let mut violations = Vec::new();
        let field_ty = |key: &str| schema.and_then(|s| s.facts.fields.get(key)).map(|f| &f.ty);
        let mut values = Vec::new();
        match (mount, &node.kind) {
            (Some(key), _) => {
                let v = load::validate(&node, field_ty(key), schema, key, &mut violations);
                values.push((key.to_string(), v));
            }
            (None, load::NodeKind::Map(entries)) => {
                for (key, child) in entries {
                    let v = load::validate(child, field_ty(key), schema, key, &mut violations);
                    values.push((key.clone(), v));
                }
            }
            (None, other) => {
                return Err(FactsError::NotAnObject {
                    path: name.to_string(),
                    found: match other {
                        load::NodeKind::List(_) => "a list",
                        _ => "a single value",
                    },
                })
            }
        }
        if !violations.is_empty() {
            return Err(FactsError::Invalid {
                path: name.to_string(),
                violations,
            });
        }
        for (key, value) in values {
            self.insert(name, &key, value)?;
        }
        Ok(())
    }

    /// JSON that matches the schema, parsed and checked without keeping
    /// positions; `None` when anything is wrong, so that the position-keeping
    /// reader reads it again and locates every problem. Valid facts, the
    /// common case, are read at the speed of schema-less ones.
    fn valid_json(
        &self,
        text: &str,
        mount: Option<&str>,
        schema: &Schema,
    ) -> Option<Vec<(String, Value)>> {
        // Schema validation reads every value, so everything is built.
        let everything = Demand::everything();
        let mut interner = super::json::Interner::default();
        let value = super::json::parse_parallel(
            text,
            self.parse_threads,
            &everything,
            everything.root(),
            &mut interner,
        )
        .ok()?;
        // The position-keeping reader reports a repeated top-level key, and
        // reads a record's first value for a repeated field.
        if interner.duplicate_keys {
            return None;
        }
        let field_ty = |key: &str| schema.facts.fields.get(key).map(|f| &f.ty);
        let mut violations = Vec::new();
        let threads = self.parse_threads;
        let mut check = |key: &str, v: &Value| {
            let checked = match (field_ty(key), v) {
                // A fleet's large lists are checked on every thread.
                (Some(Ty::List(elem)), Value::List(items))
                    if threads > 1 && items.len() >= PARALLEL_CHECK_ITEMS =>
                {
                    load::validate_items(items, elem, schema, key, threads, &mut violations)
                }
                (ty, _) => load::validate(v, ty, Some(schema), key, &mut violations),
            };
            (key.to_string(), checked)
        };
        let values = match (mount, &value) {
            (Some(key), _) => vec![check(key, &value)],
            (None, Value::Object(map)) => map.iter().map(|(k, v)| check(k, v)).collect(),
            (None, _) => return None,
        };
        violations.is_empty().then_some(values)
    }

    /// Checks that every top-level key the schema requires was given.
    /// `streamed` names a key that `--stream` supplies record by record.
    pub fn check_required(
        &self,
        schema: &Schema,
        streamed: Option<&str>,
    ) -> Result<(), FactsError> {
        let violations =
            load::missing_keys(schema, |k| self.keys.contains_key(k) || streamed == Some(k));
        if violations.is_empty() {
            Ok(())
        } else {
            Err(FactsError::Invalid {
                path: "<facts>".into(),
                violations,
            })
        }
    }

    /// The value of a top-level key.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.keys.get(key)
    }

    /// The top-level keys.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(|k| &**k)
    }
}

/// The SHA-256 of some bytes as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    use std::fmt::Write as _;
    let mut out = String::with_capacity(64);
    for b in sha2::Sha256::digest(bytes) {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// serde_json appends " at line L column C"; we report those separately.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = r#"
facts { assets: [Asset]  when: datetime  window: duration  note?: string }
type Asset { id: string  tier: "gold" | "silver"  seen: date | string  due?: date  tags: [string]  extra: any }
"#;

    const FACTS: &str = r#"{
  "assets": [
    {"id": "a1", "tier": "gold", "seen": "2026-01-02", "due": null, "tags": ["x"], "extra": {"k": [1, 2.5]}, "more": true},
    {"id": "a2", "tier": "silver", "seen": "not a date", "tags": [], "extra": null}
  ],
  "when": "2026-11-29T08:30:00Z",
  "window": "36h",
  "unlisted": [1, "2"]
}"#;

    fn schema() -> Schema {
        let mut sources = crate::source::SourceMap::default();
        let id = sources.add("s.edict".to_string(), SCHEMA.to_string());
        let file = crate::syntax::parse(&sources, id).unwrap();
        crate::schema::build(file.decls.iter(), &mut Vec::new()).unwrap()
    }

    /// The position-keeping reader's values, as the fast path must give them.
    fn slow(schema: &Schema, text: &str) -> Vec<(String, String)> {
        let node = load::parse(text, Format::Json).unwrap();
        let load::NodeKind::Map(entries) = &node.kind else {
            panic!("not an object")
        };
        let mut violations = Vec::new();
        let out = entries
            .iter()
            .map(|(k, v)| {
                let ty = schema.facts.fields.get(k.as_str()).map(|f| &f.ty);
                let value = load::validate(v, ty, Some(schema), k, &mut violations);
                (k.clone(), format!("{value:?}"))
            })
            .collect();
        assert!(violations.is_empty(), "{violations:?}");
        out
    }

    #[test]
    fn valid_json_reads_as_the_position_keeping_reader_reads_it() {
        let schema = schema();
        let facts = Facts::default();
        let fast: Vec<(String, String)> = facts
            .valid_json(FACTS, None, &schema)
            .expect("valid facts take the fast path")
            .into_iter()
            .map(|(k, v)| (k, format!("{v:?}")))
            .collect();
        assert_eq!(fast, slow(&schema, FACTS));
        assert!(fast[0].1.contains("Date(2026-01-02)"), "{}", fast[0].1);
    }

    /// FACTS with its two assets repeated into a list long enough to be
    /// checked on several threads.
    fn many_assets(n: usize) -> String {
        let start = FACTS.find("    {\"id\": \"a1\"").unwrap();
        let end = FACTS.find("\n  ],").unwrap();
        let pair = &FACTS[start..end];
        let repeated = vec![pair; n / 2].join(",\n");
        format!("{}{repeated}{}", &FACTS[..start], &FACTS[end..])
    }

    #[test]
    fn large_lists_checked_on_threads_read_as_on_one() {
        let schema = schema();
        let text = many_assets(2 * PARALLEL_CHECK_ITEMS + 2);
        let read = |threads: usize| {
            let facts = Facts {
                parse_threads: threads,
                ..Facts::default()
            };
            let values = facts.valid_json(&text, None, &schema).expect("valid");
            format!("{values:?}")
        };
        let one = read(1);
        assert!(one.contains("Date(2026-01-02)"));
        assert_eq!(read(2), one);
        assert_eq!(read(3), one);
        // A violation in the last item is found whichever thread checks it.
        let bad = format!(
            "{}{}",
            &text[..text.rfind("\"silver\"").unwrap()],
            &text[text.rfind("\"silver\"").unwrap()..].replacen("\"silver\"", "\"bronze\"", 1)
        );
        let facts = Facts {
            parse_threads: 3,
            ..Facts::default()
        };
        assert!(facts.valid_json(&bad, None, &schema).is_none());
    }

    #[test]
    fn invalid_or_duplicated_json_goes_to_the_position_keeping_reader() {
        let schema = schema();
        let facts = Facts::default();
        for bad in [
            FACTS.replace("\"gold\"", "\"golden\""),
            FACTS.replace("\"36h\"", "\"soon\""),
            FACTS.replace("\"tier\": \"silver\", ", ""),
            FACTS.replace("\"more\": true", "\"more\": true, \"id\": \"again\""),
            FACTS.replace("\"unlisted\"", "\"when\""),
            FACTS.replace("\"unlisted\": [1, \"2\"]", "\"unlisted\": [1, \"2\""),
        ] {
            assert!(facts.valid_json(&bad, None, &schema).is_none(), "{bad}");
        }
        let mut loaded = Facts::default();
        let e = loaded
            .add_text(
                "f.json",
                None,
                &FACTS.replace("\"gold\"", "\"golden\""),
                Format::Json,
                Some(&schema),
            )
            .unwrap_err();
        let FactsError::Invalid { violations, .. } = e else {
            panic!("{e:?}")
        };
        assert_eq!(
            (violations[0].line, violations[0].path.as_str()),
            (3, "assets[0].tier")
        );
    }
}
