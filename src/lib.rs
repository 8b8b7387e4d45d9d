//! Edict: policy-as-code for compliance rules over JSON facts.
//!
//! ```
//! let set = edict::PolicySet::from_sources([(
//!     "policy.edict".to_string(),
//!     r#"rule trained { for p in people  require p.trained else "{p.id} is not trained" }"#.to_string(),
//! )])
//! .map_err(|f| f.diagnostics)
//! .unwrap();
//! let facts = edict::Facts::from_json_str(r#"{"people": [{"id": "p1", "trained": false}]}"#).unwrap();
//! let evaluation = set.evaluate(&facts, &edict::EvalOptions::default());
//! assert_eq!(evaluation.rules[0].subjects[0].outcome, edict::Outcome::Fail);
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::todo,
        clippy::unimplemented
    )
)]

pub mod builtins;
pub mod check;
#[cfg(feature = "cli")]
pub mod cli;
pub mod diagnostic;
pub mod eval;
pub mod ir;
pub mod report;
pub mod schema;
pub mod source;
pub mod stdlib;
pub mod syntax;
pub mod testing;

use std::path::{Path, PathBuf};

pub use check::Failure;
pub use diagnostic::Diagnostic;
pub use eval::facts::{Facts, FactsError};
pub use eval::{EvalOptions, Evaluation, Outcome};
use source::SourceMap;

/// A checked, compiled policy set: compile once, evaluate many times.
#[derive(Debug)]
pub struct PolicySet {
    program: ir::Program,
    warnings: Vec<Diagnostic>,
}

/// Why a policy set could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A path could not be read.
    #[error("cannot read `{path}`: {reason}")]
    Io {
        /// The path.
        path: String,
        /// The operating system's reason.
        reason: String,
    },
    /// No `.edict` file was found under the paths.
    #[error("no .edict files found under {0}")]
    Empty(String),
    /// The policy set does not check.
    #[error("the policy set does not check")]
    Check(Failure),
}

impl PolicySet {
    /// Reads every `.edict` file under `paths` and checks the set.
    pub fn load(paths: &[PathBuf]) -> Result<PolicySet, LoadError> {
        let files = policy_files(paths)?;
        if files.is_empty() {
            let shown: Vec<String> = paths.iter().map(|p| format!("`{}`", p.display())).collect();
            return Err(LoadError::Empty(shown.join(", ")));
        }
        let mut sources = Vec::new();
        for file in files {
            let text = std::fs::read_to_string(&file).map_err(|e| LoadError::Io {
                path: file.display().to_string(),
                reason: e.to_string(),
            })?;
            sources.push((file.display().to_string(), text));
        }
        PolicySet::from_sources(sources).map_err(LoadError::Check)
    }

    /// Checks a policy set given as (name, text) pairs.
    pub fn from_sources(
        sources: impl IntoIterator<Item = (String, String)>,
    ) -> Result<PolicySet, Failure> {
        let mut map = SourceMap::default();
        for (name, text) in sources {
            map.add(name, text);
        }
        let (program, warnings) = check::compile(map)?;
        Ok(PolicySet { program, warnings })
    }

    /// Evaluates every rule against the facts.
    pub fn evaluate(&self, facts: &Facts, options: &EvalOptions) -> Evaluation {
        eval::evaluate(&self.program, facts, options)
    }

    /// What the policy set can observe of the facts. Set it as
    /// [`Facts::demand`] before loading, and large JSON facts are built only
    /// that far: the same outcomes and messages, less time and memory.
    pub fn demand(&self) -> eval::demand::Demand {
        eval::demand::Demand::of(&self.program)
    }

    /// The compiled program.
    pub fn program(&self) -> &ir::Program {
        &self.program
    }

    /// The facts schema, when the policy set declares one.
    pub fn schema(&self) -> Option<&schema::Schema> {
        self.program.schema.as_deref()
    }

    /// Warnings found while checking.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }
}

/// Every `.edict` file under the given files and directories, sorted, each once.
pub fn policy_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, LoadError> {
    let mut out = Vec::new();
    for path in paths {
        collect(path, &mut out, 0)?;
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Deepest directory nesting searched, so a symlink loop cannot hang the walk.
const MAX_DIR_DEPTH: usize = 32;

fn collect(path: &Path, out: &mut Vec<PathBuf>, depth: usize) -> Result<(), LoadError> {
    let io = |e: std::io::Error| LoadError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    if depth > MAX_DIR_DEPTH {
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for entry in entries {
        let name = entry.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') || name == "target" {
            continue;
        }
        if entry.is_dir() {
            collect(&entry, out, depth + 1)?;
        } else if name.ends_with(".edict") {
            out.push(entry);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn policy_sets_can_be_shared_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<super::PolicySet>();
    }
}
