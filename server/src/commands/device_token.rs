//! `pyck-server device-token create|list|revoke`, and the enrolment code
//! (`create --url`): the token, the server's address and its CA's
//! fingerprint in one `pyck://enrol?…` URL a handheld scans
//! (`pyck_vocab::enrol` holds the format; docs/ADMIN.md, "Enrol the
//! handhelds").

use std::path::{Path, PathBuf};

use pyck_vocab::enrol::EnrolCode;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::auth::{new_token, token_hash};
use crate::storage::Storage;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Register a device in a warehouse; prints its token as the last line
    Create {
        /// Tenant name
        #[arg(long)]
        tenant: String,
        /// Warehouse code
        #[arg(long)]
        warehouse: String,
        /// A name to recognise the device by
        #[arg(long, default_value = "scanner")]
        name: String,
        /// The address devices reach this server at, e.g.
        /// `https://10.0.0.5:7415`: also print an enrolment code
        /// (`pyck://enrol?…`) for `pyck init --enrol` or the scanner UI's
        /// first screen. It carries the token: treat it as a secret
        #[arg(long, env = "PYCK_PUBLIC_URL", value_parser = public_url)]
        url: Option<String>,
        /// A PEM file of the CA certificate that signed the server's
        /// certificate (for an https `--url`): the code carries its SHA-256
        /// fingerprint, and the device trusts the certificate with that
        /// fingerprint the server presents. Leave it out for a certificate
        /// the devices already trust
        #[arg(long, value_name = "FILE", requires = "url")]
        ca: Option<PathBuf>,
        /// Also draw the enrolment code as a QR code, on stderr (stdout
        /// stays the token's, or the JSON's); light modules drawn as blocks,
        /// for a dark terminal
        #[arg(long, requires = "url")]
        qr: bool,
        /// Print JSON: {device, name, tenant, warehouse, token, enrol}
        /// (`enrol` is the code, null without --url)
        #[arg(long)]
        json: bool,
    },
    /// List a tenant's devices, revoked ones included
    List {
        /// Tenant name
        #[arg(long)]
        tenant: String,
        /// Print JSON: an array of {id, name, warehouse, created_at,
        /// last_contact, backlog, revoked_at}
        #[arg(long)]
        json: bool,
    },
    /// Revoke a device's token (give the token or the device id)
    Revoke {
        /// The token, or the device id printed at creation
        token: String,
    },
}

pub async fn run(store: &dyn Storage, cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Create {
            tenant,
            warehouse,
            name,
            url,
            ca,
            qr,
            json,
        } => {
            pyck_vocab::validate::name("name", &name)
                .map_err(|e| super::InvalidInput(e.to_string()))?;
            // Everything checked before the device exists.
            let ca_sha256 = match (&url, &ca) {
                (Some(url), Some(ca)) if !url.starts_with("https://") => {
                    return Err(super::InvalidInput(format!(
                        "--ca {}: only an https:// --url has certificates (got {url})",
                        ca.display()
                    ))
                    .into());
                }
                (_, Some(ca)) => Some(ca_fingerprint(ca)?),
                (_, None) => None,
            };
            let tenant = store.tenant(&tenant).await?;
            let wh = store.warehouse(tenant.id, &warehouse).await?;
            let token = new_token();
            let device = store
                .create_device(tenant.id, wh.id, &name, &token_hash(&token))
                .await?;
            let code = url.map(|server| {
                EnrolCode {
                    server,
                    token: token.clone(),
                    ca_sha256,
                }
                .to_url()
            });
            if qr && let Some(code) = &code {
                eprintln!("{}", qr_text(code)?);
            }
            // The token is shown once, here, and stored only as a hash.
            if json {
                let created = serde_json::json!({
                    "device": device, "name": name, "tenant": tenant.name,
                    "warehouse": wh.code, "token": token, "enrol": code,
                });
                println!("{created}");
            } else {
                println!("device {device} ({name}) in {}/{}", tenant.name, wh.code);
                // Before the token: the token stays the last line.
                if let Some(code) = &code {
                    println!("enrolment code: {code}");
                }
                println!("{token}");
            }
        }
        Command::List { tenant, json } => {
            let tenant = store.tenant(&tenant).await?;
            let devices = store.devices(tenant.id).await?;
            if json {
                println!("{}", serde_json::to_string(&devices)?);
            } else {
                for d in &devices {
                    let seen = d.last_contact.map_or("never synced".to_owned(), |t| {
                        format!("last sync {}", t.format("%Y-%m-%d %H:%M UTC"))
                    });
                    let state = if d.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "active"
                    };
                    println!(
                        "{}\t{}\t{}\t{state}\t{seen}\t{} pending",
                        d.id, d.warehouse, d.name, d.backlog
                    );
                }
            }
        }
        Command::Revoke { token } => {
            let device = Uuid::parse_str(&token).ok();
            let revoked = store.revoke_device(&token_hash(&token), device).await?;
            println!("revoked device {revoked}");
        }
    }
    Ok(())
}

