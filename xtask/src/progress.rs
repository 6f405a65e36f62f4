//! Progress for long steps: a spinner on a terminal, a plain line otherwise (CI logs), nothing
//! extra with `--verbose` (the commands' own output is shown instead).

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::process;

pub fn spinner(message: impl Into<String>) -> ProgressBar {
    let message = message.into();
    let bar = ProgressBar::new_spinner();
    if bar.is_hidden() || process::verbose() {
        eprintln!("  {message}…");
        return ProgressBar::hidden();
    }
    bar.set_style(
        ProgressStyle::with_template("  {spinner} {prefix} {elapsed:>4} {wide_msg}").unwrap().tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ "),
    );
    bar.set_prefix(message);
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Human sizes in the units budgets use (MB = 10^6 bytes, as `docker images` prints them).
pub fn megabytes(bytes: u64) -> String {
    let mb = bytes as f64 / 1e6;
    match bytes {
        _ if mb >= 100.0 => format!("{mb:.0} MB"),
        _ if mb >= 1.0 => format!("{mb:.1} MB"),
        0..1000 => format!("{bytes} B"),
        _ => format!("{:.0} kB", bytes as f64 / 1e3),
    }
}
