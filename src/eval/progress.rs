//! How far an evaluation has got, for a progress display on another thread.

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// Records a worker counts before publishing them: a shared counter bumped
/// once per record would bounce between cores.
pub(crate) const PUBLISH_EVERY: usize = 256;

/// Counters an evaluation keeps up to date as it runs; any thread may read them.
#[derive(Debug, Default)]
pub struct Progress {
    /// One more than the index of the rule being evaluated; 0 before the first.
    rule: AtomicUsize,
    /// Records of that rule's first `for` evaluated so far.
    done: AtomicUsize,
    /// How many records that `for` has; 0 until known.
    total: AtomicUsize,
}

/// What a [`Progress`] says at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgressSnapshot {
    /// The rule being evaluated, by its index in the program.
    pub rule: usize,
    /// Records of its first `for` evaluated so far.
    pub done: usize,
    /// How many records that `for` has; 0 until known.
    pub total: usize,
}

impl Progress {
    /// The current rule and its records, once a rule has started.
    pub fn snapshot(&self) -> Option<ProgressSnapshot> {
        let rule = self.rule.load(Relaxed).checked_sub(1)?;
        Some(ProgressSnapshot {
            rule,
            done: self.done.load(Relaxed),
            total: self.total.load(Relaxed),
        })
    }

    /// A rule starts: nothing of it is done yet.
    pub(crate) fn start_rule(&self, rule: usize) {
        self.total.store(0, Relaxed);
        self.done.store(0, Relaxed);
        self.rule.store(rule + 1, Relaxed);
    }

    /// The current rule's first `for` has `total` records.
    pub(crate) fn set_total(&self, total: usize) {
        self.total.store(total, Relaxed);
    }

    /// `n` more records of the current rule are evaluated.
    pub(crate) fn add(&self, n: usize) {
        self.done.fetch_add(n, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{EvalOptions, Facts, PolicySet};

    #[test]
    fn every_record_of_a_rules_first_for_is_counted_on_any_thread_count() {
        let set = PolicySet::from_sources([(
            "p.edict".to_string(),
            "rule a {\n  for x in xs\n  require x.ok\n}\n\
             rule b {\n  for y in ys\n  for z in y.zs\n  require z\n}\n"
                .to_string(),
        )])
        .map_err(|f| f.diagnostics)
        .unwrap();
        let xs: Vec<String> = (0..1000)
            .map(|i| format!("{{\"ok\": {}}}", i % 3 == 0))
            .collect();
        let ys: Vec<&str> = vec![r#"{"zs": [true, false]}"#; 777];
        let facts = Facts::from_json_str(&format!(
            r#"{{"xs": [{}], "ys": [{}]}}"#,
            xs.join(","),
            ys.join(",")
        ))
        .unwrap();
        for threads in [1, 2, 3] {
            for (rule, index, records) in [("a", 0, 1000), ("b", 1, 777)] {
                let progress = Arc::new(Progress::default());
                let options = EvalOptions {
                    threads,
                    rules: Some(vec![rule.to_string()]),
                    progress: Some(progress.clone()),
                    ..EvalOptions::default()
                };
                assert_eq!(progress.snapshot(), None, "nothing started");
                set.evaluate(&facts, &options);
                assert_eq!(
                    progress.snapshot(),
                    Some(ProgressSnapshot {
                        rule: index,
                        done: records,
                        total: records,
                    }),
                    "rule {rule} on {threads} threads"
                );
            }
        }
    }
}
