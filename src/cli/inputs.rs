//! Inputs shared by the authoring commands: a policy set and facts.

use std::path::{Path, PathBuf};

use super::{emit_diagnostics, DiagnosticFormat, EXIT_INVALID};
use crate::{Facts, FactsError, LoadError, PolicySet};

/// Loads and checks a policy set, printing diagnostics; `Err` is the exit code.
pub(super) fn load_set(paths: &[PathBuf]) -> Result<PolicySet, u8> {
    match PolicySet::load(paths) {
        Ok(set) => {
            emit_diagnostics(
                set.warnings(),
                &set.program().sources,
                DiagnosticFormat::Pretty,
            );
            Ok(set)
        }
        Err(LoadError::Check(failure)) => {
            emit_diagnostics(
                &failure.diagnostics,
                &failure.sources,
                DiagnosticFormat::Pretty,
            );
            Err(EXIT_INVALID)
        }
        Err(other) => {
            err_line!("error: {other}");
            Err(EXIT_INVALID)
        }
    }
}

/// Splits `NAME=FILE` into its mount name and path.
pub(super) fn facts_spec(spec: &str) -> (Option<&str>, &Path) {
    match spec.split_once('=') {
        Some((name, path)) if !name.is_empty() && !name.contains(['/', '\\', '.']) => {
            (Some(name), Path::new(path))
        }
        _ => (None, Path::new(spec)),
    }
}

/// Reads every `--facts` input into one document.
pub(super) fn read_facts(specs: &[String]) -> Result<Facts, FactsError> {
    let mut facts = Facts::default();
    for spec in specs {
        let (mount, path) = facts_spec(spec);
        facts.add_file(path, mount)?;
    }
    Ok(facts)
}

/// Reads the facts, printing the error; `Err` is the exit code.
pub(super) fn load_facts(specs: &[String]) -> Result<Facts, u8> {
    read_facts(specs).map_err(|e| {
        err_line!("{:?}", miette::Report::new(e));
        EXIT_INVALID
    })
}

/// Checks that a rule exists, suggesting the nearest name; `Err` is the exit code.
pub(super) fn known_rule(set: &PolicySet, id: &str) -> Result<(), u8> {
    if set.program().rules.iter().any(|r| *r.id == *id) {
        return Ok(());
    }
    let known = set.program().rules.iter().map(|r| &*r.id);
    let help = crate::diagnostic::did_you_mean(id, known)
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default();
    err_line!("error: no rule `{id}`{help}");
    Err(EXIT_INVALID)
}
