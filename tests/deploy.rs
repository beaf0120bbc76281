//! The two ways docs/ADMIN.md installs the server, run as they would run:
//! the systemd unit (checked by `systemd-analyze verify`, then its
//! `ExecStart` run with its environment, its state directory and its umask)
//! and the container image (its `ENTRYPOINT`/`CMD` run with its `ENV` as its
//! non-root `USER`, its volume a fresh directory owned by that user). Each
//! must serve, answer `/readyz`, keep its database where the file says with
//! mode 0600, log JSON lines and stop cleanly on SIGTERM. Only the paths
//! change: the binary is this build's and the state directory a temporary
//! one; the listen address is a free port on 127.0.0.1.

#![allow(clippy::unwrap_used)]

use crate::common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn deploy(file: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("deploy")
            .join(file),
    )
    .unwrap()
}

/// `KEY=VALUE` pairs, in order, from the unit's `Environment=` lines.
fn unit_environment(unit: &str) -> BTreeMap<String, String> {
    unit.lines()
        .filter_map(|l| l.strip_prefix("Environment="))
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

fn unit_value<'a>(unit: &'a str, key: &str) -> &'a str {
    unit.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("the unit has no {key}="))
}

/// The Containerfile's instructions of the last stage, continuation lines
/// joined.
fn final_stage(containerfile: &str) -> Vec<(String, String)> {
    let mut joined = Vec::new();
    let mut current = String::new();
    for line in containerfile.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.is_empty() && current.is_empty() {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(part) => current.push_str(part),
            None => {
                current.push_str(line);
                joined.push(std::mem::take(&mut current));
            }
        }
    }
    let last_from = joined.iter().rposition(|l| l.starts_with("FROM ")).unwrap();
    joined[last_from..]
        .iter()
        .filter_map(|l| l.split_once(' '))
        .map(|(i, rest)| (i.to_owned(), rest.trim().to_owned()))
        .collect()
}

fn instruction<'a>(stage: &'a [(String, String)], name: &str) -> &'a str {
    &stage
        .iter()
        .find(|(i, _)| i == name)
        .unwrap_or_else(|| panic!("no {name} in the final stage"))
        .1
}

/// `ENV A=1 B=2` as pairs.
fn container_environment(stage: &[(String, String)]) -> BTreeMap<String, String> {
    stage
        .iter()
        .filter(|(i, _)| i == "ENV")
        .flat_map(|(_, rest)| rest.split_whitespace())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

fn json_array(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap()
}

/// A plain HTTP GET; the whole answer.
fn get(url: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let addr = url.strip_prefix("http://").unwrap();
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    answer
}

/// Runs `command` (its first word this build's binary), with `env`, until
/// it serves; checks what every install must do; stops it with SIGTERM.
fn serve_and_check(mut command: Command, state: &Path, db_file: &Path) {
    let log = state.parent().unwrap().join("stderr.log");
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("pyck-server listening on ")
        .unwrap_or_else(|| {
            panic!(
                "did not serve: {line:?}\n{}",
                std::fs::read_to_string(&log).unwrap()
            )
        })
        .to_owned();
    let ready = get(&url, "/readyz");
    assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");
    let mode = std::fs::metadata(db_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{} is {mode:o}", db_file.display());
    let stop = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(stop.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "SIGTERM ends it cleanly: {status:?}");
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(!log.is_empty());
    for l in log.lines() {
        serde_json::from_str::<serde_json::Value>(l)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {l}"));
    }
}

#[test]
fn the_systemd_unit_verifies_and_serves_as_written() {
    let unit = deploy("pyck-server.service");
    let binary = common::server_bin();
    let dir = tempfile::tempdir().unwrap();

    // systemd's own check, with the binary where the unit expects one.
    let copy = dir.path().join("pyck-server.service");
    std::fs::write(
        &copy,
        unit.replace("/usr/local/bin/pyck-server", binary.to_str().unwrap()),
    )
    .unwrap();
    let verify = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&copy)
        .output()
        .expect("systemd-analyze runs (the machine's systemd package)");
    let said = String::from_utf8_lossy(&verify.stderr);
    assert!(verify.status.success() && said.trim().is_empty(), "{said}");
    for hardening in [
        "DynamicUser=yes",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "StateDirectory=pyck",
        "UMask=0077",
        "CapabilityBoundingSet=",
    ] {
        assert!(unit.lines().any(|l| l == hardening), "{hardening} missing");
    }

    // What systemd would start: the state directory made for the service,
    // its umask, its environment, its ExecStart.
    let state = dir.path().join("var-lib-pyck");
    std::fs::create_dir(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o700)).unwrap();
    let mut env = unit_environment(&unit);
    let db = env["PYCK_DB"].replace("/var/lib/pyck", state.to_str().unwrap());
    assert!(
        db.starts_with(state.to_str().unwrap()),
        "the database lives in the state directory"
    );
    env.insert("PYCK_DB".into(), db.clone());
    env.insert("PYCK_LISTEN".into(), "127.0.0.1:0".into());
    let exec: Vec<String> = unit_value(&unit, "ExecStart")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    assert_eq!(exec[0], "/usr/local/bin/pyck-server");
    let umask = unit_value(&unit, "UMask");
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("umask {umask} && exec \"$@\""))
        .arg("sh")
        .arg(&binary)
        .args(&exec[1..])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .envs(&env);
    serve_and_check(command, &state, Path::new(&db));
}

