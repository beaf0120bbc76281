//! Progress bars for long work (first sync, large pushes), on a terminal
//! only: scripts and `--json` stay quiet.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use crate::sync::Progress;

pub struct Bar(Option<ProgressBar>);

impl Bar {
    pub fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}

fn bar(quiet: bool) -> Option<ProgressBar> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let b = ProgressBar::new_spinner();
    b.set_style(
        ProgressStyle::with_template("{spinner} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    b.enable_steady_tick(std::time::Duration::from_millis(120));
    Some(b)
}

pub fn for_pull(quiet: bool) -> Bar {
    Bar(bar(quiet))
}

pub fn for_sync(quiet: bool) -> Bar {
    Bar(bar(quiet))
}

impl Progress for Bar {
    fn pushed(&self, done: u64, total: u64) {
        if let Some(b) = &self.0 {
            b.set_message(format!("pushed {done} of {total} operations"));
        }
    }

    fn pulled(&self, done: u64) {
        if let Some(b) = &self.0 {
            b.set_message(format!("pulled {done} changes"));
        }
    }
}
