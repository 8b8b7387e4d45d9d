//! Equality joins answered from a hash index: `for e in register where
//! e.asset == asset.id …` visits only the elements whose key matches, built
//! once per evaluation, instead of scanning the register for every subject.
//!
//! The index is used only where it is exactly equivalent to the scan. The
//! filter's leftmost `and` operand must be `x.field == probe` (either way
//! round) with `probe` not reading `x`; every element must be an object whose
//! `field` is a string; the probe must evaluate without error to a string.
//! Then, for an element whose key differs, the scan's filter is `false`
//! without evaluating anything that could fail, so skipping it changes
//! nothing. In every other case the caller scans as before.

use std::collections::HashMap;
use std::sync::Arc;

use super::value::{Str, Value};
use super::Machine;
use crate::ir::{Expr, ExprKind, Loop};
use crate::syntax::ast::BinOp;

/// Lists shorter than this are scanned: an index would not pay.
const MIN_INDEXED_LEN: usize = 8;

/// One built index: element positions by key, for one list.
pub(crate) struct JoinIndex {
    list: Arc<Vec<Value>>,
    by_key: Option<HashMap<Str, Vec<usize>>>,
}

/// The parts of a filter that make it a join.
struct Join<'p> {
    field: &'p str,
    probe: &'p Expr,
}

/// The leftmost operand of a chain of `and`s.
fn leftmost_conjunct(e: &Expr) -> &Expr {
    match &e.kind {
        ExprKind::Binary {
            op: BinOp::And,
            lhs,
            ..
        } => leftmost_conjunct(lhs),
        _ => e,
    }
}

/// Whether an expression reads a slot.
fn reads_slot(e: &Expr, slot: usize) -> bool {
    let mut reads = false;
    e.visit(&mut |x| reads |= matches!(x.kind, ExprKind::Local(s) if s == slot));
    reads
}

/// `x.field` for the loop's own slot.
fn own_field(e: &Expr, slot: usize) -> Option<&str> {
    match &e.kind {
        ExprKind::Field { target, name, .. } => match target.kind {
            ExprKind::Local(s) if s == slot => Some(name),
            _ => None,
        },
        _ => None,
    }
}

/// Whether a loop's collection is the same value for every subject: it reads
/// no local, so an index built once serves the whole evaluation.
fn source_is_global(e: &Expr) -> bool {
    let mut global = true;
    e.visit(&mut |x| global &= !matches!(x.kind, ExprKind::Local(_)));
    global
}

fn join(l: &Loop) -> Option<Join<'_>> {
    let filter = l.filter.as_ref()?;
    if !source_is_global(&l.source) {
        return None;
    }
    let ExprKind::Binary {
        op: BinOp::Eq,
        lhs,
        rhs,
    } = &leftmost_conjunct(filter).kind
    else {
        return None;
    };
    if let Some(field) = own_field(lhs, l.slot) {
        if !reads_slot(rhs, l.slot) {
            return Some(Join { field, probe: rhs });
        }
    }
    if let Some(field) = own_field(rhs, l.slot) {
        if !reads_slot(lhs, l.slot) {
            return Some(Join { field, probe: lhs });
        }
    }
    None
}

fn build(items: &[Value], field: &str) -> Option<HashMap<Str, Vec<usize>>> {
    let mut by_key: HashMap<Str, Vec<usize>> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        match item.get(field)? {
            Value::Str(k) => by_key.entry(k.clone()).or_default().push(i),
            _ => return None,
        }
    }
    Some(by_key)
}

impl<'p> Machine<'p> {
    /// The positions of `items` a loop must visit, in order, when an index
    /// can answer its filter exactly; `None` to scan every element.
    pub(crate) fn join_candidates(
        &mut self,
        l: &'p Loop,
        items: &Arc<Vec<Value>>,
    ) -> Option<Vec<usize>> {
        if items.len() < MIN_INDEXED_LEN {
            return None;
        }
        let j = join(l)?;
        let key = l as *const Loop as usize;
        let stale = self
            .joins
            .get(&key)
            .is_none_or(|ix| !Arc::ptr_eq(&ix.list, items));
        if stale {
            let by_key = build(items, j.field);
            self.joins.insert(
                key,
                JoinIndex {
                    list: items.clone(),
                    by_key,
                },
            );
        }
        // An unindexable list is scanned without evaluating the probe.
        self.joins.get(&key)?.by_key.as_ref()?;
        let Ok(Value::Str(probe)) = self.eval(j.probe) else {
            return None;
        };
        let ix = self.joins.get(&key)?.by_key.as_ref()?;
        Some(ix.get(&probe).cloned().unwrap_or_default())
    }
}
