//! Where a value came from in the facts, named lazily: paths such as
//! `assets[3].findings[0].published` are built only when a message needs one.

use super::value::Value;
use super::Machine;
use crate::ir::{Expr, ExprKind};

/// How a local slot got its value.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) enum Origin<'p> {
    /// Not from a nameable place.
    #[default]
    Unknown,
    /// Element `index` of the collection `source`, evaluated in the frame at `base`.
    Element {
        /// The collection's expression.
        source: &'p Expr,
        /// The element's position.
        index: usize,
        /// The frame the collection was evaluated in.
        base: usize,
    },
    /// The value of `expr` in the frame at `base` (a `let` or an argument).
    Alias {
        /// The expression.
        expr: &'p Expr,
        /// Its frame.
        base: usize,
    },
}

impl<'p> Machine<'p> {
    /// The fact path of an expression's value, when it has one.
    pub(crate) fn path_of(&self, e: &'p Expr) -> Option<String> {
        self.path_in(e, self.base, 0)
    }

    fn path_in(&self, e: &'p Expr, base: usize, depth: usize) -> Option<String> {
        if depth > 64 {
            return None;
        }
        match &e.kind {
            ExprKind::Fact(id) => self.program.facts.get(*id).map(|k| k.to_string()),
            ExprKind::Const(id) => self.program.consts.get(*id).map(|c| c.name.to_string()),
            ExprKind::Local(slot) => match self.origins.get(base + slot).copied()? {
                Origin::Unknown => None,
                Origin::Element {
                    source,
                    index,
                    base,
                } => Some(format!(
                    "{}[{index}]",
                    self.path_in(source, base, depth + 1)?
                )),
                Origin::Alias { expr, base } => self.path_in(expr, base, depth + 1),
            },
            ExprKind::Field { target, name, .. } => {
                Some(format!("{}.{name}", self.path_in(target, base, depth + 1)?))
            }
            ExprKind::Index { target, index } => {
                let t = self.path_in(target, base, depth + 1)?;
                match &index.kind {
                    ExprKind::Value(Value::Int(i)) => Some(format!("{t}[{i}]")),
                    ExprKind::Value(Value::Str(k)) => Some(format!("{t}.{k}")),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// A name for an expression in messages: its fact path, else its source text.
    pub(crate) fn describe(&self, e: &'p Expr) -> String {
        match self.path_of(e) {
            Some(path) => path,
            None => format!("`{}`", self.program.sources.slice(e.span)),
        }
    }
}
