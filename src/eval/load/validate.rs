//! Turning a parsed tree into values, checked against the schema: every
//! violation is collected with its position and JSON path, and ISO strings in
//! `date`/`datetime` fields become dates here, once.

use std::sync::Arc;

use super::{Node, NodeKind};
use crate::diagnostic::did_you_mean;
use crate::eval::value::{midnight, parse_date, parse_datetime, Duration, Map, Str, Value};
use crate::schema::{Record, Schema, Shown, Ty};

/// One way the facts do not match the schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Stable code (`F0005`…), documented in docs/errors.md.
    pub code: &'static str,
    /// 1-based line, 0 when the value is absent from every file.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The JSON path, e.g. `assets[3].findings[0].published`.
    pub path: String,
    /// What is wrong: lowercase, no trailing period.
    pub message: String,
}

/// A parsed facts tree the validator can read: the position-keeping [`Node`]
/// tree, or plain JSON values parsed without positions (whose violations are
/// then reported at line 0, to be located by re-reading as nodes).
pub trait Tree: Sized {
    /// What the value is.
    fn view(&self) -> View<'_, Self>;
    /// Its 1-based line and column, or (0, 0) when not kept.
    fn position(&self) -> (usize, usize);
    /// The value with no schema to follow.
    fn plain(&self) -> Value;
}

/// A facts value's kind and content, whatever tree holds it.
pub enum View<'a, T> {
    /// `null` or an absent value.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A decimal.
    Float(f64),
    /// Text; `raw` for a CSV cell that may stand for a number or a bool.
    Str {
        /// The text.
        text: &'a str,
        /// Whether the schema may read it as a number or a bool.
        raw: bool,
    },
    /// A list.
    List(&'a [T]),
    /// An object's fields in order.
    Map(Vec<(&'a str, &'a T)>),
    /// A value JSON cannot hold (a date or duration already converted).
    Other,
}

impl<T> View<'_, T> {
    fn type_name(&self) -> &'static str {
        match self {
            View::Null => "null",
            View::Bool(_) => "a bool",
            View::Int(_) | View::Float(_) => "a number",
            View::Str { .. } => "a string",
            View::List(_) => "a list",
            View::Map(_) => "an object",
            View::Other => "a value",
        }
    }
}

impl Tree for Node {
    fn view(&self) -> View<'_, Node> {
        match &self.kind {
            NodeKind::Null => View::Null,
            NodeKind::Bool(b) => View::Bool(*b),
            NodeKind::Int(i) => View::Int(*i),
            NodeKind::Float(f) => View::Float(*f),
            NodeKind::Str { text, raw } => View::Str { text, raw: *raw },
            NodeKind::List(items) => View::List(items),
            NodeKind::Map(entries) => {
                View::Map(entries.iter().map(|(k, v)| (k.as_str(), v)).collect())
            }
        }
    }

    fn position(&self) -> (usize, usize) {
        (self.line as usize, self.column as usize)
    }

    fn plain(&self) -> Value {
        plain(self)
    }
}

impl Tree for Value {
    fn view(&self) -> View<'_, Value> {
        match self {
            Value::Null => View::Null,
            Value::Bool(b) => View::Bool(*b),
            Value::Int(i) => View::Int(*i),
            Value::Float(f) => View::Float(*f),
            Value::Str(text) => View::Str { text, raw: false },
            Value::List(items) => View::List(items),
            Value::Object(map) => View::Map(map.iter().map(|(k, v)| (&**k, v)).collect()),
            Value::Date(_) | Value::DateTime(_) | Value::Duration(_) => View::Other,
        }
    }

    fn position(&self) -> (usize, usize) {
        (0, 0)
    }

    fn plain(&self) -> Value {
        self.clone()
    }
}

/// Converts a tree to a value, checked against `ty` when a schema gives one.
pub fn validate<T: Tree>(
    node: &T,
    ty: Option<&Ty>,
    schema: Option<&Schema>,
    path: &str,
    out: &mut Vec<Violation>,
) -> Value {
    match (ty, schema) {
        (Some(ty), Some(schema)) => {
            let mut names = Vec::new();
            let mut v = Validator {
                schema,
                out,
                names: &mut names,
            };
            let mut path = path.to_string();
            v.value(node, ty, &mut path)
        }
        _ => node.plain(),
    }
}

