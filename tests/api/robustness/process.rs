//! Running the compiled binary as a separate process, with none of the host's settings.

use std::net::{IpAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};

const BINARY: &str = env!("CARGO_BIN_EXE_fastcall-emulator");

pub(super) fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().unwrap().port()
}

/// This machine's address on its way out, if it has one besides loopback (a UDP "connect"
/// only picks a route; it sends nothing).
pub(super) fn other_local_address() -> Option<IpAddr> {
    let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

/// Waits for the process to exit, killing it after `limit`.
fn wait_for_exit(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("the process can be waited for") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the emulator did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A running emulator process, logging to a file.
pub(super) struct Emulator {
    pub base_url: String,
    child: Child,
    log: PathBuf,
}

impl Emulator {
    /// Starts the binary with none of the host's settings, over a SQLite file in `dir`,
    /// with `args` and `envs`, and waits until `base_url` answers `/livez`.
    pub async fn start(
        dir: &Path,
        args: &[&str],
        envs: &[(&str, &str)],
        base_url: String,
    ) -> Emulator {
        let log = dir.join("emulator.log");
        let database = format!("sqlite:{}", dir.join("emulator.db").display());
        let child = Command::new(BINARY)
            .env_clear()
            .envs(envs.iter().copied())
            .args(["--database-url", &database])
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("the binary starts");
        let mut emulator = Emulator {
            child,
            base_url,
            log,
        };
        emulator.wait_until_live().await;
        emulator
    }

    /// A separate process has no harness to bind first for it: poll, bounded.
    async fn wait_until_live(&mut self) {
        let client = reqwest::Client::new();
        for _ in 0..300 {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("the emulator exited with {status}: {}", self.stderr());
            }
            let live = client.get(format!("{}/livez", self.base_url)).send().await;
            if live.is_ok_and(|r| r.status() == StatusCode::OK) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = self.child.kill();
        panic!("the emulator did not come up: {}", self.stderr());
    }

    /// The log so far, without terminal colours.
    pub fn stderr(&self) -> String {
        strip_ansi(&std::fs::read_to_string(&self.log).unwrap_or_default())
    }

    /// SIGTERM, then the exit status and the whole log.
    pub fn terminate(mut self) -> (ExitStatus, String) {
        let pid = self.child.id().to_string();
        let kill = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(kill.success());
        let status = wait_for_exit(&mut self.child, Duration::from_secs(30));
        (status, self.stderr())
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> StatusCode {
        let mut request =
            reqwest::Client::new().request(method, format!("{}{path}", self.base_url));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_owned());
        }
        request.send().await.expect("answered").status()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Removes `ESC [ ... letter` sequences, so that colours cannot split what is searched for.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
