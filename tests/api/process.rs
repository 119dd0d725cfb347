//! Running the compiled binary as a separate process, with none of the host's settings:
//! what only a real process shows (its log, its exit, `kill -9`, the address it binds).

use std::net::{IpAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};

const BINARY: &str = env!("CARGO_BIN_EXE_fastcall-emulator");

pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().unwrap().port()
}

/// This machine's address on its way out, if it has one besides loopback (a UDP "connect"
/// only picks a route; it sends nothing).
pub fn other_local_address() -> Option<IpAddr> {
    let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

/// The binary's command with none of the host's settings: no DATABASE_URL, FASTCALL_* or
/// RUST_LOG can leak in.
pub fn command() -> Command {
    let mut command = Command::new(BINARY);
    command.env_clear();
    command
}

/// Waits for the process to exit, killing it after `limit`.
pub fn wait_for_exit(child: &mut Child, limit: Duration) -> ExitStatus {
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
pub struct Emulator {
    pub base_url: String,
    child: Child,
    log: PathBuf,
}

impl Emulator {
    /// Starts the binary with none of the host's settings, only `args` and `envs`, in `dir`
    /// (where its default SQLite file goes), logging to `dir/<log_name>`, and waits until
    /// `base_url` answers `/readyz`.
    pub async fn start(
        dir: &Path,
        log_name: &str,
        args: &[&str],
        envs: &[(&str, &str)],
        base_url: String,
    ) -> Emulator {
        let log = dir.join(log_name);
        let child = command()
            .envs(envs.iter().copied())
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("a log file"))
            .spawn()
            .expect("the binary starts");
        let mut emulator = Emulator {
            child,
            base_url,
            log,
        };
        emulator.wait_until_ready().await;
        emulator
    }

    /// Starts the binary on a free port of 127.0.0.1 over `database_url`, with `args`.
    pub async fn start_local(
        dir: &Path,
        log_name: &str,
        database_url: &str,
        args: &[&str],
    ) -> Emulator {
        let args = [&["--database-url", database_url], args].concat();
        Self::start_on_free_port(dir, log_name, &args, &[]).await
    }

    /// Starts the binary on a free port of 127.0.0.1 over `database_url`, given as
    /// `DATABASE_URL` in its environment rather than as the flag, with `args`.
    pub async fn start_local_via_env(
        dir: &Path,
        log_name: &str,
        database_url: &str,
        args: &[&str],
    ) -> Emulator {
        Self::start_on_free_port(dir, log_name, args, &[("DATABASE_URL", database_url)]).await
    }

    async fn start_on_free_port(
        dir: &Path,
        log_name: &str,
        args: &[&str],
        envs: &[(&str, &str)],
    ) -> Emulator {
        let addr = format!("127.0.0.1:{}", free_port());
        let args = [&["--addr", addr.as_str()], args].concat();
        Self::start(dir, log_name, &args, envs, format!("http://{addr}")).await
    }

    /// A separate process has no harness to bind first for it: poll, bounded.
    async fn wait_until_ready(&mut self) {
        let client = crate::helpers::http().build().unwrap();
        for _ in 0..600 {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("the emulator exited with {status}: {}", self.stderr());
            }
            let ready = client.get(format!("{}/readyz", self.base_url)).send().await;
            if ready.is_ok_and(|r| r.status() == StatusCode::OK) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = self.child.kill();
        panic!("the emulator did not become ready: {}", self.stderr());
    }

    /// The log so far, without terminal colours.
    pub fn stderr(&self) -> String {
        strip_ansi(&self.stderr_as_written())
    }

    /// The log so far, byte for byte.
    pub fn stderr_as_written(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, then the exit status and the whole log.
    pub fn terminate(self) -> (ExitStatus, String) {
        self.stop_with("TERM")
    }

    /// SIGINT, as Ctrl-C in a terminal sends it, then the exit status and the whole log.
    pub fn interrupt(self) -> (ExitStatus, String) {
        self.stop_with("INT")
    }

    fn stop_with(mut self, signal: &str) -> (ExitStatus, String) {
        let pid = self.child.id().to_string();
        let kill = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .expect("kill runs");
        assert!(kill.success());
        let status = wait_for_exit(&mut self.child, Duration::from_secs(30));
        (status, self.stderr())
    }

    /// SIGKILL: no graceful stop, no flush.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL is sent");
        self.child.wait().expect("the killed process is reaped");
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> StatusCode {
        let mut request = crate::helpers::http()
            .build()
            .unwrap()
            .request(method, format!("{}{path}", self.base_url));
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
