//! The enrolment code: everything a handheld needs to register, in one
//! `pyck://enrol?…` URL that fits a QR code. `pyck-server device-token
//! create --url` writes it, `pyck init --enrol` and the scanner UI's first
//! screen read it; its format lives here only, so the two cannot drift.
//!
//! ```text
//! pyck://enrol?v=1&server=https://10.0.0.5:7415&token=pyck_…&ca=sha256:<64 hex>
//! ```
//!
//! - `v` comes first and is checked first: a later format may change every
//!   other parameter, and an older terminal says "update pyck" instead of
//!   misreading it.
//! - Values are percent-encoded (RFC 3986): everything but unreserved
//!   characters, `:` and `/` (allowed in a query, and what a URL is made
//!   of) is escaped, so `&`, `=`, `+`, `#`, `%` and spaces in a value cannot
//!   be read as separators.
//! - `ca` is the SHA-256 of the DER of the CA certificate that signed the
//!   server's certificate; present only for `https`. Hex, because that is
//!   what `openssl x509 -fingerprint -sha256` shows an administrator.
//! - Parameters this version does not know are ignored (a v1 code may gain
//!   optional ones); a parameter given twice is refused (which one counts
//!   would be a guess).
//!
//! The code carries the device token: it is a secret until used.

use std::fmt;

/// The format version this crate writes and reads.
pub const VERSION: u32 = 1;

const PREFIX: &str = "pyck://enrol?";

/// What an enrolment code says.
#[derive(Clone, PartialEq, Eq)]
pub struct EnrolCode {
    /// The server's address as devices reach it (`http://` or `https://`),
    /// without a trailing slash.
    pub server: String,
    /// The device token.
    pub token: String,
    /// SHA-256 over the DER of the CA certificate to trust for an https
    /// server; `None` for http, or an https server with a certificate the
    /// system already trusts.
    pub ca_sha256: Option<[u8; 32]>,
}

/// Never prints the token.
impl fmt::Debug for EnrolCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnrolCode")
            .field("server", &self.server)
            .field("ca_sha256", &self.ca_sha256.map(|fp| fingerprint(&fp)))
            .finish_non_exhaustive()
    }
}

/// Why a text is not a usable enrolment code. Each message says what is
/// wrong with it, never the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnrolError {
    #[error(
        "not an enrolment code: it should start with pyck://enrol? (scan the code `pyck-server device-token create --url` made)"
    )]
    WrongScheme,
    #[error("the enrolment code has no {0}")]
    Missing(&'static str),
    #[error("the enrolment code gives {0} twice")]
    Repeated(String),
    #[error(
        "enrolment code version {0} is not known to this pyck (it reads version {VERSION}): update pyck"
    )]
    UnknownVersion(String),
    #[error("the enrolment code's server {0:?} is not an http:// or https:// address")]
    BadServer(String),
    #[error(
        "the enrolment code's token is not a token (empty, or with spaces or control characters)"
    )]
    BadToken,
    #[error("the enrolment code's ca {0:?} is not sha256: followed by 64 hex digits")]
    BadFingerprint(String),
    #[error(
        "the enrolment code gives a ca fingerprint for the plain-http server {0}: only https has certificates"
    )]
    FingerprintWithoutTls(String),
    #[error("the enrolment code has a bad percent escape in {0}")]
    BadEscape(String),
}

impl EnrolCode {
    /// The code as a URL, parameters in a fixed order.
    pub fn to_url(&self) -> String {
        let mut url = format!(
            "{PREFIX}v={VERSION}&server={}&token={}",
            encode(self.server.trim_end_matches('/')),
            encode(&self.token)
        );
        if let Some(fp) = &self.ca_sha256 {
            url.push_str("&ca=");
            url.push_str(&fingerprint(fp));
        }
        url
    }

