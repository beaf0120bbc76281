//! A webhook receiver on 127.0.0.1: records every POST and answers with the
//! status it is told to (503 to make the sender retry).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// One call: its headers (lower-cased names) and its JSON body.
#[derive(Debug, Clone)]
pub struct Call {
    /// The request target, e.g. `/hook`.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: serde_json::Value,
    /// The body as sent (a protobuf, for an OTLP export).
    pub raw: Vec<u8>,
}

impl Call {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

pub struct Webhook {
    pub url: String,
    calls: Arc<Mutex<Vec<Call>>>,
    status: Arc<AtomicU16>,
    /// Milliseconds to wait before answering (a slow receiver).
    delay_ms: Arc<AtomicU64>,
}

impl Webhook {
    pub fn start(status: u16) -> Webhook {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let calls = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(AtomicU16::new(status));
        let delay_ms = Arc::new(AtomicU64::new(0));
        let (c, s, d) = (
            Arc::clone(&calls),
            Arc::clone(&status),
            Arc::clone(&delay_ms),
        );
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                // A thread per call: a slow answer holds up no other call.
                let (c, s, d) = (Arc::clone(&c), Arc::clone(&s), Arc::clone(&d));
                std::thread::spawn(move || answer(stream, &c, &s, &d));
            }
        });
        Webhook {
            url,
            calls,
            status,
            delay_ms,
        }
    }

    /// Answers every later call after `delay`.
    pub fn delay(&self, delay: std::time::Duration) {
        self.delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    pub fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }
}

/// Reads one request, records it, waits the delay, answers the status.
fn answer(mut stream: std::net::TcpStream, c: &Mutex<Vec<Call>>, s: &AtomicU16, d: &AtomicU64) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut headers = Vec::new();
    let mut line = String::new();
    reader.read_line(&mut line).unwrap_or(0);
    let path = line.split(' ').nth(1).unwrap_or_default().to_owned();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((n, v)) = line.trim().split_once(':') {
            headers.push((n.trim().to_lowercase(), v.trim().to_owned()));
        }
    }
    let len: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).unwrap_or(());
    c.lock().unwrap().push(Call {
        path,
        headers,
        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        raw: body,
    });
    std::thread::sleep(std::time::Duration::from_millis(d.load(Ordering::SeqCst)));
    let status = s.load(Ordering::SeqCst);
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    );
}