/// `--url`: an http:// or https:// address (the rule the code's reader
/// applies).
fn public_url(text: &str) -> Result<String, String> {
    pyck_vocab::enrol::check_server(text).map_err(|e| {
        format!(
            "expected the address devices reach this server at, e.g. https://10.0.0.5:7415 ({e})"
        )
    })?;
    Ok(text.trim_end_matches('/').to_owned())
}

/// The SHA-256 over the DER of the one certificate in the `--ca` file.
/// One, because the code pins one: a bundle would leave which a guess.
fn ca_fingerprint(path: &Path) -> anyhow::Result<[u8; 32]> {
    let bad = |why: String| super::InvalidInput(format!("--ca {}: {why}", path.display()));
    let pem = std::fs::read(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("expected a PEM certificate: {e}")))?;
    match certs.as_slice() {
        [one] => Ok(Sha256::digest(one).into()),
        [] => Err(bad("expected a PEM certificate (-----BEGIN CERTIFICATE-----), found none".into()).into()),
        many => Err(bad(format!(
            "holds {} certificates; give the one CA certificate that signed the server's certificate",
            many.len()
        ))
        .into()),
    }
}

/// The code as a QR code of half-block characters, with its quiet zone and
/// a line saying its size. Dark modules are drawn as blanks and light ones
/// as blocks: on a terminal with light text on a dark background that is
/// the dark-on-light a scanner expects.
fn qr_text(code: &str) -> anyhow::Result<String> {
    use qrcode::render::unicode::Dense1x2;
    let qr = qrcode::QrCode::with_error_correction_level(code.as_bytes(), qrcode::EcLevel::M)?;
    let version = match qr.version() {
        qrcode::Version::Normal(v) | qrcode::Version::Micro(v) => v,
    };
    let drawn = qr
        .render::<Dense1x2>()
        .dark_color(Dense1x2::Light)
        .light_color(Dense1x2::Dark)
        .quiet_zone(true)
        .build();
    Ok(format!(
        "{drawn}\nenrolment code as a QR code (version {version}, error correction M): scan it on the handheld's first screen"
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// The figure docs/ADMIN.md gives: a long host name, an https port and
    /// a fingerprint still fit version 10 (57x57 modules), which handhelds
    /// read off a screen or a sheet of paper.
    #[test]
    fn a_code_with_a_long_host_fits_a_small_qr_code() {
        let code = EnrolCode {
            server: "https://pyck-dc1.warehouse.example.com:7415".into(),
            token: crate::auth::new_token(),
            ca_sha256: Some([0xab; 32]),
        }
        .to_url();
        let qr = qrcode::QrCode::with_error_correction_level(code.as_bytes(), qrcode::EcLevel::M)
            .unwrap();
        assert!(
            matches!(qr.version(), qrcode::Version::Normal(v) if v <= 10),
            "{} bytes: {:?}",
            code.len(),
            qr.version()
        );
        // The usual case, an address by IP: 175 bytes, version 9 (53x53).
        let short = EnrolCode {
            server: "https://10.0.0.5:7415".into(),
            token: crate::auth::new_token(),
            ca_sha256: Some([0xab; 32]),
        }
        .to_url();
        let qr = qrcode::QrCode::with_error_correction_level(short.as_bytes(), qrcode::EcLevel::M)
            .unwrap();
        assert_eq!(short.len(), 175);
        assert_eq!(qr.version(), qrcode::Version::Normal(9));
    }

    #[test]
    fn the_url_flag_takes_http_and_https_only() {
        assert_eq!(
            public_url("https://10.0.0.5:7415/").unwrap(),
            "https://10.0.0.5:7415"
        );
        assert!(public_url("http://wh").is_ok());
        for bad in ["ftp://wh", "10.0.0.5:7415", "https://", ""] {
            assert!(public_url(bad).is_err(), "{bad}");
        }
    }
}
