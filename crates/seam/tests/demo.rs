//! `seam demo` as a new user runs it: the summary has a section for each of the three playbooks, and its figures
//! match the ledger files line for line; the same seed tells the same story, `--once` points at what it left behind
//! rather than at a stopped server, and after the replay the clock runs at real speed.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// Runs `seam demo --once ARGS --data-dir DIR` to the end; its standard output.
fn demo_once(dir: &Path, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_seam"))
        .args(["demo", "--once", "--listen", "127.0.0.1:0"])
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("SEAM_LOG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "exit {:?}\n{stdout}\n{stderr}", output.status);
    stdout
}

/// The summary with what may differ between two runs of one seed masked: the data folder, and the Stripe ids the
/// sandbox draws at random (`in_…`, `cus_…`, Checkout Sessions' `cs_…`), which are names, not figures.
fn masked(summary: &str, data: &Path) -> String {
    const PREFIXES: [&str; 3] = ["in_", "cus_", "cs_"];
    let summary = summary.replace(&data.display().to_string(), "DATA");
    let mut out = String::new();
    let mut rest = summary.as_str();
    while let Some(at) = PREFIXES.iter().filter_map(|prefix| rest.find(prefix)).min() {
        let starts_word = at == 0 || !rest.as_bytes()[at - 1].is_ascii_alphanumeric();
        let prefix_len = PREFIXES.iter().find(|prefix| rest[at..].starts_with(**prefix)).unwrap().len();
        let id_len = rest[at + prefix_len..]
            .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .unwrap_or(rest.len() - at - prefix_len);
        out.push_str(&rest[..at]);
        if starts_word && id_len > 0 {
            out.push_str(&rest[at..at + prefix_len]);
            out.push_str("ID");
        } else {
            out.push_str(&rest[at..at + prefix_len + id_len]);
        }
        rest = &rest[at + prefix_len + id_len..];
    }
    out.push_str(rest);
    out
}

#[test]
fn the_same_seed_tells_the_same_story_figure_for_figure() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (dir.path().join("first"), dir.path().join("second"));
    let args = ["--seed", "11", "--invoices", "30", "--seconds-per-day", "0.02"];
    let one = masked(&demo_once(&first, &args), &first);
    let two = masked(&demo_once(&second, &args), &second);
    for section in ["Recovery summary", "=== Orders and the 3PL", "=== Tickets"] {
        assert!(one.contains(section), "no {section:?} in\n{one}");
    }
    let differences: Vec<String> = one
        .lines()
        .zip(two.lines())
        .filter(|(a, b)| a != b)
        .map(|(a, b)| format!("first:  {a}\nsecond: {b}"))
        .collect();
    assert!(
        one == two,
        "two runs with --seed 11 told different stories:\n{}\n\nfirst run:\n{one}\nsecond run:\n{two}",
        differences.join("\n")
    );
    // Another seed is another story (so the comparison above compares something).
    let third = dir.path().join("third");
    let other = masked(
        &demo_once(&third, &["--seed", "12", "--invoices", "30", "--seconds-per-day", "0.02"]),
        &third,
    );
    assert_ne!(one, other, "seeds 11 and 12 told the same story");
}

#[test]
fn once_points_at_what_it_left_behind_not_at_the_stopped_engine() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let stdout = demo_once(&data, &["--invoices", "5", "--seconds-per-day", "0.02"]);
    assert!(!stdout.contains("http://"), "--once links to an engine it has stopped:\n{stdout}");
    let db = data.join("seam.db").display().to_string();
    assert!(stdout.contains(&format!("seam serve --db sqlite:{db}")), "how to look at the data:\n{stdout}");
    assert!(data.join("seam.db").exists());
    for file in ["ledger.csv", "ledger-fulfillment.csv", "ledger-inventory.csv", "ledger-support.csv"] {
        assert!(stdout.contains(&data.join(file).display().to_string()), "the ledger file {file}:\n{stdout}");
        assert!(data.join(file).exists(), "{file} was left behind");
    }
}

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

    orders_section_matches_its_ledgers(&stdout, &data);
    tickets_section_matches_its_ledger(&stdout, &data);
}

/// A ledger file's lines, each by column name.
fn ledger_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|record| {
            let record = record.unwrap();
            headers.iter().zip(record.iter()).map(|(h, v)| (h.to_owned(), v.to_owned())).collect()
        })
        .collect()
}

