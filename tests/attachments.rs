//! Photo attachments end to end: a receiver photographs damage offline; the
//! sync that uploads it is killed half-way and run again; the server holds
//! exactly one copy, byte-identical, with nothing sent twice; the photo is
//! listed on the ASN's damaged-receipt exception and served only to its own
//! tenant; the size limit is enforced on both sides. The same cut upload
//! against an S3-compatible bucket (s3s-fs on 127.0.0.1), and a server that
//! cannot write its bucket refuses to start.

#![allow(clippy::unwrap_used)]

use crate::common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::s3::S3Server;
use common::{Device, Server, Warehouse};
use sha2::{Digest, Sha256};

/// A real JPEG of `len` bytes (the server and the terminal walk its whole
/// structure), different for each `seed`.
fn photo(dir: &Path, name: &str, len: usize, seed: u64) -> (PathBuf, Vec<u8>, String) {
    let bytes = common::photos::jpeg(len, seed);
    let path = dir.join(name);
    std::fs::write(&path, &bytes).unwrap();
    let sha = sha256(&bytes);
    (path, bytes, sha)
}

/// Files under a directory, recursively, as paths relative to it.
fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

/// Records at the dock, offline: 20 received, 2 damaged, and `photo`.
fn receive_damaged(receiver: &Device, photo: &Path) {
    receiver.ok(&[
        "receive",
        "--asn",
        "ASN-1003",
        "--sku",
        "SKU-10048",
        "--qty",
        "20",
        "--lot",
        "L2647E",
        "--expiry",
        "2027-01-31",
        "--to",
        "DOCK-01",
        "--damaged",
        "2",
        "--photo",
        photo.to_str().unwrap(),
    ]);
}

/// Starts a sync uploading in 16 kB chunks and kills it (`kill -9`) once
/// some chunks are staged under `staging`, before the photo of `len` bytes
/// is complete at `done`.
fn cut_upload(receiver: &Device, staging: &Path, done: &Path, len: usize) {
    let mut sync = receiver
        .cmd(&["sync"])
        .env("PYCK_PHOTO_CHUNK", "16384")
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while objects(staging).len() < 5 {
        assert!(Instant::now() < deadline, "the upload never started");
        std::thread::sleep(Duration::from_millis(2));
    }
    let _ = sync.kill();
    let _ = sync.wait();
    let staged = objects(staging).len();
    assert!(
        !done.exists() && staged < len / 16384,
        "the kill came after the upload finished ({staged} chunks): not a cut upload"
    );
}

