//! Issue 19, finding 4: one tenant's token opening many connections that
//! send their bodies a byte at a time starved every tenant's `/graphql`.
//! Against a real `pyck-server serve`: twenty slow bodies of one tenant
//! (more than all its places and all places of all tenants put together)
//! leave another tenant served, and the slow ones get 408 once their body
//! timeout passes, after which the tenant itself is served again.

#![allow(clippy::unwrap_used)]

use crate::common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{Server, Warehouse};

/// A POST to /graphql announcing a 100 KB body and sending one byte of it.
fn slow_body(addr: &str, token: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{"
    )
    .unwrap();
    s.flush().unwrap();
    s
}

/// A small query; the HTTP status line of the answer.
fn query(addr: &str, token: &str) -> String {
    let body = r#"{"query":"{ __typename }"}"#;
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn slow_bodies_of_one_tenant_never_starve_another() {
    let wh = Warehouse::new();
    let theirs = wh.other_tenant("globex");
    let attacker = wh.token();
    let server = Server::start_with(&wh.db, None, &["--body-timeout", "3"]);
    let addr = server.url().trim_start_matches("http://").to_owned();

    let slow: Vec<TcpStream> = (0..20).map(|_| slow_body(&addr, &attacker)).collect();
    // Another tenant is served while all twenty hang.
    assert_eq!(query(&addr, &theirs), "HTTP/1.1 200 OK");
    // The slow ones are answered 408 once their time is up, places given
    // back: the attacker's own tenant is served again.
    for mut s in slow.into_iter().take(8) {
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        assert!(
            answer.starts_with("HTTP/1.1 408"),
            "a slow body got {answer:?}"
        );
        assert!(answer.contains("body_timeout"), "{answer}");
    }
    assert_eq!(query(&addr, &attacker), "HTTP/1.1 200 OK");
    assert_eq!(query(&addr, &theirs), "HTTP/1.1 200 OK");
}
