//! `pyck floor`: the supervisor's live dashboard of one warehouse. Same
//! shape as the scanner UI: state ([`app`]) → pure update ([`update`])
//! returning effects → view ([`view`]); only [`event_loop`] touches the
//! terminal, the journal and the network. docs/FLOOR.md describes it.

pub mod app;
pub mod event_loop;
pub mod update;
pub mod view;

#[cfg(test)]
pub(crate) mod testing;

pub use event_loop::run;
