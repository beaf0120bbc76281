//! A loopback HTTP proxy that misbehaves on purpose: it forwards each
//! request to the server, then either relays the response or drops it (the
//! server committed, the device never hears back), or refuses connections
//! after a number of requests (the network going away mid-sync).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

pub struct Proxy {
    pub url: String,
    stop: Arc<AtomicBool>,
}

#[derive(Clone, Copy)]
pub enum Mode {
    /// Forward every request, never deliver a response.
    DropResponses,
    /// Relay the first `n` exchanges, then hang up on everything.
    CutAfter(usize),
}

impl Proxy {
    pub fn start(upstream: &str, mode: Mode) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let upstream = upstream.to_owned();
        let served = Arc::new(AtomicUsize::new(0));
        let flag = stop.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = conn else { continue };
                let (upstream, served) = (upstream.clone(), served.clone());
                std::thread::spawn(move || {
                    let _ = serve(client, &upstream, mode, &served);
                });
            }
        });
        Proxy { url, stop }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
    }
}

fn serve(
    mut client: TcpStream,
    upstream: &str,
    mode: Mode,
    served: &AtomicUsize,
) -> std::io::Result<()> {
    loop {
        let Some(request) = read_message(&mut client)? else {
            return Ok(());
        };
        if let Mode::CutAfter(n) = mode
            && served.fetch_add(1, Ordering::SeqCst) >= n
        {
            return Ok(());
        }
        let mut server = TcpStream::connect(upstream)?;
        server.write_all(&request)?;
        let Some(response) = read_message(&mut server)? else {
            return Ok(());
        };
        match mode {
            Mode::DropResponses => return Ok(()),
            Mode::CutAfter(_) => client.write_all(&response)?,
        }
    }
}

/// Reads one HTTP/1.1 message with a Content-Length body; `None` at EOF.
fn read_message(stream: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte)? == 0 {
            return Ok(None);
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).to_ascii_lowercase();
    let len = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body)?;
    buf.extend(body);
    Ok(Some(buf))
}
