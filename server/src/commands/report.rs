//! `pyck-server report KIND`: supervisors' reports (docs/REPORTS.md),
//! computed from the operations, the ledger and the workflow history.

use crate::reports::{self, Kind, Report, cycle_time};
use crate::storage::{ReportScope, Storage};

use super::InvalidInput;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Which report
    #[arg(value_enum)]
    kind: Kind,
    /// Tenant name
    #[arg(long)]
    tenant: String,
    /// Only this warehouse (its code)
    #[arg(long)]
    warehouse: Option<String>,
    /// First day included, YYYY-MM-DD (UTC)
    #[arg(long)]
    from: Option<String>,
    /// First day no longer included, YYYY-MM-DD (UTC)
    #[arg(long)]
    to: Option<String>,
    /// Print a JSON array of row objects (docs/SCRIPTING.md)
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// Print CSV with a header row
    #[arg(long)]
    csv: bool,
}

pub async fn run(store: &dyn Storage, args: Args) -> anyhow::Result<()> {
    let day = |field: &str, v: &Option<String>| {
        v.as_deref()
            .map(|v| reports::parse_day(field, v).map_err(InvalidInput))
            .transpose()
    };
    let from = day("--from", &args.from)?;
    let to = day("--to", &args.to)?;
    if let (Some(f), Some(t)) = (from, to)
        && f >= t
    {
        return Err(InvalidInput("--to: must be a later day than --from".into()).into());
    }
    let tenant = store.tenant(&args.tenant).await?;
    let warehouse = match &args.warehouse {
        Some(code) => Some(store.warehouse(tenant.id, code).await?.id),
        None => None,
    };
    let scope = ReportScope {
        warehouse,
        from,
        to,
    };
    let facts = store.report_facts(tenant.id, &scope).await?;
    let report = reports::compute(args.kind, &facts, &scope);
    if args.json {
        println!("{}", report.to_json()?);
    } else if args.csv {
        print!("{}", report.to_csv());
    } else {
        print!("{}", report.to_text());
        if let Report::CycleTime(rows) = &report {
            let s = cycle_time::summary(rows);
            let secs = |v: Option<i64>| v.map_or("-".to_owned(), |v| format!("{v} s"));
            println!(
                "{} shipped; median {}, p90 {}",
                s.shipped,
                secs(s.median_seconds),
                secs(s.p90_seconds)
            );
        }
    }
    Ok(())
}
