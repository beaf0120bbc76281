//! The command line: what `pyck` parses and where each command goes. Above
//! both the commands and the scanner UI (`pyck tui`, `pyck demo`), which
//! record through the commands' own checks.

#[cfg(feature = "demo")]
mod demo;

use std::io::IsTerminal;

use clap::{CommandFactory, Parser, Subcommand};

use crate::commands::{
    Ctx, adjust, completions, count, exceptions, feed, floor, init, journal, man, movement, order,
    pick, putaway, receive, scan, session, status, stock, sync,
};
use crate::config::Paths;
use crate::error::CliError;

#[derive(Debug, Parser)]
#[command(name = "pyck", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Register this device with a server and pull its warehouse
    Init(init::Args),
    /// Log an operator in (badge + PIN; works offline)
    Login(session::LoginArgs),
    /// Log the operator out
    Logout(session::JsonArgs),
    /// Show the logged-in operator
    Whoami(session::JsonArgs),
    /// Device, server, operator, backlog and last sync
    Status(status::Args),
    /// Push pending operations, then pull changes
    Sync(sync::Args),
    /// The local journal, oldest first
    Journal(journal::Args),
    /// Record receipts against an ASN (or close one)
    Receive(receive::Args),
    /// Record stock moves (a putaway is a move out of a dock location)
    #[command(name = "move")]
    Move(movement::Args),
    /// Open putaway tasks
    Putaway(putaway::Args),
    /// Pick tasks: list them, confirm picks and short picks
    Pick(pick::Args),
    /// Record a counted quantity (blind), or list count tasks
    Count(count::Args),
    /// Set the quantity at a location, with a reason (supervisors)
    Adjust(adjust::Args),
    /// Record that an order was packed
    Pack(order::Args),
    /// Record that an order was shipped
    Ship(order::Args),
    /// Exceptions of this warehouse; resolve one with a note
    Exceptions(exceptions::Args),
    /// Live events of this warehouse, one per line, until interrupted
    Feed(feed::Args),
    /// The supervisor's live dashboard of the floor (supervisors)
    Floor(floor::Args),
    /// Stock as this device sees it: the server's plus pending operations
    Stock(stock::Args),
    /// What a scanned code means
    Scan(scan::Args),
    /// The scanner UI (also plain `pyck` on a terminal)
    Tui,
    /// Shell completions
    Completions(completions::Args),
    /// Manual pages (roff): this one, a command's, or all into a directory
    Man(man::Args),
    /// A short scripted shift on the demo warehouse, with nothing to set up
    #[cfg(feature = "demo")]
    Demo(demo::Args),
}

/// What every command gets.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let command = match cli.command {
        Some(command) => command,
        // On a terminal, plain `pyck` is the scanner UI; in a script it is
        // a usage error, as before.
        None if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() => Command::Tui,
        None => {
            return Err(CliError::Usage(
                "no command given; `pyck --help` lists them (`pyck tui` opens the scanner UI)"
                    .into(),
            )
            .into());
        }
    };
    #[cfg(feature = "demo")]
    if let Command::Demo(args) = command {
        return demo::run(args);
    }
    let ctx = Ctx {
        paths: Paths::resolve()?,
    };
    run_command(&ctx, command)
        .map_err(|e| crate::error::explain_storage_failure(e, &ctx.paths.store_file()))
}

/// Runs one command in a given context (the demo runs several in its own).
pub fn run_command(ctx: &Ctx, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Init(a) => init::run(ctx, a),
        Command::Login(a) => session::login(ctx, a),
        Command::Logout(a) => session::logout(ctx, a),
        Command::Whoami(a) => session::whoami(ctx, a),
        Command::Status(a) => status::run(ctx, a),
        Command::Sync(a) => sync::run(ctx, a),
        Command::Journal(a) => journal::run(ctx, a),
        Command::Receive(a) => receive::run(ctx, a),
        Command::Move(a) => movement::run(ctx, a),
        Command::Putaway(a) => putaway::run(ctx, a),
        Command::Pick(a) => pick::run(ctx, a),
        Command::Count(a) => count::run(ctx, a),
        Command::Adjust(a) => adjust::run(ctx, a),
        Command::Pack(a) => order::run(ctx, a, pyck_vocab::operation::Kind::Pack),
        Command::Ship(a) => order::run(ctx, a, pyck_vocab::operation::Kind::Ship),
        Command::Exceptions(a) => exceptions::run(ctx, a),
        Command::Feed(a) => feed::run(ctx, a),
        Command::Floor(a) => floor::run(ctx, a),
        Command::Stock(a) => stock::run(ctx, a),
        Command::Scan(a) => scan::run(ctx, a),
        Command::Tui => crate::tui::run(ctx),
        Command::Completions(a) => completions::run(a, Cli::command()),
        Command::Man(a) => man::run(a, Cli::command()),
        #[cfg(feature = "demo")]
        Command::Demo(args) => demo::run(args),
    }
}
