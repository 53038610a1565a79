//! The real FHIR R4 test server (`scripts/fhir-test-server serve`: sekmet-fhir, installed by
//! `scripts/setup --test`), started on a free loopback port with the demo bundles loaded and
//! a SMART client whose key the test made. Killed when dropped. When it cannot start (not
//! installed, or it does not come up), a test is skipped, except under `CI=true`, where it
//! fails: the remote record source must be tested there.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct FhirServer {
    child: Child,
    pub base: String,
    pub token_url: String,
    pub pid: u32,
    dir: tempfile::TempDir,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The demo bundle of `patient` (alice, robert, carol).
pub fn demo_bundle(patient: &str) -> PathBuf {
    root().join(format!("app/src/record/demo/{patient}.json"))
}

fn cannot_start(why: &str) -> Option<FhirServer> {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("the FHIR test server cannot start ({why}): under CI the remote record source must be tested");
    }
    eprintln!("the FHIR test server cannot start ({why}): skipping a remote record source test (scripts/fhir-test-server install)");
    None
}

impl FhirServer {
    /// Starts the server with `jwks` (the client's public keys) for `client_id`, loading
    /// `loads`; `extra` goes on its command line (`--token-lifetime 4`). None when it cannot
    /// start and this is not CI.
    pub fn start(jwks: &serde_json::Value, client_id: &str, loads: &[PathBuf], extra: &[&str]) -> Option<FhirServer> {
        let script = root().join("scripts/fhir-test-server");
        if !root().join(".venv-fhir/bin/python").exists() {
            return cannot_start("not installed in .venv-fhir");
        }
        let dir = tempfile::tempdir().unwrap();
        let jwks_file = dir.path().join("client-jwks.json");
        std::fs::write(&jwks_file, jwks.to_string()).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
        let mut cmd = Command::new(script);
        cmd.arg("serve")
            .args(["--port", &port.to_string()])
            .args(["--dir", dir.path().join("data").to_str().unwrap()])
            .args(["--jwks", jwks_file.to_str().unwrap(), "--client-id", client_id])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .stdin(Stdio::null());
        for l in loads {
            cmd.arg("--load").arg(l);
        }
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => return cannot_start(&format!("spawn: {e}")),
        };
        let pid = child.id();
        // The first line on stdout: "ready <base> <token url>", once everything is loaded
        // (up to a minute on a machine busy compiling).
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(180)).unwrap_or_default();
        let mut parts = line.split_whitespace();
        match (parts.next(), parts.next(), parts.next()) {
            (Some("ready"), Some(base), Some(token_url)) => Some(FhirServer { child, base: base.to_string(), token_url: token_url.to_string(), pid, dir }),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
                cannot_start(&format!("no ready line; its log:\n{log}"))
            }
        }
    }

    /// Stops the process answering (`SIGSTOP`): connections are still accepted, nothing is
    /// answered, as with an EHR that hangs.
    pub fn pause(&self) {
        assert!(Command::new("kill").args(["-STOP", &self.pid.to_string()]).status().unwrap().success());
    }

    pub fn resume(&self) {
        assert!(Command::new("kill").args(["-CONT", &self.pid.to_string()]).status().unwrap().success());
    }

    /// What the server wrote to stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

impl Drop for FhirServer {
    fn drop(&mut self) {
        // A paused process takes SIGKILL too.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
