//! What an operator meets, run as the real `seam` binary in a fresh temporary directory: logs in a file have no
//! colour codes, `/metrics` exports every documented metric from start-up, `--help` describes every flag and says
//! its default, `audit export` never creates a database, a closed pipe ends quietly, and no document refers to a
//! file that is not in the repository.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// Environment variables that would change what `seam` does if the developer's shell happened to set them.
const SEAM_ENV: &[&str] = &[
    "SEAM_DB",
    "SEAM_LISTEN",
    "SEAM_LOG",
    "SEAM_STRIPE_WEBHOOK_SECRET",
    "SEAM_STRIPE_API_KEY",
    "SEAM_STRIPE_BASE_URL",
    "NO_COLOR",
];

/// The repository's root folder.
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn seam_command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_seam"));
    command.args(args).current_dir(dir).stdin(Stdio::null());
    for name in SEAM_ENV {
        command.env_remove(name);
    }
    command
}

fn seam(dir: &Path, args: &[&str]) -> Output {
    seam_command(dir, args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `seam serve` on a free port in `dir`, its logs (standard error) going to a file, as a service manager or
/// `seam serve 2> seam.log` would have them.
struct Served {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Served {
    fn start(dir: &Path, env: &[(&str, &str)]) -> Served {
        let log = dir.join("seam.log");
        let mut command = seam_command(
            dir,
            &["serve", "--listen", "127.0.0.1:0", "--db", "sqlite:seam.db", "--log-format", "text"],
        );
        command.envs(env.iter().copied());
        let mut child =
            command.stdout(Stdio::piped()).stderr(std::fs::File::create(&log).unwrap()).spawn().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let serving = lines.next().and_then(Result::ok).unwrap_or_else(|| {
            panic!("seam serve printed nothing; log:\n{}", std::fs::read_to_string(&log).unwrap())
        });
        let url = serving
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in {serving:?}"))
            .to_owned();
        // Keep reading standard output so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Served { child, url, log }
    }

    /// SIGTERM, then its exit status.
    fn stop(mut self) -> ExitStatus {
        Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "seam serve did not stop after SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP/1.1 GET on a std socket: the status and the body.
fn get(url: &str) -> (u16, String) {
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_once('/').map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default())
}

// ----- logs and metrics --------------------------------------------------------------------------------------------

#[test]
fn logs_written_to_a_file_have_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start(dir.path(), &[]);
    let log_path = served.log.clone();
    assert!(served.stop().success());
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.contains("seam is serving"), "the log has the start-up line:\n{log}");
    assert!(!log.contains('\u{1b}'), "a log file has colour codes:\n{log:?}");
}

/// Every metric name docs/engine.md lists in its `GET /metrics` row.
fn documented_metrics() -> Vec<String> {
    let doc = std::fs::read_to_string(repo().join("docs/engine.md")).unwrap();
    let row =
        doc.lines().find(|line| line.contains("`GET /metrics`")).expect("docs/engine.md has a /metrics row");
    let names: Vec<String> = row
        .split('`')
        .filter(|part| part.starts_with("seam_"))
        .map(|part| part.split('{').next().unwrap().to_owned())
        .collect();
    assert!(names.len() >= 10, "the /metrics row names the metrics: {row}");
    names
}

#[test]
fn every_documented_metric_is_exported_from_start_up_at_zero() {
    let dir = tempfile::tempdir().unwrap();
    let playbooks = dir.path().join("playbooks");
    std::fs::create_dir(&playbooks).unwrap();
    std::fs::copy(
        repo().join("playbooks/failed-payment-recovery.toml"),
        playbooks.join("failed-payment-recovery.toml"),
    )
    .unwrap();
    let served = Served::start(
        dir.path(),
        &[
            ("SEAM_STRIPE_WEBHOOK_SECRET", "whsec_metrics_test"),
            ("SEAM_STRIPE_API_KEY", "sk_test_metrics"),
            ("SEAM_STRIPE_BASE_URL", "http://127.0.0.1:9"),
        ],
    );
    let (status, metrics) = get(&format!("{}/metrics", served.url));
    assert_eq!(status, 200, "{metrics}");
    let samples: Vec<&str> = metrics.lines().filter(|line| !line.starts_with('#')).collect();
    for name in documented_metrics() {
        let series: Vec<&&str> = samples
            .iter()
            .filter(|line| line.strip_prefix(name.as_str()).is_some_and(|rest| rest.starts_with(['{', ' '])))
            .collect();
        assert!(!series.is_empty(), "{name} is documented but not exported at start-up:\n{metrics}");
        assert!(
            series.iter().any(|line| line.ends_with(" 0")),
            "{name} shows no zero at start-up: {series:?}"
        );
    }
    // Labelled counters show every value they are known to take.
    for line in [
        "seam_webhooks_total{source=\"stripe\",outcome=\"accepted\"} 0",
        "seam_webhooks_total{source=\"stripe\",outcome=\"bad_signature\"} 0",
        "seam_runs_started_total{workflow=\"failed-payment-recovery\"} 0",
        "seam_calls_total{action=\"stripe.pay_invoice\",result=\"ok\"} 0",
        "seam_decisions_total{decision=\"dismissed\"} 0",
        "seam_runs{status=\"running\"} 0",
        "seam_events{status=\"pending\"} 0",
    ] {
        assert!(samples.contains(&line), "no `{line}` at start-up:\n{metrics}");
    }
    assert!(served.stop().success());
}

// ----- help ----------------------------------------------------------------------------------------------------

/// One entry of a help text's `Options:` or `Arguments:` section: what it is (`--db <URL>`), and its description.
#[derive(Debug)]
struct HelpEntry {
    spec: String,
    description: String,
}

/// The sections of one `--help` text: subcommand names, options and arguments, and the usage line.
#[derive(Debug, Default)]
struct Help {
    usage: String,
    commands: Vec<String>,
    entries: Vec<HelpEntry>,
}

fn parse_help(text: &str) -> Help {
    let mut help = Help::default();
    let mut section = "";
    for line in text.lines() {
        if let Some(usage) = line.strip_prefix("Usage: ") {
            help.usage = usage.to_owned();
            continue;
        }
        if !line.starts_with(' ') {
            section = line.trim_end_matches(':');
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim();
        match section {
            "Commands" if indent == 2 => {
                help.commands.push(trimmed.split_whitespace().next().unwrap().to_owned());
            }
            "Options" | "Arguments" => {
                let starts_entry = match section {
                    "Options" => indent <= 6 && trimmed.starts_with('-'),
                    _ => indent == 2 && trimmed.starts_with(['<', '[']),
                };
                if starts_entry {
                    let (spec, description) = trimmed.split_once("  ").unwrap_or((trimmed, ""));
                    help.entries.push(HelpEntry {
                        spec: spec.to_owned(),
                        description: description.trim().to_owned(),
                    });
                } else if let Some(entry) = help.entries.last_mut() {
                    entry.description.push(' ');
                    entry.description.push_str(trimmed);
                }
            }
            _ => {}
        }
    }
    help
}

#[test]
fn help_describes_every_flag_and_says_its_default() {
    let dir = tempfile::tempdir().unwrap();
    let mut problems = Vec::new();
    let mut checked = 0;
    // Every command and subcommand there is, found from the help itself.
    let mut queue: Vec<Vec<String>> = vec![Vec::new()];
    while let Some(path) = queue.pop() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let output = seam(dir.path(), &args);
        let shown = format!("seam {}", path.join(" "));
        assert!(output.status.success(), "{shown} --help failed: {}", text(&output.stderr));
        let help = parse_help(&text(&output.stdout));
        for command in help.commands.iter().filter(|command| *command != "help") {
            let mut sub = path.clone();
            sub.push(command.clone());
            queue.push(sub);
        }
        for entry in &help.entries {
            checked += 1;
            if entry.description.is_empty() {
                problems.push(format!("{shown}: {} has no description", entry.spec));
            }
            // A flag that takes a value says what it is when left out, unless it must be given.
            let flag = entry.spec.split([',', ' ']).find(|word| word.starts_with("--")).unwrap_or_default();
            let takes_value = entry.spec.starts_with('-') && entry.spec.contains('<');
            let required =
                !flag.is_empty() && help.usage.split(['[', ']']).step_by(2).any(|part| part.contains(flag));
            if takes_value && !required && !entry.description.to_lowercase().contains("default") {
                problems.push(format!(
                    "{shown}: {} does not say its default: {:?}",
                    entry.spec, entry.description
                ));
            }
        }
    }
    assert!(checked > 40, "the walk found the commands' flags ({checked})");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ----- audit export and pipes ----------------------------------------------------------------------------------

#[test]
fn audit_export_never_creates_or_changes_a_database() {
    let dir = tempfile::tempdir().unwrap();
    // A missing file: a usage error that names it, and nothing is created.
    let missing = seam(dir.path(), &["audit", "export", "--db", "sqlite:missing.db", "--format", "json"]);
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing.stderr));
    assert!(text(&missing.stderr).contains("missing.db"), "{}", text(&missing.stderr));
    assert!(!dir.path().join("missing.db").exists(), "audit export created the database");
    // A file that is not a Seam database (here an empty one) is not given a schema.
    std::fs::write(dir.path().join("empty.db"), "").unwrap();
    let empty = seam(dir.path(), &["audit", "export", "--db", "sqlite:empty.db", "--format", "csv"]);
    assert_eq!(empty.status.code(), Some(1), "{}{}", text(&empty.stdout), text(&empty.stderr));
    assert!(text(&empty.stderr).contains("seam migrate"), "says how to make one: {}", text(&empty.stderr));
    assert_eq!(
        std::fs::metadata(dir.path().join("empty.db")).unwrap().len(),
        0,
        "audit export wrote to empty.db"
    );
    // The help says so too.
    let help = text(&seam(dir.path(), &["audit", "export", "--help"]).stdout);
    assert!(!help.contains("created on first"), "audit export's help promises to create a database:\n{help}");
    assert!(help.contains("never created"), "audit export's help says it creates nothing:\n{help}");
}

/// Runs `seam ARGS` with its standard output closed before it writes anything, as `seam ... | head -1` leaves it
/// once `head` has its line; the exit status and standard error.
fn with_closed_stdout(dir: &Path, args: &[&str]) -> (ExitStatus, String) {
    let mut child = seam_command(dir, args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    drop(child.stdout.take());
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    (child.wait().unwrap(), stderr)
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    // A database with an audit log to export: a short demo leaves one.
    let demo = seam(
        dir.path(),
        &[
            "demo",
            "--once",
            "--invoices",
            "2",
            "--seconds-per-day",
            "0.02",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            "d",
        ],
    );
    assert!(demo.status.success(), "{}", text(&demo.stderr));
    let example = repo().join("examples/apparel-12m.toml").display().to_string();
    let playbooks = repo().join("playbooks").display().to_string();
    for args in [
        vec!["audit", "export", "--db", "sqlite:d/seam.db", "--format", "json"],
        vec!["audit", "export", "--db", "sqlite:d/seam.db", "--format", "csv"],
        vec!["assess", "report", &example],
        vec!["assess", "report", &example, "--format", "json"],
        vec!["workflows", "check", &playbooks],
    ] {
        let (status, stderr) = with_closed_stdout(dir.path(), &args);
        assert!(status.success(), "seam {} into a closed pipe: {status:?}\n{stderr}", args.join(" "));
        assert!(stderr.is_empty(), "seam {} into a closed pipe said:\n{stderr}", args.join(" "));
    }
}

// ----- documents -----------------------------------------------------------------------------------------------

/// The documents: every Markdown file in the repository, and the playbooks (whose comments are documentation).
fn documents(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut folders = vec![root.to_owned()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if !matches!(name.as_str(), "target" | ".git" | "node_modules") {
                    folders.push(path);
                }
            } else if name.ends_with(".md")
                || (path.parent() == Some(&root.join("playbooks")) && name.ends_with(".toml"))
            {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Whether a path has a placeholder in it (`DIR/seam.db`, `playbooks/*.toml`, `{id}`), so it names no one file.
fn is_placeholder(path: &str) -> bool {
    path.contains(|c: char| c.is_whitespace() || "*{}<>…$=:|".contains(c)) || path.contains("...")
}

/// The repository paths a document refers to: link targets; backticked paths that start with a folder or file of
/// the repository (or with a crate's `src/`, `tests/`, ...); any other word that starts with one of the
/// repository's folders, as in a command in a code block (`assess report examples/apparel-12m.toml`); and bare
/// `NAME.md` words.
fn references(text: &str, top: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    let is_top = |first: &str| top.iter().any(|name| name == first);
    // Markdown links: [text](target).
    for piece in text.split("](").skip(1) {
        let target = piece.split([')', ' ']).next().unwrap_or_default();
        let is_url = target.contains("://") || target.starts_with("mailto:") || target.starts_with('#');
        if !target.is_empty() && !is_url {
            found.push(target.split('#').next().unwrap().to_owned());
        }
    }
    // Backticked paths.
    let crate_relative = ["src", "tests", "benches", "migrations", "templates"];
    for (n, span) in text.split('`').enumerate() {
        let first = span.split('/').next().unwrap_or_default();
        let rooted = is_top(first) || crate_relative.contains(&first);
        if n % 2 == 1 && !is_placeholder(span) && rooted && (span.contains('/') || span.contains('.')) {
            found.push(span.to_owned());
        }
    }
    // Words that start with one of the repository's folders.
    for word in text.split(|c: char| c.is_whitespace() || "`()[],;\"'".contains(c)) {
        let word = word.trim_end_matches(['.', ':']);
        let is_folder = word.split_once('/').is_some_and(|(first, _)| is_top(first));
        if is_folder && !is_placeholder(word) {
            found.push(word.to_owned());
        }
    }
    // Bare mentions of another document.
    for word in text.split(|c: char| !(c.is_alphanumeric() || "._/-".contains(c))) {
        let word = word.trim_end_matches('.');
        if word.ends_with(".md") && !word.contains("://") {
            found.push(word.to_owned());
        }
    }
    found.sort();
    found.dedup();
    found
}

#[test]
fn no_document_refers_to_a_file_that_is_not_in_the_repository() {
    let root = repo();
    let top: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != "target" && name != ".git")
        .collect();
    let crates: Vec<PathBuf> =
        std::fs::read_dir(root.join("crates")).unwrap().map(|entry| entry.unwrap().path()).collect();
    let documents = documents(&root);
    assert!(documents.len() >= 6, "found the documents: {documents:?}");
    let mut missing = Vec::new();
    for document in &documents {
        let text = std::fs::read_to_string(document).unwrap();
        let folder = document.parent().unwrap();
        for reference in references(&text, &top) {
            // A path may be written from the repository's root, from the document's folder, or from a crate's.
            let bases = [root.as_path(), folder].into_iter().chain(crates.iter().map(PathBuf::as_path));
            if !bases.into_iter().any(|base| base.join(&reference).exists()) {
                missing.push(format!("{}: {reference}", document.strip_prefix(&root).unwrap().display()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "documents refer to files that are not in the repository:\n{}",
        missing.join("\n")
    );
}
