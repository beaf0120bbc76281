//! The terminal's commands: one module per subcommand, each with an `Args`
//! (its doc comments are the `--help`) and a `run`, and the context they
//! run in. [`crate::cli`] parses the command line and dispatches here.

pub(crate) mod adjust;
pub(crate) mod completions;
pub(crate) mod count;
pub(crate) mod exceptions;
pub(crate) mod feed;
pub(crate) mod floor;
pub(crate) mod init;
pub(crate) mod journal;
pub(crate) mod man;
pub(crate) mod movement;
pub(crate) mod order;
pub(crate) mod pick;
pub(crate) mod putaway;
pub(crate) mod receive;
pub(crate) mod scan;
pub mod session;
pub(crate) mod status;
pub(crate) mod stock;
pub(crate) mod sync;

pub mod record;

use crate::config::{Config, Paths};
use crate::store::Store;

/// pyck — warehouse terminal with local-first sync.
///
/// Every operation is committed to a local journal first; `pyck sync` sends
/// the journal to the server when the network is there.
pub struct Ctx {
    pub paths: Paths,
}

impl Ctx {
    /// The terminal's own store, checked against the config
    /// (`store::identity`).
    pub fn store(&self) -> anyhow::Result<Store> {
        crate::store::identity::open(&self.paths)
    }

    pub fn config(&self) -> anyhow::Result<Config> {
        Config::require(&self.paths)
    }
}

/// A current-thread runtime for the commands that talk to the server.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}
