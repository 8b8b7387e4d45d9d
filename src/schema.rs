//! The facts schema: the types a `facts { … }` block and `type` declarations
//! give the facts document, built once by the checker and used both to type
//! the policy and to validate facts when they are loaded.

use std::collections::HashSet;
use std::fmt;

use indexmap::IndexMap;

use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::eval::value::Str;
use crate::source::Span;
use crate::syntax::ast;

/// A type in the schema or inferred for an expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Ty {
    /// Anything: no schema says otherwise.
    Any,
    /// `null`
    Null,
    /// `bool`
    Bool,
    /// `int`
    Int,
    /// `number` (an int or a decimal)
    Number,
    /// `string`
    Str,
    /// A union of string literals, e.g. `"low" | "high"`.
    Lits(Vec<Str>),
    /// `date`
    Date,
    /// `datetime`
    DateTime,
    /// `duration`
    Duration,
    /// `[T]`
    List(Box<Ty>),
    /// A record `type`, by index into [`Schema::records`].
    Record(usize),
    /// A union of other types (normalised: flat, no duplicates, no `Any`).
    Union(Vec<Ty>),
}

impl Ty {
    /// The union of two types, normalised.
    pub fn or(self, other: Ty) -> Ty {
        Ty::union([self, other])
    }

    /// The union of several types, normalised.
    pub fn union(members: impl IntoIterator<Item = Ty>) -> Ty {
        let mut flat: Vec<Ty> = Vec::new();
        let mut lits: Vec<Str> = Vec::new();
        let mut has_lits = false;
        for m in members {
            let parts = match m {
                Ty::Union(ms) => ms,
                other => vec![other],
            };
            for p in parts {
                match p {
                    Ty::Any => return Ty::Any,
                    Ty::Lits(ls) => {
                        has_lits = true;
                        for l in ls {
                            if !lits.contains(&l) {
                                lits.push(l);
                            }
                        }
                    }
                    other if !flat.contains(&other) => flat.push(other),
                    _ => {}
                }
            }
        }
        if flat.contains(&Ty::Number) {
            flat.retain(|t| *t != Ty::Int);
        }
        if has_lits && !flat.contains(&Ty::Str) {
            flat.push(Ty::Lits(lits));
        }
        match flat.len() {
            0 => Ty::Any,
            1 => flat.pop().unwrap_or(Ty::Any),
            _ => Ty::Union(flat),
        }
    }

    /// The type without `null`.
    pub fn non_null(&self) -> Ty {
        match self {
            Ty::Union(ms) => Ty::union(ms.iter().filter(|m| **m != Ty::Null).cloned()),
            other => other.clone(),
        }
    }

    /// The members of a union, or the type itself.
    pub fn members(&self) -> Vec<&Ty> {
        match self {
            Ty::Union(ms) => ms.iter().collect(),
            other => vec![other],
        }
    }

    /// Whether it may be null.
    pub fn is_nullable(&self) -> bool {
        self.members().iter().any(|m| **m == Ty::Null)
    }
}

/// Writes a type the way a policy would, naming records by their type name.
pub struct Shown<'a>(pub &'a Ty, pub &'a Schema);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Ty::Any => f.write_str("any"),
            Ty::Null => f.write_str("null"),
            Ty::Bool => f.write_str("bool"),
            Ty::Int => f.write_str("int"),
            Ty::Number => f.write_str("number"),
            Ty::Str => f.write_str("string"),
            Ty::Lits(ls) => {
                let shown: Vec<String> = ls.iter().map(|l| format!("{l:?}")).collect();
                f.write_str(&shown.join(" | "))
            }
            Ty::Date => f.write_str("date"),
            Ty::DateTime => f.write_str("datetime"),
            Ty::Duration => f.write_str("duration"),
            Ty::List(t) => write!(f, "[{}]", Shown(t, self.1)),
            Ty::Record(i) => match self.1.records.get(*i) {
                Some(r) => f.write_str(&r.name),
                None => f.write_str("object"),
            },
            Ty::Union(ms) => {
                let shown: Vec<String> = ms.iter().map(|m| Shown(m, self.1).to_string()).collect();
                f.write_str(&shown.join(" | "))
            }
        }
    }
}

/// A record type: named fields.
#[derive(Clone, Debug)]
pub struct Record {
    /// The type's name (`facts` for the top level).
    pub name: Str,
    /// Its fields in declaration order.
    pub fields: IndexMap<Str, Field>,
}

/// A field of a record.
#[derive(Clone, Debug)]
pub struct Field {
    /// Its type as declared.
    pub ty: Ty,
    /// `?`: it may be absent or null.
    pub optional: bool,
}

impl Field {
    /// The type of reading the field: nullable when it is optional.
    pub fn read_ty(&self) -> Ty {
        if self.optional {
            self.ty.clone().or(Ty::Null)
        } else {
            self.ty.clone()
        }
    }
}

