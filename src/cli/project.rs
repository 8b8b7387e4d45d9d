//! The project file `edict.toml`, found upward from the working directory, and
//! the reporting of facts that cannot be loaded.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::eval::facts::FactsError;

/// The project file's name.
pub const PROJECT_FILE: &str = "edict.toml";

/// What `edict.toml` may set; command-line flags override each.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Project {
    /// Policy files or directories, relative to the project file.
    #[serde(default)]
    pub paths: Vec<PathBuf>,
    /// Facts inputs (`[NAME=]FILE`), relative to the project file.
    #[serde(default)]
    pub facts: Vec<String>,
    /// The evaluation instant.
    pub now: Option<String>,
    /// The report format (`pretty`, `json`).
    pub format: Option<String>,
    /// The lowest severity whose failures make the run non-compliant.
    pub fail_on: Option<String>,
}

/// The project file nearest above `dir`, if any.
pub fn find(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .map(|d| d.join(PROJECT_FILE))
        .find(|p| p.is_file())
}

/// Reads a project file; paths in it become relative to the working directory.
pub fn load(file: &Path) -> Result<Project, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read `{}`: {e}", file.display()))?;
    let mut project: Project =
        toml::from_str(&text).map_err(|e| format!("`{}`: {}", file.display(), e.message()))?;
    let base = file.parent().unwrap_or(Path::new("."));
    let rel = |p: &Path| -> PathBuf {
        if base.as_os_str().is_empty() || p.is_absolute() {
            p.to_path_buf()
        } else {
            base.join(p)
        }
    };
    project.paths = project.paths.iter().map(|p| rel(p)).collect();
    project.facts = project
        .facts
        .iter()
        .map(|spec| match split_mount(spec) {
            (Some(name), path) => format!("{name}={}", rel(Path::new(path)).display()),
            (None, path) => rel(Path::new(path)).display().to_string(),
        })
        .collect();
    Ok(project)
}

/// The project in effect: the nearest `edict.toml` above the working
/// directory, or an empty one.
pub fn current() -> Result<Project, String> {
    let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
    match find(&cwd) {
        Some(file) => {
            let shown = file
                .strip_prefix(&cwd)
                .map(Path::to_path_buf)
                .unwrap_or(file);
            load(&shown)
        }
        None => Ok(Project::default()),
    }
}

/// Splits `NAME=FILE` into its mount name and path.
pub fn split_mount(spec: &str) -> (Option<&str>, &str) {
    match spec.split_once('=') {
        Some((name, path)) if !name.is_empty() && !name.contains(['/', '\\', '.']) => {
            (Some(name), path)
        }
        _ => (None, spec),
    }
}

/// Facts errors as people read them: every schema violation on its own line,
/// with file, line, column, JSON path and code.
pub fn render_facts_error(e: &FactsError) -> String {
    match e {
        FactsError::Invalid { path, violations } => {
            let mut out = String::new();
            for v in violations {
                let at = if v.line == 0 {
                    path.clone()
                } else {
                    format!("{path}:{}:{}", v.line, v.column)
                };
                out.push_str(&format!(
                    "error[{}]: {at}: `{}`: {}\n",
                    v.code, v.path, v.message
                ));
            }
            out.push_str(&format!("error: {e}; nothing was evaluated\n"));
            out
        }
        other => {
            use miette::Diagnostic;
            let code = other.code().map(|c| c.to_string()).unwrap_or_default();
            let help = other
                .help()
                .map(|h| format!("  help: {h}\n"))
                .unwrap_or_default();
            format!("error[{code}]: {other}\n{help}")
        }
    }
}
