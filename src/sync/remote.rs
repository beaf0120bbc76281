//! Where the terminal talks to and how: the server's address, the device
//! token, and the certificate authority it trusts on top of the system's
//! (`pyck init --ca FILE`, for a server whose certificate a private CA
//! signed). Every HTTP client and websocket of the terminal comes from here,
//! so plain HTTP, public HTTPS and a private CA all work the same way.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::config::Config;

#[derive(Clone)]
pub struct Remote {
    /// The server's address, without a trailing slash.
    pub server: String,
    pub token: String,
    /// PEM certificates of the extra CA, if any.
    ca: Option<Arc<str>>,
}

/// Never prints the token.
impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote")
            .field("server", &self.server)
            .field("ca", &self.ca.is_some())
            .finish_non_exhaustive()
    }
}

impl Remote {
    pub fn new(server: &str, token: &str, ca: Option<&str>) -> Remote {
        Remote {
            server: server.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            ca: ca.map(Arc::from),
        }
    }

    /// The server, token and CA `pyck init` registered.
    pub fn of(config: &Config) -> Remote {
        Remote::new(&config.server, &config.token, config.ca.as_deref())
    }

    /// The same device through another address (another replica, a load
    /// balancer), for one command.
    pub fn via(self, server: Option<String>) -> Remote {
        match server {
            Some(server) => Remote::new(&server, &self.token, self.ca.as_deref()),
            None => self,
        }
    }

    /// An HTTP client trusting the system's roots and the extra CA.
    pub fn http(&self, timeout: Duration) -> anyhow::Result<reqwest::Client> {
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("pyck/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = &self.ca {
            let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
                .context("the CA registered with `pyck init --ca` is not PEM")?;
            builder = builder.tls_certs_merge(certs);
        } else if self.is_plain_http() {
            // No TLS to verify: skip loading the system's roots (about 140
            // files, 4 % of a 10,000-operation `pyck sync`, issue 21). A
            // redirect to HTTPS then fails verification: closed, not open.
            builder = builder.tls_certs_only([]);
        }
        Ok(builder.build()?)
    }

    /// The server is addressed over plain HTTP (a site's own network).
    fn is_plain_http(&self) -> bool {
        self.server
            .get(..7)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("http://"))
    }

    /// Whether the server answers its health check within a moment.
    pub async fn healthy(&self) -> bool {
        let Ok(client) = self.http(Duration::from_millis(1500)) else {
            return false;
        };
        client
            .get(format!("{}/healthz", self.server))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    }

    /// The websocket's TLS set-up: `None` (the library's own, with the
    /// system's roots) unless there is an extra CA.
    pub fn ws_connector(&self) -> anyhow::Result<Option<tokio_tungstenite::Connector>> {
        let Some(pem) = &self.ca else {
            return Ok(None);
        };
        let mut roots = rustls::RootCertStore::empty();
        // A system root that does not parse is skipped, as the library does.
        let (_, _) =
            roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        for cert in ca_certificates(pem).map_err(anyhow::Error::msg)? {
            roots.add(cert)?;
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Some(tokio_tungstenite::Connector::Rustls(Arc::new(config))))
    }
}

/// The certificates of a PEM file given as a CA: at least one, each a
/// certificate; the error says what is wrong.
pub fn ca_certificates(pem: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("expected PEM certificates: {e}"))?;
    if certs.is_empty() {
        return Err("expected PEM certificates (-----BEGIN CERTIFICATE-----), found none".into());
    }
    Ok(certs)
}