impl Record {
    /// The field's name closest to `name`, for "did you mean".
    pub fn suggest(&self, name: &str) -> Option<String> {
        did_you_mean(name, self.fields.keys().map(|k| &**k))
    }
}

/// The schema of a policy set's facts document.
#[derive(Clone, Debug)]
pub struct Schema {
    /// The top-level keys.
    pub facts: Record,
    /// Record types, referenced by [`Ty::Record`].
    pub records: Vec<Record>,
}

/// The built-in type names.
pub const BUILTIN_TYPES: [&str; 8] = [
    "string", "number", "int", "bool", "date", "datetime", "duration", "any",
];

/// Builds the schema from the `facts` and `type` declarations; `None` when
/// there is no `facts` block. Mistakes in the schema become diagnostics.
pub fn build<'a>(
    decls: impl Iterator<Item = &'a ast::Decl> + Clone,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Schema> {
    let facts_decls: Vec<&ast::FactsDecl> = decls
        .clone()
        .filter_map(|d| match d {
            ast::Decl::Facts(f) => Some(f),
            _ => None,
        })
        .collect();
    let types: IndexMap<Str, &ast::TypeDecl> = decls
        .filter_map(|d| match d {
            ast::Decl::Type(t) => Some((t.name.name.clone(), t)),
            _ => None,
        })
        .collect();
    if facts_decls.is_empty() {
        return None;
    }
    let mut builder = Builder {
        types: &types,
        record_ids: IndexMap::new(),
        records: Vec::new(),
        diagnostics,
        resolving: HashSet::new(),
        aliases: IndexMap::new(),
    };
    for (name, decl) in &types {
        if let ast::TypeBody::Record(_) = decl.body {
            let id = builder.records.len();
            builder.record_ids.insert(name.clone(), id);
            builder.records.push(Record {
                name: name.clone(),
                fields: IndexMap::new(),
            });
        }
    }
    for (name, decl) in &types {
        if let ast::TypeBody::Record(fields) = &decl.body {
            let fields = builder.fields(fields);
            if let Some(id) = builder.record_ids.get(name).copied() {
                builder.records[id].fields = fields;
            }
        } else {
            // Resolve once here so that a mistake in an unused alias is reported.
            builder.named(&decl.name);
        }
    }
    let all_fields: Vec<ast::FieldDecl> = facts_decls
        .iter()
        .flat_map(|f| f.fields.iter().cloned())
        .collect();
    let fields = builder.fields(&all_fields);
    let records = builder.records;
    Some(Schema {
        facts: Record {
            name: Str::from("facts"),
            fields,
        },
        records,
    })
}

struct Builder<'a, 'd> {
    types: &'a IndexMap<Str, &'a ast::TypeDecl>,
    record_ids: IndexMap<Str, usize>,
    records: Vec<Record>,
    diagnostics: &'d mut Vec<Diagnostic>,
    resolving: HashSet<Str>,
    aliases: IndexMap<Str, Ty>,
}

impl Builder<'_, '_> {
    fn fields(&mut self, decls: &[ast::FieldDecl]) -> IndexMap<Str, Field> {
        let mut fields: IndexMap<Str, Field> = IndexMap::new();
        let mut spans: IndexMap<Str, Span> = IndexMap::new();
        for decl in decls {
            let ty = self.expr(&decl.ty);
            if let Some(first) = spans.get(&decl.name.name) {
                self.diagnostics.push(
                    Diagnostic::error(
                        "E0401",
                        decl.name.span,
                        format!("field `{}` is declared twice", decl.name.name),
                    )
                    .with_label("declared again here")
                    .with_related(*first, "first declared here")
                    .with_help("remove one of the two declarations"),
                );
                continue;
            }
            spans.insert(decl.name.name.clone(), decl.name.span);
            fields.insert(
                decl.name.name.clone(),
                Field {
                    ty,
                    optional: decl.optional,
                },
            );
        }
        fields
    }

    fn expr(&mut self, e: &ast::TypeExpr) -> Ty {
        Ty::union(e.members.iter().map(|m| {
            let ty = self.atom(m);
            if m.nullable {
                ty.or(Ty::Null)
            } else {
                ty
            }
        }))
    }

    fn atom(&mut self, atom: &ast::TypeAtom) -> Ty {
        match &atom.kind {
            ast::TypeAtomKind::List(inner) => Ty::List(Box::new(self.expr(inner))),
            ast::TypeAtomKind::Literal(s) => Ty::Lits(vec![Str::from(s.as_str())]),
            ast::TypeAtomKind::Named(ident) => self.named(ident),
        }
    }

