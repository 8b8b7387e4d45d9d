//! Parallel evaluation: a rule's first `for` is split into contiguous chunks,
//! each walked by its own [`Machine`] on its own thread; results are joined in
//! chunk order, so the report is the same at any thread count.

use super::facts::Facts;
use super::outcome::RuleResult;
use super::rule::Registers;
use super::{EvalOptions, Machine};
use crate::ir::{Program, RuleDef, Step};

/// Fewer elements than this per thread are not worth a thread.
const MIN_PER_THREAD: usize = 2;

/// Evaluates a rule on `options.threads` threads; `None` when it is better
/// (or only possible) to run it on the calling machine.
pub(crate) fn run_rule<'p>(
    program: &'p Program,
    facts: &Facts,
    options: &EvalOptions,
    m: &mut Machine<'p>,
    rule: &'p RuleDef,
    registers: &mut Registers,
) -> Option<RuleResult> {
    if options.threads < 2 {
        return None;
    }
    let Some(Step::For(first)) = rule.steps.first() else {
        return None;
    };
    m.stack.clear();
    m.origins.clear();
    m.base = 0;
    m.steps = 0;
    let len = m.list(&first.source).ok()?.len();
    let threads = options.threads.min(len / MIN_PER_THREAD);
    if threads < 2 {
        return None;
    }
    if let Some(progress) = &options.progress {
        progress.set_total(len);
    }
    let per = len.div_ceil(threads);
    let parts: Vec<Option<(RuleResult, Registers)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let range = (t * per).min(len)..((t + 1) * per).min(len);
                s.spawn(move || {
                    let mut w = Machine::new(program, facts, options.now);
                    w.max_steps = options.max_steps;
                    w.limits = options.limits;
                    w.first_range = Some(range);
                    w.progress = options.progress.clone();
                    let mut regs = Registers::default();
                    let result = w.run_rule(rule, &mut regs);
                    (result, regs)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().ok()).collect()
    });
    let parts: Vec<(RuleResult, Registers)> = parts.into_iter().collect::<Option<_>>()?;
    let mut merged: Option<RuleResult> = None;
    for (result, regs) in parts {
        for (key, mut subjects) in regs.used {
            registers.used.entry(key).or_default().append(&mut subjects);
        }
        registers.considered.extend(regs.considered);
        for (waiver, at) in regs.global_uses {
            registers.global_uses.entry(waiver).or_insert(at);
        }
        match &mut merged {
            None => merged = Some(result),
            Some(all) => all.subjects.extend(result.subjects),
        }
    }
    merged
}
