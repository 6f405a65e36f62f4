//! Progress for long steps: a spinner per step on a terminal, all of them in one
//! `MultiProgress` so that images building at the same time each keep their own line; a plain
//! line otherwise (CI logs); nothing extra with `--verbose` (the commands' own output is shown
//! instead).

use std::{sync::LazyLock, time::Duration};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::process;

static BARS: LazyLock<MultiProgress> = LazyLock::new(MultiProgress::new);

pub fn spinner(message: impl Into<String>) -> ProgressBar {
    let message = message.into();
    if BARS.is_hidden() || process::verbose() {
        eprintln!("  {message}…");
        return ProgressBar::hidden();
    }
    let bar = BARS.add(ProgressBar::new_spinner());
    bar.set_style(
        ProgressStyle::with_template("  {spinner} {prefix} {elapsed:>4} {wide_msg}").unwrap().tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ "),
    );
    bar.set_prefix(message);
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// A line on stderr, above the spinners that are running (which a plain `eprintln!` would
/// break into).
pub fn println(line: impl AsRef<str>) {
    BARS.suspend(|| eprintln!("{}", line.as_ref()));
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