    /// Reads a code as a person or a scanner gives it: blanks and line ends
    /// around it (a keyboard-mode scanner's CR/LF) do not count; the scheme
    /// and `enrol` in any case (scanners with caps lock on).
    pub fn parse(text: &str) -> Result<EnrolCode, EnrolError> {
        let text = text.trim();
        let query = text
            .get(..PREFIX.len())
            .filter(|head| head.eq_ignore_ascii_case(PREFIX))
            .map(|_| &text[PREFIX.len()..])
            .ok_or(EnrolError::WrongScheme)?;
        let mut version = None;
        let mut server = None;
        let mut token = None;
        let mut ca = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match key {
                "v" => &mut version,
                "server" => &mut server,
                "token" => &mut token,
                "ca" => &mut ca,
                _ => continue,
            };
            if slot.is_some() {
                return Err(EnrolError::Repeated(key.to_owned()));
            }
            *slot = Some(decode(value).ok_or_else(|| EnrolError::BadEscape(key.to_owned()))?);
        }
        let version = version.ok_or(EnrolError::Missing("version (v=)"))?;
        if version != VERSION.to_string() {
            return Err(EnrolError::UnknownVersion(version));
        }
        let server = server.ok_or(EnrolError::Missing("server"))?;
        check_server(&server)?;
        let server = server.trim_end_matches('/').to_owned();
        let token = token.ok_or(EnrolError::Missing("token"))?;
        if token.is_empty() || token.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(EnrolError::BadToken);
        }
        let ca_sha256 = ca.map(|ca| parse_fingerprint(&ca)).transpose()?;
        if ca_sha256.is_some() && !server.starts_with("https://") {
            return Err(EnrolError::FingerprintWithoutTls(server));
        }
        Ok(EnrolCode {
            server,
            token,
            ca_sha256,
        })
    }
}

/// Whether `server` is an address a device can register with: `http://`
/// or `https://` and a host. The server's `device-token create --url`
/// checks its flag with this too.
pub fn check_server(server: &str) -> Result<(), EnrolError> {
    let rest = server
        .strip_prefix("https://")
        .or_else(|| server.strip_prefix("http://"))
        .ok_or_else(|| EnrolError::BadServer(server.to_owned()))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty()
        || host.starts_with(':')
        || host.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(EnrolError::BadServer(server.to_owned()));
    }
    Ok(())
}

/// `sha256:` and the digest in lower-case hex, as the code writes it.
pub fn fingerprint(digest: &[u8; 32]) -> String {
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Reads `sha256:<64 hex>` (hex in either case).
pub fn parse_fingerprint(text: &str) -> Result<[u8; 32], EnrolError> {
    let bad = || EnrolError::BadFingerprint(text.to_owned());
    let hex = text
        .get(..7)
        .filter(|p| p.eq_ignore_ascii_case("sha256:"))
        .map(|_| &text[7..])
        .ok_or_else(bad)?;
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let mut digest = [0u8; 32];
    for (i, byte) in digest.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(digest)
}

/// Characters a value keeps as they are: RFC 3986's unreserved ones, and
/// `:` and `/`, which a query allows and a server address is full of.
fn kept(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':' | b'/')
}

fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for &b in value.as_bytes() {
        if kept(b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-decodes a value; `None` for a broken escape or text that is not
/// UTF-8 once decoded. `+` stays `+` (this is not a form).
fn decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = value.get(i + 1..i + 3)?;
            if !hex.bytes().all(|h| h.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use proptest::prelude::*;

    use super::*;

    const TOKEN: &str = "pyck_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ";

    fn code(server: &str, ca: Option<[u8; 32]>) -> EnrolCode {
        EnrolCode {
            server: server.into(),
            token: TOKEN.into(),
            ca_sha256: ca,
        }
    }

    #[test]
    fn writes_the_documented_form() {
        let mut fp = [0u8; 32];
        fp[0] = 0xab;
        fp[31] = 0x01;
        let url = code("https://10.0.0.5:7415/", Some(fp)).to_url();
        assert_eq!(
            url,
            format!(
                "pyck://enrol?v=1&server=https://10.0.0.5:7415&token={TOKEN}&ca=sha256:ab{}01",
                "00".repeat(30)
            )
        );
        assert_eq!(
            EnrolCode::parse(&url).unwrap(),
            code("https://10.0.0.5:7415", Some(fp))
        );
    }

    #[test]
    fn reads_a_scan_with_line_ends_blanks_and_caps() {
        let url = code("http://wh:7415", None).to_url();
        for scanned in [
            format!("{url}\r\n"),
            format!("  {url}\n"),
            format!("{url}\r"),
            url.replacen("pyck://enrol", "PYCK://ENROL", 1),
        ] {
            assert_eq!(
                EnrolCode::parse(&scanned).unwrap(),
                code("http://wh:7415", None)
            );
        }
    }

    #[test]
    fn separators_in_values_are_escaped() {
        let c = EnrolCode {
            server: "https://h:1/a b?c=d&e#f".into(),
            token: "t&ca=sha256:00+%".into(),
            ca_sha256: None,
        };
        let url = c.to_url();
        assert!(url.contains("token=t%26ca%3Dsha256:00%2B%25"), "{url}");
        assert_eq!(EnrolCode::parse(&url).unwrap(), c);
        // A literal + is a plus, not a space.
        let plus = EnrolCode::parse("pyck://enrol?v=1&server=http://h&token=a+b").unwrap();
        assert_eq!(plus.token, "a+b");
    }

    #[test]
    fn each_fault_is_named() {
        let fp = format!("sha256:{}", "0".repeat(64));
        let cases: &[(&str, EnrolError)] = &[
            ("https://10.0.0.5:7415", EnrolError::WrongScheme),
            ("0123456789012", EnrolError::WrongScheme),
            ("pyck://other?v=1", EnrolError::WrongScheme),
            (
                "pyck://enrol?server=http://h&token=t",
                EnrolError::Missing("version (v=)"),
            ),
            (
                "pyck://enrol?v=2&server=http://h&token=t",
                EnrolError::UnknownVersion("2".into()),
            ),
            ("pyck://enrol?v=1&token=t", EnrolError::Missing("server")),
            (
                "pyck://enrol?v=1&server=http://h",
                EnrolError::Missing("token"),
            ),
            (
                "pyck://enrol?v=1&server=http://h&token=",
                EnrolError::BadToken,
            ),
            (
                "pyck://enrol?v=1&server=http://h&token=a%20b",
                EnrolError::BadToken,
            ),
            (
                "pyck://enrol?v=1&server=ftp://h&token=t",
                EnrolError::BadServer("ftp://h".into()),
            ),
            (
                "pyck://enrol?v=1&server=https://:7415&token=t",
                EnrolError::BadServer("https://:7415".into()),
            ),
            (
                "pyck://enrol?v=1&server=https://h&token=t&ca=md5:00",
                EnrolError::BadFingerprint("md5:00".into()),
            ),
            (
                "pyck://enrol?v=1&server=https://h&token=t&ca=sha256:abc",
                EnrolError::BadFingerprint("sha256:abc".into()),
            ),
            (
                "pyck://enrol?v=1&server=https://h&token=t&token=u",
                EnrolError::Repeated("token".into()),
            ),
            (
                "pyck://enrol?v=1&server=https://h&token=t%4",
                EnrolError::BadEscape("token".into()),
            ),
            (
                "pyck://enrol?v=1&server=https://h&token=t%ff",
                EnrolError::BadEscape("token".into()),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(&EnrolCode::parse(text).unwrap_err(), want, "{text}");
        }
        let plain = format!("pyck://enrol?v=1&server=http://h&token=t&ca={fp}");
        assert_eq!(
            EnrolCode::parse(&plain).unwrap_err(),
            EnrolError::FingerprintWithoutTls("http://h".into())
        );
        // Unknown parameters of a v1 code are ignored.
        let more = format!("pyck://enrol?v=1&server=https://h&token=t&ca={fp}&name=x");
        assert!(EnrolCode::parse(&more).is_ok());
    }

    #[test]
    fn errors_and_debug_never_show_the_token() {
        let c = code("https://h", Some([7; 32]));
        assert!(!format!("{c:?}").contains(TOKEN));
        let bad = c.to_url().replace("https://h", "gopher://h");
        let err = EnrolCode::parse(&bad).unwrap_err().to_string();
        assert!(!err.contains(TOKEN), "{err}");
    }

    fn server() -> impl Strategy<Value = String> {
        (
            prop_oneof![Just("http://"), Just("https://")],
            "[a-z0-9.-]{1,30}(:[0-9]{1,5})?",
            "(/[ -~]{0,20})?",
        )
            .prop_map(|(scheme, host, path)| format!("{scheme}{host}{path}"))
            .prop_filter("no trailing slash", |s| !s.ends_with('/'))
    }

    proptest! {
        #[test]
        fn a_code_reads_back_as_itself(
            server in server(),
            token in "[!-~\u{a1}-\u{2ff}]{1,60}",
            ca in proptest::option::of(any::<[u8; 32]>()),
            blanks in "[ \t\r\n]{0,3}",
        ) {
            let ca = ca.filter(|_| server.starts_with("https://"));
            let c = EnrolCode { server, token, ca_sha256: ca };
            let url = c.to_url();
            prop_assert!(url.is_ascii());
            prop_assert_eq!(EnrolCode::parse(&format!("{blanks}{url}{blanks}")), Ok(c));
        }

        #[test]
        fn any_text_is_read_or_refused_without_panic(text in "\\PC{0,200}") {
            let _ = EnrolCode::parse(&text);
            let _ = EnrolCode::parse(&format!("pyck://enrol?{text}"));
        }
    }
}
