//! A small file system to fill: a tmpfs and a filler file, for tests of what
//! the terminal and the server do when the disk is (nearly) full.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs of `size`, unmounted when dropped. Mounting needs root (CI and
/// this machine run the tests as root); elsewhere the test fails saying so.
pub struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    pub fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "mounting a tmpfs needs root (scripts/test runs as root in CI): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).output();
    }
}

/// Fills the file system at `dir` with one file, leaving about `leave`
/// bytes free.
pub fn fill(dir: &Path, leave: u64) -> PathBuf {
    let filler = dir.join("filler");
    let out = Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(dir)
        .output()
        .unwrap();
    let avail: u64 = String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let size = avail.saturating_sub(leave);
    let f = std::fs::File::create(&filler).unwrap();
    // Real blocks, not a sparse file: tmpfs counts what is written.
    let chunk = vec![0u8; 64 * 1024];
    let mut w = std::io::BufWriter::new(f);
    let mut left = size;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        if std::io::Write::write_all(&mut w, &chunk[..n]).is_err() {
            break;
        }
        left -= n as u64;
    }
    let _ = std::io::Write::flush(&mut w);
    filler
}
