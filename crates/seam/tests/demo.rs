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
