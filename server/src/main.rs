//! `pyck-server`: the command line of the sync server. Only this file maps
//! errors to exit codes (documented in docs/SCRIPTING.md).

use std::process::ExitCode;

use clap::Parser;
use pyck_server::commands::{self, Cli};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let telemetry = match pyck_server::telemetry::init(cli.log_format, cli.otlp.as_deref()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: --otlp: {e:#}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(commands::run(cli));
    drop(runtime);
    telemetry.shutdown();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(commands::exit_code(&err))
        }
    }
}
