//! What the long-running commands share: a progress bar on stderr (hidden when stderr is not a
//! terminal), Ctrl-C as a request to stop after the current step, and number formatting.

use indicatif::{ProgressBar, ProgressState, ProgressStyle};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A progress bar over `len` steps.
pub fn bar(len: u64) -> ProgressBar {
    let bar = ProgressBar::new(len);
    let template = "{elapsed_precise} {wide_bar:.cyan/blue} {pos}/{len} · {rate} {msg} eta {eta}";
    let style = ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{} steps/s", num(s.per_sec().round()));
        })
        .progress_chars("━╸─");
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

static STOP: AtomicBool = AtomicBool::new(false);

/// Makes Ctrl-C ask the running command to stop after its current step; a second Ctrl-C ends the
/// process at once.
pub fn stop_on_ctrl_c() {
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    });
}

/// Whether Ctrl-C was pressed.
pub fn stop_requested() -> bool {
    STOP.load(Ordering::Relaxed)
}

/// A number for people: four significant digits, scientific when small or large.
pub fn num(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 || !v.is_finite() {
        format!("{v}")
    } else if (1e-3..1e5).contains(&a) {
        let decimals = (3 - a.log10().floor() as i32).clamp(0, 6) as usize;
        let s = format!("{v:.decimals$}");
        if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
    } else {
        let s = format!("{v:.3e}");
        match s.split_once('e') {
            Some((m, e)) if m.contains('.') => format!("{}e{e}", m.trim_end_matches('0').trim_end_matches('.')),
            _ => s,
        }
    }
}

/// A CSV cell: the shortest text that reads back as the same value — as an f32 when the value
/// is one (most fetched tensors are float32), else as an f64.
pub fn cell(v: f64) -> String {
    let single = v as f32;
    if f64::from(single) == v { format!("{single}") } else { format!("{v}") }
}
