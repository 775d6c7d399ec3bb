//! Shared helpers for the binary's integration tests: run the real `seam` binary in a fresh temporary directory.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

#[derive(Debug)]
pub struct World {
    pub dir: tempfile::TempDir,
}

#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Default for World {
    fn default() -> World {
        World::new()
    }
}

impl World {
    pub fn new() -> World {
        World { dir: tempfile::tempdir().expect("temp dir") }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).expect("write fixture");
        path
    }

    /// Runs `seam ARGS` in the world's directory, feeding `stdin`.
    pub fn seam_with_input(&self, args: &[&str], stdin: &str) -> Run {
        use std::io::Write as _;
        let mut child = Command::new(env!("CARGO_BIN_EXE_seam"))
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("NO_COLOR")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start seam");
        let mut child_stdin = child.stdin.take().expect("stdin");
        // The wizard may stop reading early (a refused file); a broken pipe then is expected.
        let _ = child_stdin.write_all(stdin.as_bytes());
        drop(child_stdin);
        let output: Output = child.wait_with_output().expect("wait for seam");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    pub fn seam(&self, args: &[&str]) -> Run {
        self.seam_with_input(args, "")
    }

    /// `seam ARGS` with only these `SEAM_*` variables set (none from the developer's shell).
    pub fn seam_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_seam"));
        command.args(args).current_dir(self.dir.path()).stdin(Stdio::null());
        for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("SEAM_")) {
            command.env_remove(name);
        }
        command.envs(env.iter().copied());
        let output: Output = command.output().expect("run seam");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl World {
    /// A new API token from `seam tokens create --db DB --name NAME --role ROLE`: its secret, the one line the
    /// command prints on standard output.
    pub fn token(&self, db: &str, name: &str, role: &str) -> String {
        let run = self.seam_with_env(&["tokens", "create", "--db", db, "--name", name, "--role", role], &[]);
        assert_eq!(run.code, 0, "seam tokens create: {}", run.stderr);
        let secret = run.stdout.trim().to_owned();
        assert!(secret.starts_with("seam_") && !secret.contains('\n'), "{:?}", run.stdout);
        secret
    }
}

/// The repository's `examples/` folder.
pub fn example(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples").join(name);
    path.canonicalize().unwrap_or(path).display().to_string()
}
