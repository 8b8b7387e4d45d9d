//! Facts: the JSON documents rules are evaluated against.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use super::value::{Str, Value};

/// A facts document: top-level keys merged from every input.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    keys: IndexMap<Str, Value>,
    /// Where each input came from, in the order given.
    pub inputs: Vec<FactsInput>,
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
    /// The JSON is malformed.
    #[error("{path}:{line}:{column}: malformed JSON: {reason}")]
    #[diagnostic(
        code(F0001),
        help("fix the JSON at that line and column; nothing was evaluated")
    )]
    Syntax {
        /// The file.
        path: String,
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
        self.inputs.push(FactsInput {
            mount: mount.map(str::to_string),
            path: path.to_path_buf(),
            bytes: text.len(),
        });
        Ok(())
    }

    /// Parses JSON text and merges it in.
    pub fn add_json(
        &mut self,
        name: &str,
        mount: Option<&str>,
        text: &str,
    ) -> Result<(), FactsError> {
        let value =
            super::json::parse(text, &mut super::json::Interner::default()).map_err(|e| {
                FactsError::Syntax {
                    path: name.to_string(),
                    line: e.line(),
                    column: e.column(),
                    reason: strip_position(&e.to_string()),
                }
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

    /// The value of a top-level key.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.keys.get(key)
    }

    /// The top-level keys.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(|k| &**k)
    }
}

/// serde_json appends " at line L column C"; we report those separately.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}
