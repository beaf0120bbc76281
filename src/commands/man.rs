//! `pyck man`: the manual pages, generated from the clap definitions: the
//! top page, one command's page, or every page into a directory (the pages
//! the top page's SEE ALSO names).

use std::path::PathBuf;

use crate::error::CliError;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write every page (pyck.1, pyck-move.1, …) into this directory
    #[arg(long, value_name = "DIR", conflicts_with = "command")]
    dir: Option<PathBuf>,
    /// The command whose page to print, e.g. `pick confirm`
    command: Vec<String>,
}

/// The pages of `cmd`, the whole command line's definition.
pub fn run(args: Args, cmd: clap::Command) -> anyhow::Result<()> {
    let mut cmd = cmd.disable_help_subcommand(true);
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
            CliError::Usage(format!(
                "no command `{}` (see `pyck --help`)",
                args.command.join(" ")
            ))
        })?;
    }
    clap_mangen::Man::new(page).render(&mut std::io::stdout())?;
    Ok(())
}