/// The lines of the summary's `=== NAME` section, up to the next section or the closing notice.
fn section<'a>(stdout: &'a str, name: &str) -> Vec<&'a str> {
    let start =
        stdout.find(&format!("=== {name}")).unwrap_or_else(|| panic!("no section {name:?} in\n{stdout}"));
    stdout[start..]
        .lines()
        .skip(1)
        .take_while(|line| !line.starts_with("===") && !line.starts_with("The engine and the sandbox"))
        .collect()
}

/// The figure right after `label` on the section's line that starts with it.
fn figure(lines: &[&str], label: &str) -> usize {
    let line = lines
        .iter()
        .find(|line| line.trim_start().starts_with(label))
        .unwrap_or_else(|| panic!("no `{label}` in\n{}", lines.join("\n")));
    let rest = &line.trim_start()[label.len()..];
    rest.split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no figure in {line:?}"))
}

fn orders_section_matches_its_ledgers(stdout: &str, data: &Path) {
    let lines = section(stdout, "Orders and the 3PL");
    let text = lines.join("\n");
    let rows = ledger_rows(&data.join("ledger-fulfillment.csv"));
    let count = |keep: &dyn Fn(&BTreeMap<String, String>) -> bool| rows.iter().filter(|r| keep(r)).count();
    let handed = count(&|r| r["outcome"] == "handed_over");
    let waited = count(&|r| r["outcome"] == "handed_over" && r["decision"] == "wait_for_restock");
    let partial = count(&|r| r["outcome"] == "shipped_partial");
    let cancelled = count(&|r| r["outcome"] == "cancelled" || r["outcome"] == "cancel_in_stripe");
    assert!(text.contains(&format!("ledger-fulfillment.csv ({} lines)", rows.len())), "{text}");
    assert_eq!(figure(&lines, "handed to the 3PL"), handed + partial, "{text}");
    assert_eq!(figure(&lines, "all lines, at once"), handed - waited, "{text}");
    assert_eq!(figure(&lines, "after a restock"), waited, "{text}");
    assert_eq!(figure(&lines, "shipped partial"), partial, "{text}");
    assert_eq!(figure(&lines, "cancelled"), cancelled, "{text}");
    let waiting = figure(&lines, "waiting for a decision");
    let seen = figure(&lines, "orders seen");
    assert_eq!(seen, rows.len() + waiting, "every order is in the ledger or waits for a person:\n{text}");
    // A plausible month: most orders ship at once, and each of the three decisions was made.
    assert!(seen >= 20 && handed - waited >= seen / 2, "{text}");
    assert!(waited >= 1 && partial >= 1 && cancelled >= 1 && waiting >= 1, "{text}");

    // The exceptions: each decision the ledger records is listed once, with who made it; the rest are open.
    let listed: Vec<&str> = lines.iter().filter_map(|line| line.trim_start().strip_prefix("-> ")).collect();
    let mut decided: Vec<String> =
        listed.iter().filter(|l| !l.starts_with("open, assigned to ")).map(|l| (*l).to_owned()).collect();
    let mut recorded: Vec<String> = rows
        .iter()
        .filter(|r| r["decision"] != "none")
        .map(|r| format!("{} by {}", r["decision"], r["decided_by"]))
        .collect();
    decided.sort();
    recorded.sort();
    assert_eq!(decided, recorded, "{text}");
    assert_eq!(listed.len() - decided.len(), waiting, "{text}");
    assert!(text.contains(&format!("({} inbox items)", listed.len())), "{text}");

    // Drift: the SKUs the inventory ledger names, and how many of its lines name each.
    let drift = ledger_rows(&data.join("ledger-inventory.csv"));
    let mut per_sku: BTreeMap<String, usize> = BTreeMap::new();
    for row in &drift {
        let skus: Vec<String> = serde_json::from_str(&row["skus"]).unwrap();
        for sku in skus {
            *per_sku.entry(sku).or_default() += 1;
        }
    }
    assert!(!per_sku.is_empty(), "the seeded world drifts");
    let heading = lines.iter().find(|l| l.starts_with("SKUs whose counts drifted")).unwrap();
    assert!(
        heading.ends_with(&format!(": {} ({} lines in the inventory ledger)", per_sku.len(), drift.len())),
        "{heading}"
    );
    for (sku, orders) in &per_sku {
        let shown = lines
            .iter()
            .find(|l| l.split_whitespace().next() == Some(sku.as_str()))
            .unwrap_or_else(|| panic!("{sku} missing from\n{text}"));
        assert_eq!(shown.split_whitespace().nth(1), Some(orders.to_string().as_str()), "{shown}");
    }
}

