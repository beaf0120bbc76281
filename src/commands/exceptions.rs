//! `pyck exceptions`: what a supervisor must look at, and resolving one
//! with a note (recorded like any operation, so it works offline).

use std::path::PathBuf;

use pyck_vocab::attachments::Target;
use pyck_vocab::operation::{Kind, Payload, ResolveException};
use pyck_vocab::records::{ExceptionRecord, ExceptionStatus};
use serde::Serialize;

use super::Ctx;
use super::record;
use crate::error::invalid;
use crate::output;
use crate::store::attachments::{self, Photo};
use crate::store::{Store, work};

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Include resolved exceptions
    #[arg(long)]
    all: bool,
    /// Print JSON
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Resolve an exception with a note (supervisors)
    Resolve {
        /// The exception's id
        id: String,
        /// What was done about it
        #[arg(long)]
        note: String,
    },
    /// Attach a photo to an exception (kept here, uploaded at the next sync)
    Attach {
        /// The exception's id
        id: String,
        /// The photo: JPEG, PNG, WebP or HEIC, at most 10 MiB
        file: PathBuf,
    },
    /// One exception and the photos kept on this device for it
    Show {
        /// The exception's id
        id: String,
    },
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    let mut store = ctx.store()?;
    match args.command {
        Some(Command::Resolve { id, note }) => {
            let operator = record::operator(&store, Kind::ResolveException)?;
            let payload = resolution(&store, id, note)?;
            let draft = record::draft(payload, &operator, None)?;
            record::record_and_report(
                &mut store,
                Kind::ResolveException,
                vec![(0, draft)],
                true,
                args.json,
            )
        }
        Some(Command::Attach { id, file }) => {
            record::operator(&store, Kind::Receive)
                .or_else(|_| record::operator(&store, Kind::ResolveException))?;
            known(&store, &id)?;
            let photo = Photo::read(&file, "FILE")?;
            let tx = store.conn_mut().transaction()?;
            attachments::add(&tx, &photo, &Target::Exception(id.clone()))?;
            tx.commit()?;
            if args.json {
                return output::json(&serde_json::json!({
                    "exception": id, "sha256": photo.sha256, "size": photo.bytes.len()
                }));
            }
            println!(
                "photo {} ({} bytes) kept for exception {id}; it is uploaded at the next sync",
                &photo.sha256[..12],
                photo.bytes.len()
            );
            Ok(())
        }
        Some(Command::Show { id }) => {
            let exception = known(&store, &id)?;
            let ops = match &exception.asn {
                Some(asn) => attachments::receipts_of(store.conn(), asn, exception.sku.as_deref())?,
                None => Vec::new(),
            };
            let photos = attachments::of_exception(store.conn(), &id, &ops)?;
            if args.json {
                #[derive(Serialize)]
                struct Shown<'a> {
                    #[serde(flatten)]
                    exception: &'a ExceptionRecord,
                    attachments: &'a [attachments::Listed],
                }
                return output::json(&Shown {
                    exception: &exception,
                    attachments: &photos,
                });
            }
            println!("{} {} ({})", exception.id, exception.kind, exception.status);
            println!("{}", exception.message);
            if photos.is_empty() {
                println!("no photos on this device");
            }
            for p in &photos {
                let state = match (p.uploaded, p.linked) {
                    (true, true) => "on the server",
                    (true, false) => "uploaded, link pending",
                    _ => "waiting for sync",
                };
                println!(
                    "photo {} {} {} bytes, {state}",
                    p.sha256, p.content_type, p.size
                );
            }
            Ok(())
        }
        None => {
            let list: Vec<_> = work::exceptions(store.conn())?
                .into_iter()
                .filter(|e| args.all || e.status != ExceptionStatus::Resolved)
                .collect();
            if args.json {
                return output::json(&list);
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|e| {
                    vec![
                        e.id.clone(),
                        e.kind.to_string(),
                        e.status.to_string(),
                        e.message.clone(),
                    ]
                })
                .collect();
            output::table(&["ID", "KIND", "STATUS", "MESSAGE"], &rows)
        }
    }
}

/// An exception known on this device, or exit 3 naming it.
fn known(store: &Store, id: &str) -> anyhow::Result<ExceptionRecord> {
    work::exceptions(store.conn())?
        .into_iter()
        .find(|e| e.id == id)
        .ok_or_else(|| invalid(format!("no exception {id} on this device (sync first)")))
}

/// A resolution of an open exception known here: what `pyck exceptions
/// resolve` and the scanner UI both record.
pub(crate) fn resolution(store: &Store, id: String, note: String) -> anyhow::Result<Payload> {
    let known = work::exceptions(store.conn())?
        .into_iter()
        .find(|e| e.id == id);
    match known {
        None => {
            return Err(invalid(format!(
                "no exception {id} on this device (sync first)"
            )));
        }
        Some(e) if e.status == ExceptionStatus::Resolved => {
            return Err(invalid(format!("exception {id} is already resolved")));
        }
        Some(_) => {}
    }
    Ok(Payload::ResolveException(ResolveException {
        exception: id,
        note,
    }))
}
