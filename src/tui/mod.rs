//! `pyck tui`: the scanner UI. Model ([`app`]) → pure update ([`update`])
//! returning effects → view ([`view`]); only [`event_loop`] touches the
//! terminal, the journal, the network and the bell. docs/TUI.md describes
//! the screens and keys.

pub mod app;
pub mod enrol;
pub mod event_loop;
pub mod keys;
pub mod lookup;
pub mod update;
pub mod view;

#[cfg(test)]
pub(crate) mod testing;

pub use event_loop::run_with;

/// The scanner UI: on a terminal never registered, first the enrolment
/// screen ([`enrol`]), then the login screen.
pub fn run(ctx: &crate::commands::Ctx) -> anyhow::Result<()> {
    let hint = enrol::first_screen(ctx)?;
    run_with(ctx, hint)
}