    fn named(&mut self, ident: &ast::Ident) -> Ty {
        match &*ident.name {
            "string" => return Ty::Str,
            "number" => return Ty::Number,
            "int" => return Ty::Int,
            "bool" => return Ty::Bool,
            "date" => return Ty::Date,
            "datetime" => return Ty::DateTime,
            "duration" => return Ty::Duration,
            "any" => return Ty::Any,
            "null" => return Ty::Null,
            _ => {}
        }
        if let Some(id) = self.record_ids.get(&ident.name) {
            return Ty::Record(*id);
        }
        let Some(decl) = self.types.get(&ident.name) else {
            let known = BUILTIN_TYPES
                .iter()
                .copied()
                .chain(self.types.keys().map(|k| &**k));
            let help = did_you_mean(&ident.name, known);
            self.diagnostics.push(
                Diagnostic::error(
                    "E0400",
                    ident.span,
                    format!("unknown type `{}`", ident.name),
                )
                .with_label("not a built-in or declared type")
                .with_help(match help {
                    Some(h) => format!("did you mean `{h}`?"),
                    None => format!(
                        "the built-in types are {}; declare others with `type`",
                        BUILTIN_TYPES.join(", ")
                    ),
                }),
            );
            return Ty::Any;
        };
        let ast::TypeBody::Alias(expr) = &decl.body else {
            return Ty::Any;
        };
        if let Some(ty) = self.aliases.get(&ident.name) {
            return ty.clone();
        }
        if !self.resolving.insert(ident.name.clone()) {
            self.diagnostics.push(
                Diagnostic::error(
                    "E0402",
                    ident.span,
                    format!("type `{}` is defined in terms of itself", ident.name),
                )
                .with_label("refers back to itself")
                .with_help("an alias must end in a built-in type, a literal or a record"),
            );
            self.aliases.insert(ident.name.clone(), Ty::Any);
            return Ty::Any;
        }
        let ty = self.expr(expr);
        self.resolving.remove(&ident.name);
        self.aliases.insert(ident.name.clone(), ty.clone());
        ty
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lits(ls: &[&str]) -> Ty {
        Ty::Lits(ls.iter().map(|l| Str::from(*l)).collect())
    }

    #[test]
    fn unions_are_flat_and_absorb_narrower_members() {
        assert_eq!(lits(&["a"]).or(lits(&["b", "a"])), lits(&["a", "b"]));
        assert_eq!(lits(&["a"]).or(Ty::Str), Ty::Str);
        assert_eq!(Ty::Int.or(Ty::Number), Ty::Number);
        assert_eq!(Ty::Date.or(Ty::Any), Ty::Any);
        let nullable = Ty::Date.or(Ty::Null);
        assert!(nullable.is_nullable());
        assert_eq!(nullable.non_null(), Ty::Date);
        assert_eq!(Ty::union([nullable.clone(), Ty::Null]), nullable);
    }

    fn schema_of(text: &str) -> (Option<Schema>, Vec<Diagnostic>) {
        let mut sources = crate::source::SourceMap::default();
        let id = sources.add("s.edict".to_string(), text.to_string());
        let file = crate::syntax::parse(&sources, id).unwrap();
        let mut diags = Vec::new();
        let schema = build(file.decls.iter(), &mut diags);
        (schema, diags)
    }

    #[test]
    fn builds_records_aliases_and_optional_fields() {
        let (schema, diags) = schema_of(
            "facts { xs: [X]  n?: int }\ntype X { s: Sev  d?: date? }\ntype Sev = \"lo\" | \"hi\"",
        );
        assert!(diags.is_empty(), "{diags:?}");
        let schema = schema.unwrap();
        let xs = &schema.facts.fields["xs"];
        assert_eq!(xs.ty, Ty::List(Box::new(Ty::Record(0))));
        assert!(schema.facts.fields["n"].optional);
        let x = &schema.records[0];
        assert_eq!(x.fields["s"].ty, lits(&["lo", "hi"]));
        assert_eq!(x.fields["d"].read_ty(), Ty::Date.or(Ty::Null));
        assert_eq!(
            Shown(&x.fields["s"].ty, &schema).to_string(),
            "\"lo\" | \"hi\""
        );
    }

    #[test]
    fn no_facts_block_means_no_schema() {
        let (schema, diags) = schema_of("type X { a: string }");
        assert!(schema.is_none() && diags.is_empty());
    }

    #[test]
    fn reports_unknown_types_duplicates_and_cycles() {
        let (_, diags) = schema_of(
            "facts { a: Strng  a: int  b: Loop }\ntype Loop = [Loop2]\ntype Loop2 = Loop",
        );
        let mut diags = diags;
        diags.sort_by_key(|d| d.span.start);
        let codes: Vec<&str> = diags.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["E0400", "E0401", "E0402"], "{diags:?}");
        assert_eq!(diags[0].help.as_deref(), Some("did you mean `string`?"));
    }
}
