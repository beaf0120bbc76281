//! `pyck-server man` and `pyck-server completions`: generated from the
//! clap definitions, with no database touched.

use std::path::PathBuf;

use clap::CommandFactory;

use super::{Cli, InvalidInput};

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write every page (pyck-server.1, pyck-server-serve.1, …) into this directory
    #[arg(long, value_name = "DIR", conflicts_with = "command")]
    dir: Option<PathBuf>,
    /// The command whose page to print, e.g. `user create`
    command: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, elvish or powershell
    shell: clap_complete::Shell,
}

pub fn man(args: ManArgs) -> anyhow::Result<()> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    if let Some(dir) = args.dir {
        std::fs::create_dir_all(&dir)?;
        clap_mangen::generate_to(cmd, &dir)?;
        println!("wrote the manual pages to {}", dir.display());
        return Ok(());
    }
    let mut page = cmd;
    for name in &args.command {
        page = page.find_subcommand(name).cloned().ok_or_else(|| {
            InvalidInput(format!(
                "no command `{}` (see `pyck-server --help`)",
                args.command.join(" ")
            ))
        })?;
    }
    clap_mangen::Man::new(page).render(&mut std::io::stdout())?;
    Ok(())
}

pub fn completions(args: CompletionsArgs) -> anyhow::Result<()> {
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "pyck-server", &mut std::io::stdout());
    Ok(())
}
