//! `pyck-server backup FILE`: a consistent copy of the SQLite database,
//! taken while the server runs (docs/OPERATIONS.md, "Backups").

use std::path::PathBuf;

use crate::storage::Storage;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The backup file to write (must not exist yet)
    file: PathBuf,
    /// Print JSON: {"file","pages","bytes","schema_version"}
    #[arg(long)]
    json: bool,
}

pub async fn run(store: &dyn Storage, args: Args) -> anyhow::Result<()> {
    let summary = store.backup(&args.file).await?;
    if args.json {
        let mut v = serde_json::to_value(&summary)?;
        v["file"] = args.file.display().to_string().into();
        println!("{v}");
    } else {
        println!(
            "backed up {} bytes ({} pages, schema version {}) to {}",
            summary.bytes,
            summary.pages,
            summary.schema_version,
            args.file.display()
        );
    }
    Ok(())
}
