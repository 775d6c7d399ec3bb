//! `seam demo --once` as a new user runs it: the summary's figures match the ledger file line for line.

use std::process::Command;

fn dollars_to_minor(text: &str) -> i64 {
    let digits: String = text.chars().filter(|c| c.is_ascii_digit()).collect();
    digits.parse().unwrap()
}

#[test]
fn the_demo_summary_matches_the_ledger_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let output = Command::new(env!("CARGO_BIN_EXE_seam"))
        .args(["demo", "--once", "--seconds-per-day", "0.1", "--invoices", "30", "--listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(&data)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "exit {:?}\n{stdout}\n{stderr}", output.status);

    // The ledger file, as finance would read it.
    let ledger = data.join("ledger.csv");
    assert!(stdout.contains(&ledger.display().to_string()), "the summary names the ledger file:\n{stdout}");
    let mut reader = csv::Reader::from_path(&ledger).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col =
        |name: &str| headers.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
    let (invoice, outcome, recovered) = (col("invoice"), col("outcome"), col("recovered_minor"));
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert!(!rows.is_empty(), "the demo recorded outcomes");
    let recovered_rows: Vec<&csv::StringRecord> =
        rows.iter().filter(|r| r[recovered].parse::<i64>().unwrap() > 0).collect();
    let recovered_minor: i64 = recovered_rows.iter().map(|r| r[recovered].parse::<i64>().unwrap()).sum();

    let line = |label: &str| {
        stdout
            .lines()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("no `{label}` in\n{stdout}"))
    };
    let failed: usize = line("failed invoices").split_whitespace().last().unwrap().parse().unwrap();
    assert_eq!(failed, 30);
    let recovered_line: Vec<&str> = line("recovered").split_whitespace().collect();
    assert_eq!(recovered_line[1].parse::<usize>().unwrap(), recovered_rows.len(), "{recovered_line:?}");
    assert_eq!(dollars_to_minor(recovered_line[2]), recovered_minor, "{recovered_line:?}");
    let ledger_line = line("Ledger file:");
    assert!(ledger_line.contains(&format!("({} lines", rows.len())), "{ledger_line}");
    // Every ledger line is in the summary's table, with its outcome and amount.
    for row in &rows {
        let shown = stdout
            .lines()
            .find(|l| l.contains(&row[invoice]))
            .unwrap_or_else(|| panic!("invoice {} missing from the summary", &row[invoice]));
        assert!(shown.contains(&row[outcome]), "{shown}");
        let cents: i64 = row[recovered].parse().unwrap();
        assert!(shown.contains(&format!("${}.{:02}", cents / 100, cents % 100)), "{shown}");
    }
    // Escalations are the open inbox items; the summary counts the lines it lists.
    let escalated: usize = line("escalated to finance").split_whitespace().nth(3).unwrap().parse().unwrap();
    let listed = stdout.lines().filter(|l| l.trim_start().starts_with("Invoice SEAM-")).count();
    assert_eq!(escalated, listed);
    assert_eq!(
        rows.len() + escalated,
        failed,
        "every failed invoice is either recorded or waiting for finance"
    );
    // Nothing is left running: the database and ledger stay, the process is gone.
    assert!(data.join("seam.db").exists());
}

/// Reads a child's stdout line by line on a thread, so the test can wait for a line without blocking forever.
fn lines_of(child: &mut std::process::Child) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let stdout = child.stdout.take().unwrap();
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if send.send(line).is_err() {
                return;
            }
        }
    });
    receive
}

fn wait_for_line(lines: &std::sync::mpsc::Receiver<String>, needle: &str, seen: &mut Vec<String>) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while std::time::Instant::now() < deadline {
        if let Ok(line) = lines.recv_timeout(std::time::Duration::from_millis(200)) {
            seen.push(line.clone());
            if line.contains(needle) {
                return line;
            }
        }
    }
    panic!("no line containing {needle:?}; saw:\n{}", seen.join("\n"));
}

