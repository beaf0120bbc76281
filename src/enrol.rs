//! Enrolment by code, the terminal's side of it: the CA certificate an
//! enrolment code pins by its SHA-256, taken from the chain the server
//! presents (`pyck init --enrol`, the scanner UI's first screen).
//!
//! The code carries only the CA's fingerprint, not the certificate (it
//! would not fit a QR code). So the terminal connects once accepting any
//! certificate, only to see the chain the server presents, and keeps the
//! certificate of that chain whose SHA-256 over its DER is the code's. That
//! connection proves nothing about the server: anyone in between can
//! present the real CA certificate next to a leaf of their own. The pinned
//! certificate is then only a root for the registration that follows,
//! which verifies the server's chain and name in full, as `--ca FILE` does
//! (docs/SECURITY.md, "Enrolment codes").

use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use pyck_vocab::enrol::fingerprint;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};

use crate::error::CliError;

/// The certificate with the SHA-256 `pinned` that the https server at
/// `server` presents, as PEM (what `init --ca FILE` stores). Refused (exit
/// 3) when the server presents none with that fingerprint, naming the
/// fingerprint and what it presented; exit 4 when it cannot be reached.
pub fn pinned_ca(server: &str, pinned: &[u8; 32]) -> anyhow::Result<String> {
    let chain = presented_chain(server)?;
    match pick(&chain, pinned) {
        Some(cert) => Ok(pem(cert)),
        None => Err(CliError::Invalid(not_presented(server, &chain, pinned)).into()),
    }
}

/// The certificate of `chain` whose SHA-256 over its DER is `pinned`.
pub fn pick<'a>(
    chain: &'a [CertificateDer<'static>],
    pinned: &[u8; 32],
) -> Option<&'a CertificateDer<'static>> {
    chain
        .iter()
        .find(|cert| Sha256::digest(cert.as_ref()).as_slice() == pinned)
}

/// Why no certificate was pinned, loud and with the facts: the fingerprint
/// wanted, the ones presented, and the two usual causes.
fn not_presented(server: &str, chain: &[CertificateDer<'static>], pinned: &[u8; 32]) -> String {
    let presented: Vec<String> = chain
        .iter()
        .map(|c| fingerprint(&Sha256::digest(c.as_ref()).into()))
        .collect();
    format!(
        "--enrol: the server at {server} did not present the CA certificate the code names \
         ({wanted}); it presented {n} certificate(s): {list}. Nothing was registered. Either the \
         code is for another server or CA, or something between this device and the server \
         answers in its place. If the code is right, the server's --tls-cert file may hold only \
         its own certificate: append the CA's certificate to it (docs/ADMIN.md)",
        wanted = fingerprint(pinned),
        n = presented.len(),
        list = if presented.is_empty() {
            "none".to_owned()
        } else {
            presented.join(", ")
        },
    )
}

/// A certificate as PEM, in lines of 64 characters.
pub fn pem(cert: &CertificateDer<'_>) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(cert.as_ref());
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// The certificates the https server at `server` presents in a TLS
/// handshake, accepted whatever they are (see the module's doc for why
/// that is safe here and nowhere else). The handshake's signature is still
/// checked, so the chain is at least that of a peer holding the leaf's key.
fn presented_chain(server: &str) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let unreachable = |why: String| CliError::Unreachable(format!("{server}: {why}"));
    let url = reqwest::Url::parse(server)
        .map_err(|e| CliError::Invalid(format!("--enrol: the code's server {server}: {e}")))?;
    let host = url.host_str().ok_or_else(|| {
        CliError::Invalid(format!("--enrol: the code's server {server} has no host"))
    })?;
    let name = ServerName::try_from(host.trim_start_matches('[').trim_end_matches(']'))
        .map_err(|e| CliError::Invalid(format!("--enrol: the code's server {server}: {e}")))?
        .to_owned();
    let addrs = url
        .socket_addrs(|| None)
        .map_err(|e| unreachable(e.to_string()))?;
    let mut last = String::from("no address");
    let mut tcp = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(5)) {
            Ok(s) => {
                tcp = Some(s);
                break;
            }
            Err(e) => last = format!("{addr}: {e}"),
        }
    }
    let mut tcp = tcp.ok_or_else(|| unreachable(last))?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
    tcp.set_write_timeout(Some(Duration::from_secs(10)))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    let mut tls = ClientConnection::new(Arc::new(config), name)?;
    while tls.is_handshaking() {
        tls.complete_io(&mut tcp)
            .map_err(|e| unreachable(format!("TLS handshake: {e}")))?;
    }
    let chain = tls
        .peer_certificates()
        .map(|certs| certs.iter().map(|c| c.clone().into_owned()).collect())
        .unwrap_or_default();
    tls.send_close_notify();
    let _ = tls.complete_io(&mut tcp);
    Ok(chain)
}

/// Accepts any certificate; checks only the handshake's signatures. Used
/// for [`presented_chain`] alone.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::sync::remote::ca_certificates;

    fn cert(bytes: &[u8]) -> CertificateDer<'static> {
        CertificateDer::from(bytes.to_vec())
    }

    #[test]
    fn picks_the_certificate_with_the_fingerprint_or_none() {
        let chain = vec![cert(b"leaf"), cert(b"the CA")];
        let ca: [u8; 32] = Sha256::digest(b"the CA").into();
        assert_eq!(pick(&chain, &ca), Some(&chain[1]));
        assert_eq!(pick(&chain[..1], &ca), None);
        let why = not_presented("https://h:1", &chain[..1], &ca);
        assert!(why.contains(&fingerprint(&ca)), "{why}");
        let leaf: [u8; 32] = Sha256::digest(b"leaf").into();
        assert!(why.contains(&fingerprint(&leaf)), "{why}");
        assert!(why.contains("--tls-cert"), "{why}");
    }

    #[test]
    fn pem_reads_back_as_the_same_certificate() {
        let der = cert(&(0..=255u8).cycle().take(1000).collect::<Vec<_>>());
        let text = pem(&der);
        assert!(text.lines().all(|l| l.len() <= 64), "{text}");
        assert_eq!(ca_certificates(&text).unwrap(), vec![der]);
    }
}
