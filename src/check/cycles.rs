//! Constants that depend on themselves and functions that recurse are
//! rejected, so every evaluation terminates.

use crate::diagnostic::Diagnostic;
use crate::ir::{ExprKind, Program};

/// Reports each cycle among constants (E0111) and functions (E0110) once.
pub fn check(program: &Program, diagnostics: &mut Vec<Diagnostic>) {
    let nc = program.consts.len();
    let bodies = program
        .consts
        .iter()
        .map(|c| &c.value)
        .chain(program.fns.iter().map(|f| &f.body));
    let edges: Vec<Vec<usize>> = bodies
        .map(|body| {
            let mut out = Vec::new();
            body.visit(&mut |e| match e.kind {
                ExprKind::Const(id) => out.push(id),
                ExprKind::Call { func, .. } => out.push(nc + func),
                _ => {}
            });
            out
        })
        .collect();
    // Iterative depth-first search; 0 = unvisited, 1 = on the stack, 2 = done.
    let mut state = vec![0u8; edges.len()];
    for start in 0..edges.len() {
        if state[start] != 0 {
            continue;
        }
        let mut stack = vec![(start, 0usize)];
        state[start] = 1;
        while let Some((node, next)) = stack.last_mut() {
            let node = *node;
            if let Some(&to) = edges[node].get(*next) {
                *next += 1;
                match state.get(to) {
                    Some(0) => {
                        state[to] = 1;
                        stack.push((to, 0));
                    }
                    Some(1) => {
                        let cycle: Vec<usize> = stack
                            .iter()
                            .map(|(n, _)| *n)
                            .skip_while(|n| *n != to)
                            .collect();
                        diagnostics.push(report(program, &cycle));
                    }
                    _ => {}
                }
            } else {
                state[node] = 2;
                stack.pop();
            }
        }
    }
}

fn report(program: &Program, cycle: &[usize]) -> Diagnostic {
    let nc = program.consts.len();
    let name = |n: usize| {
        if n < nc {
            (program.consts[n].name.to_string(), program.consts[n].span)
        } else {
            (
                program.fns[n - nc].name.to_string(),
                program.fns[n - nc].span,
            )
        }
    };
    let (first, span) = name(cycle[0]);
    let path: Vec<String> = cycle
        .iter()
        .chain(cycle.first())
        .map(|n| format!("`{}`", name(*n).0))
        .collect();
    if cycle.iter().any(|n| *n < nc) {
        Diagnostic::error(
            "E0111",
            span,
            format!("constant `{first}` depends on itself"),
        )
        .with_label("part of a cycle")
        .with_help(format!("the cycle: {}", path.join(" → ")))
    } else {
        Diagnostic::error("E0110", span, format!("function `{first}` calls itself"))
            .with_label("recursive")
            .with_help(format!(
                "functions may not recurse, so every evaluation terminates; the cycle: {}",
                path.join(" → ")
            ))
    }
}
