//! `pyck man`: the man page, generated from the clap definitions.

use clap::CommandFactory;

pub fn run() -> anyhow::Result<()> {
    let man = clap_mangen::Man::new(super::Cli::command());
    man.render(&mut std::io::stdout())?;
    Ok(())
}