/// Converts the items of a list of `elem` to values checked against it, as
/// [`validate`] does with a list type, on up to `threads` threads: each takes
/// a contiguous run of items, so values and violations keep document order.
pub fn validate_items(
    items: &[Value],
    elem: &Ty,
    schema: &Schema,
    path: &str,
    threads: usize,
    out: &mut Vec<Violation>,
) -> Value {
    use std::fmt::Write as _;
    let per = items.len().div_ceil(threads.max(1)).max(1);
    let parts: Vec<(Vec<Value>, Vec<Violation>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(per)
            .enumerate()
            .map(|(c, chunk)| {
                scope.spawn(move || {
                    let (mut violations, mut names) = (Vec::new(), Vec::new());
                    let mut v = Validator {
                        schema,
                        out: &mut violations,
                        names: &mut names,
                    };
                    let mut at = String::new();
                    let values = chunk
                        .iter()
                        .enumerate()
                        .map(|(i, item)| {
                            at.clear();
                            // Writing to a String cannot fail.
                            let _ = write!(at, "{path}[{}]", c * per + i);
                            v.value(item, elem, &mut at)
                        })
                        .collect();
                    (values, violations)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    let mut values = Vec::with_capacity(items.len());
    for (part, mut violations) in parts {
        values.extend(part);
        out.append(&mut violations);
    }
    Value::list(values)
}

/// Top-level keys the schema requires that no input gave.
pub fn missing_keys(schema: &Schema, present: impl Fn(&str) -> bool) -> Vec<Violation> {
    schema
        .facts
        .fields
        .iter()
        .filter(|(name, field)| !field.optional && !present(name))
        .map(|(name, field)| Violation {
            code: "F0006",
            line: 0,
            column: 0,
            path: name.to_string(),
            message: format!(
                "missing required facts key `{name}` (a {})",
                Shown(&field.ty, schema)
            ),
        })
        .collect()
}

/// A value with no schema to follow: CSV cells stay text.
pub fn plain(node: &Node) -> Value {
    match &node.kind {
        NodeKind::Null => Value::Null,
        NodeKind::Bool(b) => Value::Bool(*b),
        NodeKind::Int(i) => Value::Int(*i),
        NodeKind::Float(f) => Value::Float(*f),
        NodeKind::Str { text, .. } => Value::str(text),
        NodeKind::List(items) => Value::list(items.iter().map(plain).collect()),
        NodeKind::Map(entries) => Value::Object(Arc::new(
            entries
                .iter()
                .map(|(k, v)| (Str::from(k.as_str()), plain(v)))
                .collect(),
        )),
    }
}

struct Validator<'s, 'o, 'n> {
    schema: &'s Schema,
    out: &'o mut Vec<Violation>,
    /// This validator's own copy of each record field's name, by record and
    /// field: threads checking a fleet side by side would otherwise all
    /// bump the schema's reference counts, for every record.
    names: &'n mut Vec<Vec<Option<Str>>>,
}

fn push_key(path: &mut String, key: &str) {
    let simple = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if path.is_empty() && simple {
        path.push_str(key);
    } else if simple {
        path.push('.');
        path.push_str(key);
    } else {
        path.push_str(&format!("[{key:?}]"));
    }
}

fn found<T>(view: &View<'_, T>) -> String {
    match view {
        View::Str { text, .. } => format!("`{text}`"),
        View::Int(i) => format!("the number {i}"),
        View::Float(f) => format!("the number {f}"),
        View::Bool(b) => format!("`{b}`"),
        other => other.type_name().to_string(),
    }
}

/// A duration written as digits and one unit: `15d`, `36h`, `2w`, `90m`, `30s`.
fn parse_duration(s: &str) -> Option<Duration> {
    let unit = s.chars().last()?;
    let n: i64 = s[..s.len() - unit.len_utf8()].parse().ok()?;
    let secs = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        _ => return None,
    };
    Some(Duration {
        seconds: n.checked_mul(secs)?,
    })
}

impl Validator<'_, '_, '_> {
    /// This validator's copy of field `field` of record `record`, named `name`.
    fn name(&mut self, record: usize, field: usize, name: &Str) -> Str {
        if self.names.len() <= record {
            self.names.resize(record + 1, Vec::new());
        }
        let fields = &mut self.names[record];
        if fields.len() <= field {
            fields.resize(field + 1, None);
        }
        fields[field]
            .get_or_insert_with(|| Str::from(&**name))
            .clone()
    }

    fn violation<T: Tree>(&mut self, code: &'static str, node: &T, path: &str, message: String) {
        let (line, column) = node.position();
        self.out.push(Violation {
            code,
            line,
            column,
            path: path.to_string(),
            message,
        });
    }

    fn mismatch<T: Tree>(&mut self, node: &T, ty: &Ty, path: &str) -> Value {
        let expected = Shown(ty, self.schema).to_string();
        self.violation(
            "F0005",
            node,
            path,
            format!("expected {expected}, found {}", found(&node.view())),
        );
        node.plain()
    }

    /// Whether the node matches the type, without reporting.
    fn fits<T: Tree>(&mut self, node: &T, ty: &Ty, path: &mut String) -> Option<Value> {
        let mut scratch = Vec::new();
        let mut v = Validator {
            schema: self.schema,
            out: &mut scratch,
            names: &mut *self.names,
        };
        let value = v.value(node, ty, path);
        scratch.is_empty().then_some(value)
    }

    fn value<T: Tree>(&mut self, node: &T, ty: &Ty, path: &mut String) -> Value {
        let view = node.view();
        // An empty CSV cell stands for no value.
        if let View::Str {
            text: "",
            raw: true,
        } = view
        {
            if !matches!(ty, Ty::Str | Ty::Any) {
                return self.typed(node, View::Null, ty, path);
            }
        }
        self.typed(node, view, ty, path)
    }

    fn typed<T: Tree>(&mut self, node: &T, view: View<'_, T>, ty: &Ty, path: &mut String) -> Value {
        match (ty, view) {
            (Ty::Any, _) => node.plain(),
            (Ty::Null, View::Null) => Value::Null,
            (Ty::Bool, View::Bool(b)) => Value::Bool(b),
            (Ty::Bool, View::Str { text, raw: true }) if text == "true" || text == "false" => {
                Value::Bool(text == "true")
            }
            (Ty::Int, View::Int(i)) => Value::Int(i),
            (Ty::Number, View::Int(i)) => Value::Int(i),
            (Ty::Number, View::Float(f)) => Value::Float(f),
            (Ty::Int | Ty::Number, View::Str { text, raw: true })
                if text.parse::<i64>().is_ok() =>
            {
                text.parse::<i64>().map(Value::Int).unwrap_or(Value::Null)
            }
            (Ty::Number, View::Str { text, raw: true }) if text.parse::<f64>().is_ok() => {
                text.parse::<f64>().map(Value::Float).unwrap_or(Value::Null)
            }
            (Ty::Str, View::Str { .. }) => node.plain(),
            (Ty::Lits(allowed), View::Str { text, .. }) => {
                if !allowed.iter().any(|a| **a == *text) {
                    let listed: Vec<String> = allowed.iter().map(|a| format!("\"{a}\"")).collect();
                    let hint = did_you_mean(text, allowed.iter().map(|a| &**a))
                        .map(|s| format!(" (did you mean \"{s}\"?)"))
                        .unwrap_or_default();
                    self.violation(
                        "F0007",
                        node,
                        path,
                        format!("`{text}` is not one of {}{hint}", listed.join(", ")),
                    );
                }
                node.plain()
            }
            (Ty::Date, View::Str { text, .. }) => match parse_date(text) {
                Some(d) => Value::Date(d),
                None => {
                    self.violation(
                        "F0008",
                        node,
                        path,
                        format!("`{text}` is not a date (YYYY-MM-DD)"),
                    );
                    node.plain()
                }
            },
            (Ty::DateTime, View::Str { text, .. }) => {
                match parse_datetime(text).or_else(|| parse_date(text).map(midnight)) {
                    Some(t) => Value::DateTime(t),
                    None => {
                        self.violation(
                            "F0008",
                            node,
                            path,
                            format!(
                                "`{text}` is not a datetime (RFC 3339, e.g. 2026-11-29T08:30:00Z)"
                            ),
                        );
                        node.plain()
                    }
                }
            }
            (Ty::Duration, View::Str { text, .. }) => match parse_duration(text) {
                Some(d) => Value::Duration(d),
                None => self.mismatch(node, ty, path),
            },
            (Ty::List(elem), View::List(items)) => {
                let mut values = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    use std::fmt::Write as _;
                    // Writing to a String cannot fail.
                    let _ = write!(path, "[{i}]");
                    values.push(self.value(item, elem, path));
                    path.truncate(len);
                }
                Value::list(values)
            }
            (Ty::Record(id), View::Map(entries)) => match self.schema.records.get(*id) {
                Some(record) => self.record(node, *id, record, &entries, path),
                None => node.plain(),
            },
            (Ty::Union(members), _) => self.union(node, ty, members, path),
            _ => self.mismatch(node, ty, path),
        }
    }

    fn union<T: Tree>(&mut self, node: &T, ty: &Ty, members: &[Ty], path: &mut String) -> Value {
        if matches!(node.view(), View::Null) && members.contains(&Ty::Null) {
            return Value::Null;
        }
        let non_null: Vec<&Ty> = members.iter().filter(|m| **m != Ty::Null).collect();
        for m in &non_null {
            if let Some(v) = self.fits(node, m, path) {
                return v;
            }
        }
        match non_null.as_slice() {
            [only] => self.value(node, only, path),
            _ => self.mismatch(node, ty, path),
        }
    }

    fn record<T: Tree>(
        &mut self,
        node: &T,
        id: usize,
        record: &Record,
        entries: &[(&str, &T)],
        path: &mut String,
    ) -> Value {
        let mut map = Map::with_capacity(record.fields.len().max(entries.len()));
        for (f, (name, field)) in record.fields.iter().enumerate() {
            let len = path.len();
            push_key(path, name);
            match entries.iter().find(|(k, _)| *k == &**name) {
                Some((_, v)) if field.optional && is_blank(*v) => {
                    map.insert(self.name(id, f, name), Value::Null);
                }
                Some((_, v)) => {
                    let value = self.value(*v, &field.ty, path);
                    map.insert(self.name(id, f, name), value);
                }
                None if field.optional => {
                    map.insert(self.name(id, f, name), Value::Null);
                }
                None => {
                    let at = path.clone();
                    path.truncate(len);
                    let shown = Shown(&field.ty, self.schema).to_string();
                    self.violation(
                        "F0006",
                        node,
                        &at,
                        format!("missing required field `{name}` (a {shown})"),
                    );
                }
            }
            path.truncate(len);
        }
        for (key, v) in entries {
            if record.fields.contains_key(*key) {
                continue;
            }
            let absent = record
                .fields
                .keys()
                .filter(|f| !entries.iter().any(|(k, _)| *k == &***f))
                .map(|f| &**f);
            if let Some(s) = did_you_mean(key, absent) {
                let len = path.len();
                push_key(path, key);
                let at = path.clone();
                path.truncate(len);
                self.violation(
                    "F0009",
                    *v,
                    &at,
                    format!(
                        "unknown field `{key}` of `{}`; did you mean `{s}`?",
                        record.name
                    ),
                );
            }
            map.insert(Str::from(*key), v.plain());
        }
        Value::Object(Arc::new(map))
    }
}

/// Null, or an empty CSV cell.
fn is_blank<T: Tree>(node: &T) -> bool {
    matches!(
        node.view(),
        View::Null
            | View::Str {
                text: "",
                raw: true
            }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::load::{parse, Format};

    fn schema(text: &str) -> Schema {
        let mut sources = crate::source::SourceMap::default();
        let id = sources.add("s.edict".to_string(), text.to_string());
        let file = crate::syntax::parse(&sources, id).unwrap();
        crate::schema::build(file.decls.iter(), &mut Vec::new()).unwrap()
    }

    fn load(schema: &Schema, text: &str, format: Format) -> (Value, Vec<Violation>) {
        let node = parse(text, format).unwrap();
        let mut out = Vec::new();
        let ty = &schema.facts.fields["xs"].ty;
        let v = validate(&node, Some(ty), Some(schema), "xs", &mut out);
        (v, out)
    }

    fn first(v: &Value) -> &Value {
        match v {
            Value::List(items) => &items[0],
            other => panic!("not a list: {other:?}"),
        }
    }

    const SCHEMA: &str =
        "facts { xs: [X] }\ntype X { n: int  ok: bool  d: date | string  o?: date }";

    #[test]
    fn types_csv_cells_by_the_schema_and_nulls_absent_optionals() {
        let s = schema(SCHEMA);
        let (v, out) = load(&s, "n,ok,d,o\n3,true,2026-01-02,\n", Format::Csv);
        assert!(out.is_empty(), "{out:?}");
        let row = first(&v);
        assert!(matches!(row.get("n"), Some(Value::Int(3))));
        assert!(matches!(row.get("ok"), Some(Value::Bool(true))));
        assert!(matches!(row.get("d"), Some(Value::Date(_))));
        assert!(matches!(row.get("o"), Some(Value::Null)));
        let (json, _) = load(
            &s,
            "[{\"n\": 3, \"ok\": true, \"d\": \"2026-01-02\"}]",
            Format::Json,
        );
        assert_eq!(json.to_json(), v.to_json());
    }

    #[test]
    fn a_union_falls_back_and_every_violation_is_kept() {
        let s = schema(SCHEMA);
        let (v, out) = load(
            &s,
            "[{\"n\": 1.5, \"ok\": \"yes\", \"d\": \"2026-13-45\", \"o\": \"x\"}, {}]",
            Format::Json,
        );
        let codes: Vec<(&str, &str)> = out.iter().map(|o| (o.code, o.path.as_str())).collect();
        assert_eq!(
            codes,
            [
                ("F0005", "xs[0].n"),
                ("F0005", "xs[0].ok"),
                ("F0008", "xs[0].o"),
                ("F0006", "xs[1].n"),
                ("F0006", "xs[1].ok"),
                ("F0006", "xs[1].d"),
            ]
        );
        let row = first(&v);
        assert!(matches!(row.get("d"), Some(Value::Str(s)) if &**s == "2026-13-45"));
    }
}