fn signal(child: &std::process::Child, name: &str) {
    let status = Command::new("kill").args([name, &child.id().to_string()]).status().unwrap();
    assert!(status.success());
}

fn wait_exit(child: &mut std::process::Child) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(std::time::Instant::now() < deadline, "did not exit after the signal");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn the_interactive_demo_leaves_nothing_running_after_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_seam"))
        .args([
            "demo",
            "--seconds-per-day",
            "0.05",
            "--invoices",
            "5",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(dir.path().join("demo"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let lines = lines_of(&mut child);
    let mut seen = Vec::new();
    let at = wait_for_line(&lines, "the engine is at ", &mut seen);
    let url = at.rsplit(' ').next().unwrap().to_owned();
    wait_for_line(&lines, "press ctrl-c", &mut seen);
    let addr = url.trim_start_matches("http://").to_owned();
    assert!(std::net::TcpStream::connect(&addr).is_ok(), "the engine serves while the demo waits");
    signal(&child, "-INT");
    let status = wait_exit(&mut child);
    assert!(status.success(), "{status:?}");
    assert!(std::net::TcpStream::connect(&addr).is_err(), "nothing listens at {addr} after ctrl-c");
}

#[test]
fn seam_trigger_sends_a_signed_event_that_starts_a_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("playbooks")).unwrap();
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../playbooks/failed-payment-recovery.toml"),
        dir.path().join("playbooks/failed-payment-recovery.toml"),
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let secret = "whsec_trigger_test";
    let mut serve = Command::new(env!("CARGO_BIN_EXE_seam"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--db", "sqlite:seam.db"])
        .current_dir(dir.path())
        .env("SEAM_STRIPE_WEBHOOK_SECRET", secret)
        .env("SEAM_STRIPE_API_KEY", "sk_test_x")
        .env("SEAM_STRIPE_BASE_URL", "http://127.0.0.1:9")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let lines = lines_of(&mut serve);
    let mut seen = Vec::new();
    let serving = wait_for_line(&lines, "serving on", &mut seen);
    assert!(serving.contains("failed-payment-recovery"), "{serving}");
    let url = format!("http://127.0.0.1:{port}/webhooks/stripe");

    let trigger = |event: &str, extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_seam"))
            .args(["trigger", "stripe", event, "--to", &url, "--secret", secret])
            .args(extra)
            .output()
            .unwrap()
    };
    let sent = trigger("invoice.payment_failed", &["--invoice", "in_trigger_test_1"]);
    let stdout = String::from_utf8_lossy(&sent.stdout);
    assert!(sent.status.success(), "{stdout}{}", String::from_utf8_lossy(&sent.stderr));
    assert!(stdout.contains("answer: 200"), "{stdout}");
    assert!(stdout.contains("\"accepted\""), "{stdout}");
    // The run exists and waits for its first retry; invoice.paid for the same invoice cancels it.
    let sent = trigger("invoice.paid", &["--invoice", "in_trigger_test_1"]);
    assert!(sent.status.success());
    // A wrong secret is refused by Seam, and `seam trigger` says so with a non-zero exit.
    let refused = Command::new(env!("CARGO_BIN_EXE_seam"))
        .args(["trigger", "stripe", "invoice.payment_failed", "--to", &url, "--secret", "whsec_wrong"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("400"));
    // An unknown event type is a usage error.
    let unknown = trigger("invoice.exploded", &[]);
    assert_eq!(unknown.status.code(), Some(2));

    // Routing is asynchronous: wait (reading the audit log from another process) until the cancel landed.
    let export = || {
        let output = Command::new(env!("CARGO_BIN_EXE_seam"))
            .args(["audit", "export", "--db", "sqlite:seam.db", "--format", "json"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut audit = export();
    while !audit.contains("\"kind\":\"cancelled\"") && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
        audit = export();
    }
    assert!(audit.contains("\"kind\":\"started\""), "{audit}");
    assert!(audit.contains("\"kind\":\"cancelled\""), "{audit}");
    signal(&serve, "-TERM");
    assert!(wait_exit(&mut serve).success());
}