/// Keys under `dir` that are objects of the store (s3s-fs keeps its own
/// bookkeeping in dot-files beside them).
fn objects(dir: &Path) -> Vec<String> {
    files(dir)
        .into_iter()
        .filter(|f| !f.rsplit('/').next().unwrap().starts_with('.'))
        .collect()
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn curl(args: &[&str]) -> (u16, Vec<u8>) {
    let out = std::process::Command::new("curl")
        .args(["-s", "-o", "-", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .unwrap();
    let mut body = out.stdout;
    let at = body.iter().rposition(|b| *b == b'\n').unwrap();
    let status = String::from_utf8_lossy(&body[at + 1..]).parse().unwrap();
    body.truncate(at);
    (status, body)
}

#[test]
fn a_photo_taken_offline_survives_a_cut_upload_and_is_stored_once() {
    let wh = Warehouse::new();
    let server = Server::start(&wh.db, None);
    let photos = PathBuf::from(format!("{}.photos", wh.db));
    let receiver = Device::new();
    receiver.enrol(&server.url(), &wh.token(), "2001");
    let dir = tempfile::tempdir().unwrap();
    let (file, bytes, sha) = photo(dir.path(), "damage.jpg", 3 * 1024 * 1024, 7);

    // Offline at the dock: the receipt and its photo are kept together.
    let addr = server.kill();
    receive_damaged(&receiver, &file);
    assert_eq!(receiver.journal().len(), 1);

    // Back online, the upload (16 kB chunks) is cut half-way: kill -9.
    let server = Server::start(&wh.db, Some(&addr));
    let staging = photos.join("staging/t1").join(&sha);
    cut_upload(
        &receiver,
        &staging,
        &photos.join("t1").join(&sha),
        bytes.len(),
    );

    // The next sync resumes from the server's offset and finishes.
    let report = receiver.json(&["sync"]);
    assert_eq!(report["photos"], 1, "{report}");
    let stored = files(&photos);
    assert_eq!(stored, [format!("t1/{sha}")], "one copy, no staging left");
    assert_eq!(std::fs::read(photos.join("t1").join(&sha)).unwrap(), bytes);
    // Nothing was sent twice: the server took exactly the photo's bytes.
    assert_eq!(
        server.metric("pyck_photo_received_bytes_total"),
        Some(bytes.len() as u64),
        "resumed, not restarted"
    );

    // A re-send stores nothing: the same photo on another exception.
    receiver.ok(&["receive", "close", "--asn", "ASN-1003"]);
    receiver.ok(&["sync"]);
    let exceptions = receiver.json(&["exceptions"]);
    let damaged = exceptions
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "damaged_receipt" && e["asn"] == "ASN-1003")
        .unwrap_or_else(|| panic!("{exceptions}"))
        .clone();
    let id = damaged["id"].as_str().unwrap();
    let shown = receiver.json(&["exceptions", "show", id]);
    assert_eq!(shown["attachments"][0]["sha256"], sha.as_str(), "{shown}");
    assert_eq!(shown["attachments"][0]["uploaded"], true, "{shown}");
    let other = photo(dir.path(), "other.jpg", 40_000, 8);
    receiver.ok(&["exceptions", "attach", id, file.to_str().unwrap()]);
    receiver.ok(&["exceptions", "attach", id, other.0.to_str().unwrap()]);
    let report = receiver.json(&["sync"]);
    assert_eq!(report["photo_bytes"], 40_000, "{report}");
    assert_eq!(files(&photos).len(), 2);

    // The server lists both on the exception and serves them to its tenant
    // only.
    let token = wh.token();
    let query = r#"{"query":"{ exceptions { id attachments { sha256 size url } } }"}"#;
    let (status, body) = curl(&[
        "-H",
        &format!("authorization: Bearer {token}"),
        "-H",
        "content-type: application/json",
        "-d",
        query,
        &format!("{}/graphql", server.url()),
    ]);
    assert_eq!(status, 200);
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let listed: Vec<&str> = body["data"]["exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id)
        .unwrap()["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["sha256"].as_str().unwrap())
        .collect();
    let mut expected = vec![sha.as_str(), other.2.as_str()];
    expected.sort_unstable();
    assert_eq!(listed, expected);
    let url = format!("{}/attachments/{sha}", server.url());
    let (status, served) = curl(&["-H", &format!("authorization: Bearer {token}"), &url]);
    assert_eq!((status, served == bytes), (200, true));
    // Served as what it was declared, never sniffed into something else.
    let (_, headers) = curl(&[
        "-D",
        "-",
        "-o",
        "/dev/null",
        "-H",
        &format!("authorization: Bearer {token}"),
        &url,
    ]);
    let headers = String::from_utf8_lossy(&headers).to_ascii_lowercase();
    assert!(
        headers.contains("x-content-type-options: nosniff"),
        "{headers}"
    );
    let theirs = wh.other_tenant("globex");
    let (status, _) = curl(&["-H", &format!("authorization: Bearer {theirs}"), &url]);
    assert_eq!(status, 404, "another tenant does not get the photo");
    let (status, _) = curl(&[&url]);
    assert_eq!(status, 401);
    assert!(wh.verify().status.success());
}

#[test]
fn photos_over_the_limit_or_not_photos_are_refused() {
    let wh = Warehouse::new();
    let server = Server::start_with(&wh.db, None, &["--max-photo-bytes", "100000"]);
    let receiver = Device::new();
    receiver.enrol(&server.url(), &wh.token(), "2001");
    let dir = tempfile::tempdir().unwrap();
    let receive = |photo: &Path| {
        receiver.run(&[
            "receive",
            "--asn",
            "ASN-1003",
            "--sku",
            "SKU-10048",
            "--qty",
            "1",
            "--lot",
            "L2647E",
            "--expiry",
            "2027-01-31",
            "--to",
            "DOCK-01",
            "--photo",
            photo.to_str().unwrap(),
        ])
    };

    // On the device: not a photo, a page behind a JPEG's first bytes, too
    // large, missing — exit 3, nothing kept.
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a photo").unwrap();
    let page = [
        &[0xFF, 0xD8, 0xFF, 0xE0][..],
        b"<html><script>alert(1)</script></html>",
    ]
    .concat();
    let fake = dir.path().join("page.jpg");
    std::fs::write(&fake, &page).unwrap();
    let (huge, _, _) = photo(dir.path(), "huge.jpg", 11 * 1024 * 1024, 1);
    for (file, why) in [
        (text.as_path(), "is not a photo"),
        (fake.as_path(), "is not a whole JPEG photo: expected"),
        (huge.as_path(), "at most 10485760"),
        (Path::new("/no/such.jpg"), "cannot read"),
    ] {
        let out = receive(file);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{err}");
        assert!(err.contains("--photo") && err.contains(why), "{err}");
    }
    assert!(receiver.journal().is_empty());

    // On the server: this one's limit is 100 kB. The receipt syncs; the
    // photo stays on the device with the server's reason.
    let (big, _, _) = photo(dir.path(), "big.jpg", 200_000, 2);
    assert!(receive(&big).status.success());
    let out = receiver.run(&["sync"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("the limit is 100000 bytes"), "{err}");
    assert_eq!(receiver.json(&["status"])["pending"], 0);

    // Straight to the server, past the terminal's check: the page behind a
    // JPEG's first bytes is refused naming what was expected, and nothing
    // of it is kept; a real JPEG of the same size is stored and served.
    let token = wh.token();
    let auth = format!("authorization: Bearer {token}");
    let put = |bytes: &[u8]| {
        let sha = sha256(bytes);
        let file = dir.path().join(&sha);
        std::fs::write(&file, bytes).unwrap();
        let (status, body) = curl(&[
            "-X",
            "PUT",
            "-H",
            &auth,
            "-H",
            "x-pyck-offset: 0",
            "-H",
            &format!("x-pyck-size: {}", bytes.len()),
            "--data-binary",
            &format!("@{}", file.display()),
            &format!("{}/attachments/{sha}", server.url()),
        ]);
        (sha, status, String::from_utf8_lossy(&body).into_owned())
    };
    let (sha, status, body) = put(&page);
    assert_eq!(status, 422, "{body}");
    assert!(
        body.contains(&format!("photo {sha} is not a whole JPEG photo: expected"))
            && body.contains("at byte 4"),
        "{body}"
    );
    let state = |sha: &str| {
        let url = format!("{}/attachments/{sha}/upload", server.url());
        let (status, body) = curl(&["-H", &auth, &url]);
        assert_eq!(status, 200);
        serde_json::from_slice::<serde_json::Value>(&body).unwrap()
    };
    assert_eq!(
        state(&sha),
        serde_json::json!({"received": 0, "complete": false})
    );
    let staged = PathBuf::from(format!("{}.photos", wh.db))
        .join("staging/t1")
        .join(&sha);
    assert!(files(&staged).is_empty(), "its chunk was dropped");
    let url = format!("{}/attachments/{sha}", server.url());
    assert_eq!(curl(&["-H", &auth, &url]).0, 404);

    let real = common::photos::jpeg(page.len().max(200), 3);
    let (sha, status, body) = put(&real);
    assert_eq!(status, 200, "{body}");
    assert_eq!(state(&sha)["complete"], true);
    let url = format!("{}/attachments/{sha}", server.url());
    let (_, headers) = curl(&["-D", "-", "-o", "/dev/null", "-H", &auth, &url]);
    let headers = String::from_utf8_lossy(&headers).to_ascii_lowercase();
    assert!(headers.contains("content-type: image/jpeg"), "{headers}");
    assert_eq!(curl(&["-H", &auth, &url]), (200, real));
}

#[test]
fn photos_kept_in_an_s3_bucket_survive_a_cut_upload_and_a_restart() {
    let s3 = S3Server::start("wh-photos");
    let env = s3.env();
    let store = ["--object-store", "s3://wh-photos/pyck/dc1"];
    let wh = Warehouse::new();
    let server = Server::start_with_env(&wh.db, None, &store, &env);
    let receiver = Device::new();
    receiver.enrol(&server.url(), &wh.token(), "2001");
    let dir = tempfile::tempdir().unwrap();
    let (file, bytes, sha) = photo(dir.path(), "damage.jpg", 2 * 1024 * 1024, 11);

    let addr = server.kill();
    receive_damaged(&receiver, &file);

    // The upload to the bucket is cut half-way by kill -9.
    let server = Server::start_with_env(&wh.db, Some(&addr), &store, &env);
    let prefix = s3.bucket_dir("wh-photos").join("pyck/dc1");
    let staging = prefix.join("staging/t1").join(&sha);
    cut_upload(
        &receiver,
        &staging,
        &prefix.join("t1").join(&sha),
        bytes.len(),
    );

    // Resumed: one object in the bucket, under the prefix, byte-identical;
    // the staged chunks are gone and nothing was sent twice.
    let report = receiver.json(&["sync"]);
    assert_eq!(report["photos"], 1, "{report}");
    assert_eq!(
        objects(s3.bucket_dir("wh-photos").as_path()),
        [format!("pyck/dc1/t1/{sha}")]
    );
    assert_eq!(std::fs::read(prefix.join("t1").join(&sha)).unwrap(), bytes);
    assert_eq!(
        server.metric("pyck_photo_received_bytes_total"),
        Some(bytes.len() as u64),
        "resumed, not restarted"
    );

    // A restarted server serves it from the bucket.
    drop(server);
    let server = Server::start_with_env(&wh.db, None, &store, &env);
    let url = format!("{}/attachments/{sha}", server.url());
    let token = wh.token();
    let (status, served) = curl(&["-H", &format!("authorization: Bearer {token}"), &url]);
    assert_eq!((status, served == bytes), (200, true));
}

#[test]
fn a_server_whose_bucket_it_cannot_write_does_not_start() {
    let s3 = S3Server::start("wh-photos");
    let wh = Warehouse::new();
    let serve = |location: &str, env: &[(&str, String)]| {
        std::process::Command::new(common::server_bin())
            .args(["--db", &wh.db, "serve", "--listen", "127.0.0.1:0"])
            .args(["--object-store", location])
            .envs(env.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap()
    };
    let with = |name: &'static str, value: String| {
        let mut env = s3.env();
        env.retain(|(k, _)| *k != name);
        env.push((name, value));
        env
    };
    // Nothing listens on a port just let go of.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    for (env, why) in [
        (
            with("AWS_SECRET_ACCESS_KEY", "not-the-secret".into()),
            "privileges",
        ),
        (
            with("AWS_ACCESS_KEY_ID", "someone-else".into()),
            "privileges",
        ),
        (
            with("AWS_ENDPOINT", format!("http://{closed}")),
            // After its retries, the client's error names where it went.
            &closed.to_string(),
        ),
    ] {
        let out = serve("s3://wh-photos", &env);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(out.stdout.is_empty(), "it never said it listens: {err}");
        assert!(
            err.contains("--object-store") && err.contains("s3://wh-photos") && err.contains(why),
            "{err}"
        );
    }
    // Nothing was left in the bucket by the failed starts.
    assert!(objects(&s3.bucket_dir("wh-photos")).is_empty());
    // A location that is no location is refused before anything starts.
    let out = serve("s3://Bad_Bucket", &s3.env());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--object-store") && err.contains("bucket"),
        "{err}"
    );
}