fn tickets_section_matches_its_ledger(stdout: &str, data: &Path) {
    let lines = section(stdout, "Tickets");
    let text = lines.join("\n");
    let rows = ledger_rows(&data.join("ledger-support.csv"));
    let count = |outcome: &str| rows.iter().filter(|r| r["outcome"] == outcome).count();
    assert!(text.contains(&format!("ledger-support.csv ({} lines)", rows.len())), "{text}");
    let enriched = figure(&lines, "enriched with a note");
    assert_eq!(enriched, count("enriched"), "{text}");
    assert_eq!(figure(&lines, "tagged no-customer"), count("no_customer"), "{text}");
    let by_number =
        rows.iter().filter(|r| r["outcome"] == "enriched" && r["found_by"] == "order_number").count();
    assert!(text.contains(&format!("{by_number} by an order number")), "{text}");
    let seen = figure(&lines, "tickets seen");
    assert_eq!(seen, rows.len(), "every ticket was answered by the playbook:\n{text}");
    // A plausible month: tickets in both helpdesks, most enriched, one stranger only tagged, one found by number.
    assert!(seen >= 8 && enriched >= seen / 2 && count("no_customer") >= 1 && by_number >= 1, "{text}");
    for helpdesk in ["zendesk", "gorgias"] {
        assert!(rows.iter().any(|r| r["helpdesk"] == helpdesk), "no {helpdesk} ticket: {text}");
    }
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
    let secret = "whsec_trigger_test";
    let mut serve = Command::new(env!("CARGO_BIN_EXE_seam"))
        // Port 0, and the address from the "serving on" line: a port picked by the test could be taken by another
        // test's server before this one binds it.
        .args(["serve", "--listen", "127.0.0.1:0", "--db", "sqlite:seam.db"])
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
    let base = serving.split_whitespace().find(|word| word.starts_with("http://")).unwrap();
    let url = format!("{base}/webhooks/stripe");

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

/// A plain HTTP/1.1 request on a std socket, with an API token: the status and the body.
fn http(method: &str, url: &str, body: &str, token: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_once('/').map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Authorization: Bearer {token}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default())
}

fn seconds(rfc3339: &serde_json::Value) -> i64 {
    seam_flow::Timestamp::parse_rfc3339(rfc3339.as_str().unwrap()).unwrap().unix_seconds()
}

#[test]
fn while_serving_after_the_replay_the_clock_runs_at_real_speed_from_where_the_month_ended() {
    // The month starts on 2 March 2026 at 09:00 UTC; the replay runs 30 days and a 16-day tail.
    let replay_end = seam_flow::Timestamp::parse_rfc3339("2026-04-17T09:00:00Z").unwrap().unix_seconds();
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_seam"))
        .args([
            "demo",
            "--seconds-per-day",
            "0.02",
            "--invoices",
            "12",
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
    // The API takes a token: one made with `seam tokens create` in the demo's database.
    let db = format!("sqlite:{}", dir.path().join("demo/seam.db").display());
    let token = Command::new(env!("CARGO_BIN_EXE_seam"))
        .args(["tokens", "create", "--db", &db, "--name", "demo-test", "--role", "admin"])
        .output()
        .unwrap();
    assert!(token.status.success(), "{}", String::from_utf8_lossy(&token.stderr));
    let token = String::from_utf8(token.stdout).unwrap().trim().to_owned();

    let (status, inbox) = http("GET", &format!("{url}/api/inbox"), "", &token);
    assert_eq!(status, 200, "{inbox}");
    let inbox: serde_json::Value = serde_json::from_str(&inbox).unwrap();
    let items = inbox["items"].as_array().unwrap();
    assert!(items.len() >= 2, "the story escalates at least two invoices: {inbox}");
    // Two decisions a person makes two seconds apart while looking around.
    let decide = |item: &serde_json::Value| {
        let id = item["id"].as_str().unwrap();
        let (status, body) =
            http("POST", &format!("{url}/api/inbox/{id}/dismiss"), r#"{"by": "demo test"}"#, &token);
        assert_eq!(status, 200, "{body}");
        let decided: serde_json::Value = serde_json::from_str(&body).unwrap();
        seconds(&decided["decided_at"])
    };
    let first = decide(&items[0]);
    std::thread::sleep(std::time::Duration::from_secs(2));
    let second = decide(&items[1]);
    assert!(
        (first - replay_end) >= 0 && (first - replay_end) < 600,
        "the first decision is stamped {} s after the replay ended, not right after it",
        first - replay_end
    );
    assert!(
        (1..=10).contains(&(second - first)),
        "decisions made 2 s apart are stamped {} s apart",
        second - first
    );
    signal(&child, "-INT");
    assert!(wait_exit(&mut child).success());
}
