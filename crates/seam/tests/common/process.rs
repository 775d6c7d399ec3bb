//! Long-running `seam` child processes for black-box tests: their output drained by threads (so a chatty log
//! never blocks them), killed when dropped, and a free port to give them.

#![allow(dead_code)]

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Environment variables that would change what `seam` does if the developer's shell happened to set them.
pub const SEAM_ENV: &[&str] = &[
    "SEAM_DB",
    "SEAM_LISTEN",
    "SEAM_LOG",
    "SEAM_STRIPE_WEBHOOK_SECRET",
    "SEAM_STRIPE_API_KEY",
    "SEAM_STRIPE_BASE_URL",
    "SEAM_SHOPIFY_WEBHOOK_SECRET",
    "SEAM_ZENDESK_WEBHOOK_SECRET",
];

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A running `seam` process.
pub struct Process {
    child: Child,
    stdout: Option<JoinHandle<String>>,
    stderr: Option<JoinHandle<String>>,
    name: String,
}

impl Process {
    /// `seam ARGS` in `dir` with a clean environment plus `env`.
    pub fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Process {
        let mut command = Command::new(env!("CARGO_BIN_EXE_seam"));
        command
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for name in SEAM_ENV {
            command.env_remove(name);
        }
        command.envs(env.iter().copied());
        let mut child = command.spawn().expect("start seam");
        let drain = |mut pipe: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                let _ = pipe.read_to_end(&mut bytes);
                String::from_utf8_lossy(&bytes).into_owned()
            })
        };
        let stdout = drain(Box::new(child.stdout.take().unwrap()));
        let stderr = drain(Box::new(child.stderr.take().unwrap()));
        Process {
            child,
            stdout: Some(stdout),
            stderr: Some(stderr),
            name: format!("seam {}", args.join(" ")),
        }
    }

    /// Waits until `url` answers (any HTTP status), or panics with the process's output.
    pub fn wait_until_answering(&mut self, url: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if ureq_like_get(url).is_some() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                let (out, err) = self.output();
                panic!("{} exited early ({status})\nstdout:\n{out}\nstderr:\n{err}", self.name);
            }
            if Instant::now() > deadline {
                let (out, err) = self.stop();
                panic!("{} never answered at {url}\nstdout:\n{out}\nstderr:\n{err}", self.name);
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Kills the process; what it wrote.
    pub fn stop(&mut self) -> (String, String) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.output()
    }

    fn output(&mut self) -> (String, String) {
        let stdout = self.stdout.take().map(|t| t.join().unwrap()).unwrap_or_default();
        let stderr = self.stderr.take().map(|t| t.join().unwrap()).unwrap_or_default();
        (stdout, stderr)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A bare HTTP/1.1 GET over a TCP stream: the status code, if anything answered.
fn ureq_like_get(url: &str) -> Option<u16> {
    use std::io::Write as _;
    let rest = url.strip_prefix("http://")?;
    let (host, path) = rest.split_once('/').map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
    let mut stream = std::net::TcpStream::connect(host).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}
