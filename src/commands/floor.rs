//! `pyck floor`: the supervisor's live dashboard (docs/FLOOR.md).

use super::Ctx;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Hours of the shift charted in "picks per hour" (the current hour and
    /// the ones before it), 1 to 24
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=24))]
    shift_hours: u32,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    crate::floor::run(ctx, args.shift_hours)
}
