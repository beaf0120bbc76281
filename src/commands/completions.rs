//! `pyck completions SHELL`: generated from the clap definitions.

#[derive(Debug, clap::Args)]
pub struct Args {
    /// bash, zsh, fish, elvish or powershell
    shell: clap_complete::Shell,
}

/// Completions of `cmd`, the whole command line's definition.
pub fn run(args: Args, mut cmd: clap::Command) -> anyhow::Result<()> {
    clap_complete::generate(args.shell, &mut cmd, "pyck", &mut std::io::stdout());
    Ok(())
}
