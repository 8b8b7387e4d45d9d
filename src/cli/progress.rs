//! The progress line of a batch run on stderr: loading the facts, then each
//! rule's records, their rate and an ETA. Shown only on a terminal, never
//! with `--quiet`, and only once the run has taken a second.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::eval::progress::{Progress, ProgressSnapshot};

/// How long a run goes before its progress is shown.
const SHOW_AFTER: Duration = Duration::from_secs(1);
/// How often the line is redrawn.
const REDRAW_EVERY: Duration = Duration::from_millis(200);

/// A batch run's progress line, drawn by its own thread until [`Bar::finish`].
pub(super) struct Bar {
    progress: Arc<Progress>,
    stop: Arc<AtomicBool>,
    drawer: Option<std::thread::JoinHandle<()>>,
}

impl Bar {
    /// Starts drawing when `shown`; `rules` names the program's rules by index.
    pub(super) fn start(shown: bool, rules: Vec<String>) -> Bar {
        let progress = Arc::new(Progress::default());
        let stop = Arc::new(AtomicBool::new(false));
        // A thread that cannot start costs the display, not the run.
        let drawer = shown
            .then(|| {
                let (progress, stop) = (progress.clone(), stop.clone());
                std::thread::Builder::new()
                    .spawn(move || draw(&progress, &stop, &rules))
                    .ok()
            })
            .flatten();
        Bar {
            progress,
            stop,
            drawer,
        }
    }

    /// The counters for the evaluation to keep, when the line is drawn.
    pub(super) fn progress(&self) -> Option<Arc<Progress>> {
        self.drawer.as_ref().map(|_| self.progress.clone())
    }

    /// Stops drawing and clears the line, before anything else is written.
    pub(super) fn finish(mut self) {
        self.stop_drawing();
    }

    fn stop_drawing(&mut self) {
        self.stop.store(true, Relaxed);
        if let Some(drawer) = self.drawer.take() {
            // Woken from its wait, so a short run does not wait out a redraw.
            drawer.thread().unpark();
            let _ = drawer.join();
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.stop_drawing();
    }
}

/// Redraws the line until told to stop, then clears it if it was shown.
fn draw(progress: &Progress, stop: &AtomicBool, rules: &[String]) {
    let start = Instant::now();
    let mut shown = false;
    // The current rule's first sight: when, and how many records were done.
    let mut rule_seen: Option<(usize, Instant, usize)> = None;
    let mut next = start + REDRAW_EVERY;
    while !stop.load(Relaxed) {
        // Parked until the next redraw, or until `finish` unparks it (a
        // wake-up without either is just a shorter wait).
        let now = Instant::now();
        if now < next {
            std::thread::park_timeout(next - now);
            continue;
        }
        next = now + REDRAW_EVERY;
        let snapshot = progress.snapshot();
        if let Some(s) = snapshot {
            if rule_seen.is_none_or(|(rule, _, _)| rule != s.rule) {
                rule_seen = Some((s.rule, now, s.done));
            }
        }
        if now.duration_since(start) < SHOW_AFTER || stop.load(Relaxed) {
            continue;
        }
        let rate = rule_seen.and_then(|(_, since, done)| {
            let secs = now.duration_since(since).as_secs_f64();
            let done = snapshot?.done.checked_sub(done)?;
            (secs > 0.0 && done > 0).then(|| done as f64 / secs)
        });
        err_text!("\r\x1b[K{}", line(snapshot, rules, rate));
        shown = true;
    }
    if shown {
        err_text!("\r\x1b[K");
    }
}

/// The progress line: the facts loading, or the rule being evaluated with
/// its records done, their rate (records a second) and the time left.
fn line(snapshot: Option<ProgressSnapshot>, rules: &[String], rate: Option<f64>) -> String {
    let Some(s) = snapshot else {
        return "loading facts…".to_string();
    };
    let rule = rules.get(s.rule).map_or("?", String::as_str);
    if s.total == 0 {
        return format!("{rule}: evaluating…");
    }
    let mut text = format!("{rule}: {} of {} records", s.done, s.total);
    if let Some(rate) = rate {
        let left = s.total.saturating_sub(s.done) as f64 / rate;
        text.push_str(&format!(", {rate:.0}/s, ETA {left:.0}s"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_names_the_phase_the_rule_its_records_rate_and_eta() {
        let rules = vec!["patch_sla".to_string(), "kev_deadline".to_string()];
        let at = |rule, done, total| Some(ProgressSnapshot { rule, done, total });
        assert_eq!(line(None, &rules, None), "loading facts…");
        assert_eq!(line(at(1, 0, 0), &rules, None), "kev_deadline: evaluating…");
        assert_eq!(
            line(at(0, 2_000, 10_000), &rules, None),
            "patch_sla: 2000 of 10000 records"
        );
        assert_eq!(
            line(at(0, 2_000, 10_000), &rules, Some(4_000.0)),
            "patch_sla: 2000 of 10000 records, 4000/s, ETA 2s"
        );
    }

    #[test]
    fn finishing_does_not_wait_out_a_redraw() {
        // A run shorter than a redraw used to end only when the drawer's
        // sleep did: every run on a terminal took at least 200 ms.
        let started = Instant::now();
        let bar = Bar::start(true, Vec::new());
        assert!(bar.progress().is_some());
        // Long enough for the drawer to be waiting for its first redraw.
        std::thread::sleep(Duration::from_millis(20));
        bar.finish();
        assert!(
            started.elapsed() < REDRAW_EVERY,
            "finish took {:?}",
            started.elapsed()
        );
    }

    #[test]
    fn nothing_is_counted_or_drawn_off_a_terminal() {
        let bar = Bar::start(false, Vec::new());
        assert!(bar.progress().is_none());
        bar.finish();
    }
}
