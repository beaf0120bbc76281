//! An S3-compatible object store on 127.0.0.1: `s3s-fs`, which serves the
//! S3 API over plain files (each bucket a directory, each key a file under
//! it), so a test can both talk S3 to it and look at what it holds.
//! scripts/test installs it and sets `PYCK_TEST_S3S_FS`; without it the
//! tests that need it fail, they never skip.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub const ACCESS_KEY: &str = "pyck-test-access";
pub const SECRET_KEY: &str = "pyck-test-secret-key";

pub struct S3Server {
    pub endpoint: String,
    root: tempfile::TempDir,
    child: Child,
}

impl S3Server {
    /// A store with the (empty) bucket `bucket`.
    pub fn start(bucket: &str) -> S3Server {
        let bin = std::env::var("PYCK_TEST_S3S_FS").expect(
            "PYCK_TEST_S3S_FS is not set: run the tests through scripts/test, which installs s3s-fs",
        );
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join(bucket)).unwrap();
        // A free port: bind, read it, let go (s3s-fs binds it right after).
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(&bin)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(root.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {bin}: {e}"));
        let endpoint = format!("http://127.0.0.1:{port}");
        super::wait_for("s3s-fs to accept connections", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).ok()
        });
        S3Server {
            endpoint,
            root,
            child,
        }
    }

    /// The environment `pyck-server` reads its S3 settings from.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT", self.endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.into()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.into()),
        ]
    }

    /// The directory holding the objects of `bucket`, by key.
    pub fn bucket_dir(&self, bucket: &str) -> PathBuf {
        self.root.path().join(bucket)
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