#[test]
fn the_container_image_runs_as_its_user_with_its_volume() {
    let file = deploy("Containerfile");
    let stage = final_stage(&file);
    let user = instruction(&stage, "USER");
    let (uid, gid) = user.split_once(':').unwrap();
    let (uid, gid): (u32, u32) = (uid.parse().unwrap(), gid.parse().unwrap());
    assert_ne!(uid, 0, "the image runs as a non-root user");
    let volume = json_array(instruction(&stage, "VOLUME"));
    assert_eq!(volume, ["/var/lib/pyck"]);
    let mut env = container_environment(&stage);
    assert!(
        env["PYCK_DB"].starts_with("/var/lib/pyck/"),
        "the database is on the volume"
    );
    let entrypoint = json_array(instruction(&stage, "ENTRYPOINT"));
    let cmd = json_array(instruction(&stage, "CMD"));
    assert_eq!(entrypoint, ["/usr/local/bin/pyck-server"]);
    // The build stage builds exactly that binary from the locked tree.
    assert!(file.contains("cargo build --release --locked -p pyck-server"));

    // The volume: a fresh directory owned by the image's user.
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let state: PathBuf = dir.path().join("volume");
    std::fs::create_dir(&state).unwrap();
    Command::new("chown")
        .arg(format!("{uid}:{gid}"))
        .arg(&state)
        .status()
        .unwrap();
    assert_eq!(std::fs::metadata(&state).unwrap().uid(), uid);
    let db = env["PYCK_DB"].replace("/var/lib/pyck", state.to_str().unwrap());
    env.insert("PYCK_DB".into(), db.clone());
    env.insert("PYCK_LISTEN".into(), "127.0.0.1:0".into());
    // The binary must be reachable by that user: a copy it may execute.
    let bin = dir.path().join("pyck-server");
    std::fs::copy(common::server_bin(), &bin).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut command = Command::new("setpriv");
    command
        .args([
            "--reuid",
            &uid.to_string(),
            "--regid",
            &gid.to_string(),
            "--clear-groups",
        ])
        .arg(&bin)
        .args(&cmd)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", &state)
        .envs(&env);
    serve_and_check(command, &state, Path::new(&db));
    assert_eq!(
        std::fs::metadata(&db).unwrap().uid(),
        uid,
        "the database is the user's"
    );
}
