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

/// Converts a tree to a value, checked against `ty` when a schema gives one.
pub fn validate(
    node: &Node,
    ty: Option<&Ty>,
    schema: Option<&Schema>,
    path: &str,
    out: &mut Vec<Violation>,
) -> Value {
    match (ty, schema) {
        (Some(ty), Some(schema)) => {
            let mut v = Validator { schema, out };
            let mut path = path.to_string();
            v.value(node, ty, &mut path)
        }
        _ => plain(node),
    }
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

struct Validator<'s, 'o> {
    schema: &'s Schema,
    out: &'o mut Vec<Violation>,
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

fn found(node: &Node) -> String {
    match &node.kind {
        NodeKind::Str { text, .. } => format!("`{text}`"),
        NodeKind::Int(i) => format!("the number {i}"),
        NodeKind::Float(f) => format!("the number {f}"),
        NodeKind::Bool(b) => format!("`{b}`"),
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

impl Validator<'_, '_> {
    fn violation(&mut self, code: &'static str, node: &Node, path: &str, message: String) {
        self.out.push(Violation {
            code,
            line: node.line as usize,
            column: node.column as usize,
            path: path.to_string(),
            message,
        });
    }

    fn mismatch(&mut self, node: &Node, ty: &Ty, path: &str) -> Value {
        let expected = Shown(ty, self.schema).to_string();
        self.violation(
            "F0005",
            node,
            path,
            format!("expected {expected}, found {}", found(node)),
        );
        plain(node)
    }

    /// Whether the node matches the type, without reporting.
    fn fits(&mut self, node: &Node, ty: &Ty, path: &mut String) -> Option<Value> {
        let mut scratch = Vec::new();
        let mut v = Validator {
            schema: self.schema,
            out: &mut scratch,
        };
        let value = v.value(node, ty, path);
        scratch.is_empty().then_some(value)
    }

    fn value(&mut self, node: &Node, ty: &Ty, path: &mut String) -> Value {
        // An empty CSV cell stands for no value.
        if let NodeKind::Str { text, raw: true } = &node.kind {
            if text.is_empty() && !matches!(ty, Ty::Str | Ty::Any) {
                let null = Node {
                    kind: NodeKind::Null,
                    ..node.clone()
                };
                return self.value(&null, ty, path);
            }
        }
        match (ty, &node.kind) {
            (Ty::Any, _) => plain(node),
            (Ty::Null, NodeKind::Null) => Value::Null,
            (Ty::Bool, NodeKind::Bool(b)) => Value::Bool(*b),
            (Ty::Bool, NodeKind::Str { text, raw: true }) if text == "true" || text == "false" => {
                Value::Bool(text == "true")
            }
            (Ty::Int, NodeKind::Int(i)) => Value::Int(*i),
            (Ty::Number, NodeKind::Int(i)) => Value::Int(*i),
            (Ty::Number, NodeKind::Float(f)) => Value::Float(*f),
            (Ty::Int | Ty::Number, NodeKind::Str { text, raw: true })
                if text.parse::<i64>().is_ok() =>
            {
                text.parse::<i64>().map(Value::Int).unwrap_or(Value::Null)
            }
            (Ty::Number, NodeKind::Str { text, raw: true }) if text.parse::<f64>().is_ok() => {
                text.parse::<f64>().map(Value::Float).unwrap_or(Value::Null)
            }
            (Ty::Str, NodeKind::Str { text, .. }) => Value::str(text),
            (Ty::Lits(allowed), NodeKind::Str { text, .. }) => {
                if !allowed.iter().any(|a| **a == **text) {
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
                Value::str(text)
            }
            (Ty::Date, NodeKind::Str { text, .. }) => match parse_date(text) {
                Some(d) => Value::Date(d),
                None => {
                    self.violation(
                        "F0008",
                        node,
                        path,
                        format!("`{text}` is not a date (YYYY-MM-DD)"),
                    );
                    Value::str(text)
                }
            },
            (Ty::DateTime, NodeKind::Str { text, .. }) => {
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
                        Value::str(text)
                    }
                }
            }
            (Ty::Duration, NodeKind::Str { text, .. }) => match parse_duration(text) {
                Some(d) => Value::Duration(d),
                None => self.mismatch(node, ty, path),
            },
            (Ty::List(elem), NodeKind::List(items)) => {
                let mut values = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    values.push(self.value(item, elem, path));
                    path.truncate(len);
                }
                Value::list(values)
            }
            (Ty::Record(id), NodeKind::Map(entries)) => match self.schema.records.get(*id) {
                Some(record) => self.record(node, record, entries, path),
                None => plain(node),
            },
            (Ty::Union(members), _) => self.union(node, ty, members, path),
            _ => self.mismatch(node, ty, path),
        }
    }

    fn union(&mut self, node: &Node, ty: &Ty, members: &[Ty], path: &mut String) -> Value {
        if node.kind == NodeKind::Null && members.contains(&Ty::Null) {
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

    fn record(
        &mut self,
        node: &Node,
        record: &Record,
        entries: &[(String, Node)],
        path: &mut String,
    ) -> Value {
        let mut map = Map::default();
        for (name, field) in &record.fields {
            let len = path.len();
            push_key(path, name);
            match entries.iter().find(|(k, _)| **k == **name) {
                Some((_, v)) if field.optional && is_blank(v) => {
                    map.insert(name.clone(), Value::Null);
                }
                Some((_, v)) => {
                    let value = self.value(v, &field.ty, path);
                    map.insert(name.clone(), value);
                }
                None if field.optional => {
                    map.insert(name.clone(), Value::Null);
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
            if record.fields.contains_key(key.as_str()) {
                continue;
            }
            let absent = record
                .fields
                .keys()
                .filter(|f| !entries.iter().any(|(k, _)| **k == ***f))
                .map(|f| &**f);
            if let Some(s) = did_you_mean(key, absent) {
                let len = path.len();
                push_key(path, key);
                let at = path.clone();
                path.truncate(len);
                self.violation(
                    "F0009",
                    v,
                    &at,
                    format!(
                        "unknown field `{key}` of `{}`; did you mean `{s}`?",
                        record.name
                    ),
                );
            }
            map.insert(Str::from(key.as_str()), plain(v));
        }
        Value::Object(Arc::new(map))
    }
}

/// Null, or an empty CSV cell.
fn is_blank(node: &Node) -> bool {
    match &node.kind {
        NodeKind::Null => true,
        NodeKind::Str { text, raw: true } => text.is_empty(),
        _ => false,
    }
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
