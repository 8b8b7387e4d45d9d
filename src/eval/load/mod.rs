//! Reading facts from JSON, JSON Lines, YAML and CSV into one position-keeping
//! tree, so that facts can be validated against the schema with every problem
//! reported at its file, line, column and JSON path.

mod csv;
mod json;
mod validate;
mod yaml;

use std::path::Path;

pub use validate::{missing_keys, validate, validate_items, Violation};

/// A parsed facts value with the position it was read from.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// What it is.
    pub kind: NodeKind,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
}

/// The kinds of facts values, before the schema gives them types.
#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind {
    /// `null`, an empty YAML value, an empty CSV cell under a schema.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A decimal.
    Float(f64),
    /// Text; `raw` when it came from a CSV cell and may stand for a number or a bool.
    Str {
        /// The text.
        text: String,
        /// Whether the schema may read it as a number or a bool.
        raw: bool,
    },
    /// A list.
    List(Vec<Node>),
    /// An object, keys in order.
    Map(Vec<(String, Node)>),
}

impl NodeKind {
    /// What a person calls this kind of value.
    pub fn type_name(&self) -> &'static str {
        match self {
            NodeKind::Null => "null",
            NodeKind::Bool(_) => "a bool",
            NodeKind::Int(_) | NodeKind::Float(_) => "a number",
            NodeKind::Str { .. } => "a string",
            NodeKind::List(_) => "a list",
            NodeKind::Map(_) => "an object",
        }
    }
}

/// The formats facts can be read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One JSON document.
    Json,
    /// JSON Lines: one value a line, read as a list.
    JsonLines,
    /// One YAML document.
    Yaml,
    /// Comma-separated values with a header row, read as a list of records.
    Csv,
}

impl Format {
    /// The format a file's extension names, if it names one.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Format::parse(&ext)
    }

    /// Parses a format name (`json`, `jsonl`, `ndjson`, `yaml`, `yml`, `csv`).
    pub fn parse(name: &str) -> Option<Format> {
        match name {
            "json" => Some(Format::Json),
            "jsonl" | "ndjson" => Some(Format::JsonLines),
            "yaml" | "yml" => Some(Format::Yaml),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }

    /// The format's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "JSON",
            Format::JsonLines => "JSON Lines",
            Format::Yaml => "YAML",
            Format::Csv => "CSV",
        }
    }

    /// Whether a document in this format is a list that needs a mount name.
    pub fn is_list(self) -> bool {
        matches!(self, Format::JsonLines | Format::Csv)
    }
}

/// Malformed input: where, and what the reader expected.
#[derive(Clone, Debug, PartialEq)]
pub struct SyntaxError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub reason: String,
}

/// Parses JSON Lines, leaving out malformed lines: the well-formed records
/// as a list, and where and why each malformed line failed.
pub fn parse_records(text: &str) -> (Node, Vec<SyntaxError>) {
    json::parse_records(text)
}

/// Parses facts text in a format into a position-keeping tree.
pub fn parse(text: &str, format: Format) -> Result<Node, SyntaxError> {
    match format {
        Format::Json => json::parse(text),
        Format::JsonLines => json::parse_lines(text),
        Format::Yaml => yaml::parse(text),
        Format::Csv => csv::parse(text),
    }
}
