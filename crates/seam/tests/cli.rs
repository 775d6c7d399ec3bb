//! The `seam` binary as a new user meets it: help texts, the worked example, bad input, the wizard and `new`.

mod common;

use common::{World, example};

#[test]
fn every_command_explains_itself() {
    let world = World::new();
    for args in [
        vec!["--help"],
        vec!["assess", "--help"],
        vec!["assess", "new", "--help"],
        vec!["assess", "wizard", "--help"],
        vec!["assess", "report", "--help"],
    ] {
        let run = world.seam(&args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert!(run.stdout.contains("Usage:"), "{args:?} prints usage");
        assert!(run.stdout.len() > 200, "{args:?} explains itself:\n{}", run.stdout);
    }
    let report_help = world.seam(&["assess", "report", "--help"]).stdout;
    for flag in ["--format", "--output", "--compare", "text", "md", "json", "csv", "html"] {
        assert!(report_help.contains(flag), "report --help mentions {flag}");
    }
}

#[test]
fn the_worked_example_ranks_order_to_cash_first_with_its_dollars_and_checklist() {
    let world = World::new();
    let run = world.seam(&["assess", "report", &example("apparel-12m.toml"), "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("json report");
    assert_eq!(report["band"], "5M-15M");
    let first = &report["ranking"][0];
    assert_eq!(first["zone"], "order_to_cash");
    // 17 h/week x 52/12 x $40 = $2,946.67; leaks: 36 + 72 + 216 orders x $55.56 (AOV) = $18,000 and 558 x $55
    // (the task's own leak cost) = $30,690; total $51,636.67.
    let dollars = first["monthly_cost_usd"].as_f64().expect("dollars");
    assert!((dollars - 51_636.67).abs() < 0.01, "order-to-cash dollars {dollars}");
    assert_eq!(first["monthly_orders"], 18_000);
    let checklist = &first["checklist"];
    for key in ["hours_over_3", "leak_over_2pct", "growing", "multi_tool", "has_owner"] {
        assert_eq!(checklist[key], true, "checklist {key}");
    }
    assert_eq!(checklist["yes_count"], 5);
    assert_eq!(first["verdict"], "first_project");
    assert_eq!(first["tasks"][0]["name"], "Retry failed subscription charges");
    for zone in report["zones"].as_array().expect("zones") {
        for key in [
            "zone",
            "score",
            "level",
            "weekly_hours",
            "leak_rate",
            "monthly_orders",
            "affected_orders",
            "monthly_cost_usd",
            "target_min",
            "target_max",
            "gap",
        ] {
            assert!(zone.get(key).is_some(), "zones[] has {key}");
        }
    }
    assert!(report["red_flags"].is_array() && report["diagnostics"].is_array());
    assert!(report["diagnostics"][0]["task"].is_string() && report["diagnostics"][0]["message"].is_string());

    let text = world.seam(&["assess", "report", &example("apparel-12m.toml")]);
    assert!(text.stdout.contains("1. Order-to-cash: $51,637 a month"), "{}", text.stdout);
    assert!(!text.stdout.contains('\x1b'), "no colour when stdout is not a terminal");
}

#[test]
fn every_format_can_be_written_to_a_file() {
    let world = World::new();
    for (format, marker) in [
        ("text", "Punch list"),
        ("md", "| Zone |"),
        ("json", "\"ranking\""),
        ("csv", "zone,task,maturity"),
        ("html", "<svg"),
    ] {
        let out = world.path(&format!("report.{format}"));
        let run = world.seam(&[
            "assess",
            "report",
            &example("apparel-12m.toml"),
            "--format",
            format,
            "-o",
            out.to_str().expect("utf-8 path"),
        ]);
        assert_eq!(run.code, 0, "{format}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{format} goes to the file, not stdout");
        let written = std::fs::read_to_string(&out).expect("report written");
        assert!(written.contains(marker), "{format} output contains {marker}");
    }
    let csv = std::fs::read_to_string(world.path("report.csv")).expect("csv");
    assert_eq!(csv.lines().count(), 1 + 19, "a header and one row per task");
}

#[test]
fn compare_calls_out_the_zone_that_slid_first() {
    let world = World::new();
    let json_path = world.path("q1.json");
    let saved = world.seam(&[
        "assess",
        "report",
        &example("apparel-12m.toml"),
        "-f",
        "json",
        "-o",
        json_path.to_str().expect("utf-8"),
    ]);
    assert_eq!(saved.code, 0, "{}", saved.stderr);
    for previous in [example("apparel-12m.toml"), json_path.display().to_string()] {
        let run = world.seam(&[
            "assess",
            "report",
            &example("apparel-12m-next-quarter.toml"),
            "--compare",
            &previous,
            "-f",
            "json",
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
        let compare = &report["compare"];
        assert_eq!(compare["zones"][0]["zone"], "customer_service", "the slid zone comes first");
        assert_eq!(compare["zones"][0]["slid"], true);
        assert_eq!(compare["slid"], serde_json::json!(["customer_service"]));
        assert_eq!(compare["tasks"][0]["name"], "Route tickets");
    }
    let text = world.seam(&[
        "assess",
        "report",
        &example("apparel-12m-next-quarter.toml"),
        "--compare",
        &example("apparel-12m.toml"),
    ]);
    let since = text.stdout.split("Since the previous run").nth(1).expect("drift section");
    assert!(since.lines().nth(1).is_some_and(|line| line.contains("SLID Customer service")), "{since}");
}

const BRAND: &str =
    "[brand]\nname = \"B\"\nannual_gmv_usd = 3000000\nmonthly_orders = 5000\nhourly_cost_usd = 30\n";

#[test]
fn bad_input_names_file_line_and_field_exits_2_and_writes_nothing() {
    let world = World::new();
    let task =
        |body: &str| format!("{BRAND}\n[[tasks]]\nzone = \"fulfillment\"\nname = \"Stock sync\"\n{body}\n");
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "maturity.toml",
            task("maturity = 5\nweekly_hours = 1\nleak_rate = 0.1"),
            "maturity.toml:10: tasks[0].maturity: 5",
        ),
        (
            "leak.toml",
            task("maturity = 1\nweekly_hours = 1\nleak_rate = 1.7"),
            "leak.toml:12: tasks[0].leak_rate: 1.7",
        ),
        (
            "hours.toml",
            task("maturity = 1\nweekly_hours = -3\nleak_rate = 0.1"),
            "hours.toml:11: tasks[0].weekly_hours: -3",
        ),
        (
            "zone.toml",
            format!("{BRAND}\n[[tasks]]\nzone = \"warehouse\"\nname = \"x\"\n"),
            "zone.toml:8: tasks[0].zone: \"warehouse\" is not a zone; use order_to_cash",
        ),
        (
            "gmv.toml",
            "[brand]\nname = \"B\"\nmonthly_orders = 5\nhourly_cost_usd = 30\n".to_string(),
            "gmv.toml:1: brand.annual_gmv_usd: is missing",
        ),
        (
            "twice.toml",
            format!(
                "{BRAND}\n[[tasks]]\nzone = \"fulfillment\"\nname = \"A\"\n[[tasks]]\nzone = \"fulfillment\"\nname = \"A\"\n"
            ),
            "twice.toml:12: tasks[1].name: \"A\" is already the name of the task on line 7",
        ),
        ("notoml.toml", "this is not toml at all\n".to_string(), "notoml.toml:1:"),
        ("json.toml", "{\"brand\": 1}\n".to_string(), "json.toml:1: this is not a TOML assessment file"),
    ];
    for (name, text, expected) in cases {
        let input = world.write(name, &text);
        let out = world.path(&format!("{name}.html"));
        let run = world.seam(&[
            "assess",
            "report",
            input.to_str().expect("utf-8"),
            "-f",
            "html",
            "-o",
            out.to_str().expect("utf-8"),
        ]);
        assert_eq!(run.code, 2, "{name} exits 2: {}", run.stderr);
        let shown = run.stderr.replace(&format!("{}/", world.dir.path().display()), "");
        assert!(shown.contains(expected), "{name}: expected {expected:?} in:\n{shown}");
        assert!(!out.exists(), "{name}: nothing is written");
        assert!(run.stdout.is_empty(), "{name}: no report printed");
    }
    let missing = world.seam(&["assess", "report", "nowhere.toml"]);
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("cannot read nowhere.toml"), "{}", missing.stderr);
    world.write("binary.toml", "");
    std::fs::write(world.path("binary.toml"), [0xff, 0xfe, 0x00, 0x41]).expect("write");
    let binary = world.seam(&["assess", "report", "binary.toml"]);
    assert_eq!(binary.code, 2);
    assert!(binary.stderr.contains("binary.toml is not UTF-8 text"), "{}", binary.stderr);
}

#[test]
fn a_bad_report_never_clobbers_an_earlier_output() {
    let world = World::new();
    let out = world.write("report.md", "last quarter's report\n");
    let bad = world.write("bad.toml", "[brand]\n");
    let run = world.seam(&["assess", "report", bad.to_str().expect("utf-8"), "-f", "md", "-o", "report.md"]);
    assert_eq!(run.code, 2);
    assert_eq!(std::fs::read_to_string(out).expect("kept"), "last quarter's report\n");
}

#[test]
fn a_zone_with_no_tasks_is_not_assessed_rather_than_zero() {
    let world = World::new();
    let input = world.write(
        "one-zone.toml",
        &format!("{BRAND}\n[[tasks]]\nzone = \"fulfillment\"\nname = \"Stock sync\"\nmaturity = 1\nweekly_hours = 4\nleak_rate = 0.01\n"),
    );
    let run = world.seam(&["assess", "report", input.to_str().expect("utf-8"), "-f", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let o2c = &report["zones"][0];
    assert_eq!(o2c["zone"], "order_to_cash");
    assert_eq!(o2c["assessed"], false);
    assert!(o2c["score"].is_null() && o2c["level"].is_null());
    assert_eq!(o2c["gap"], false);
    let text = world.seam(&["assess", "report", input.to_str().expect("utf-8")]).stdout;
    assert!(text.contains("Order-to-cash was not assessed: it has no tasks (it is not scored 0)"), "{text}");
}

#[test]
fn assess_new_writes_a_starter_that_report_accepts_and_never_overwrites() {
    let world = World::new();
    let run = world.seam(&[
        "assess",
        "new",
        "-o",
        "start.toml",
        "--name",
        "Acme",
        "--gmv",
        "8000000",
        "--orders",
        "9000",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = std::fs::read_to_string(world.path("start.toml")).expect("written");
    for zone in ["order_to_cash", "fulfillment", "customer_service", "post_purchase"] {
        let n_tasks = text.matches(&format!("zone = \"{zone}\"")).count();
        assert!((5..=8).contains(&n_tasks), "{zone} has {n_tasks} starter tasks");
    }
    for task in [
        "Capture payment",
        "Screen fraud",
        "Issue refunds",
        "Retry failed charges",
        "Sync stock",
        "Route tickets",
        "Recover abandoned checkouts",
    ] {
        assert!(text.contains(task), "starter lists {task}");
    }
    let report = world.seam(&["assess", "report", "start.toml", "-f", "json"]);
    assert_eq!(report.code, 0, "{}", report.stderr);
    let report: serde_json::Value = serde_json::from_str(&report.stdout).expect("json");
    assert!(report["zones"].as_array().expect("zones").iter().all(|zone| zone["assessed"] == false));

    let again = world.seam(&["assess", "new", "-o", "start.toml"]);
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("start.toml already exists"), "{}", again.stderr);
    assert_eq!(std::fs::read_to_string(world.path("start.toml")).expect("kept"), text);
    let stdout = world.seam(&["assess", "new"]);
    assert_eq!(stdout.code, 0);
    assert!(stdout.stdout.starts_with("# Seam ops automation self-assessment."));
}

// Issue 8: "Every problem at once" holds for type errors and unknown keys too (`maturity = 5` beside a `leak_rat`
// typo, `weekly_hours = "four"`); messages never show Rust type names but say what to write; exit 2, nothing written.
#[test]
fn type_errors_unknown_keys_and_range_errors_are_reported_together() {
    let world = World::new();
    let input = world.write(
        "mixed.toml",
        &format!(
            "{BRAND}\n[[tasks]]\nzone = \"fulfillment\"\nname = \"Stock sync\"\nmaturity = 5\nweekly_hours = 1\nleak_rat = 0.1\n\
             \n[[tasks]]\nzone = \"fulfillment\"\nname = \"Restock\"\nmaturity = 1\nweekly_hours = \"four\"\nleak_rate = 0.1\n"
        ),
    );
    let out = world.path("mixed.json");
    let run = world.seam(&[
        "assess",
        "report",
        input.to_str().expect("utf-8"),
        "-f",
        "json",
        "-o",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let shown = run.stderr.replace(&format!("{}/", world.dir.path().display()), "");
    for expected in [
        "mixed.toml:10: tasks[0].maturity: 5 is outside the scale; use 0 (Manual), 1 (Triggered), 2 (Automated) or 3 (Orchestrated)",
        "mixed.toml:12: tasks[0].leak_rat: unknown key (did you mean leak_rate?); a task takes zone, name, maturity",
        "mixed.toml:18: tasks[1].weekly_hours: \"four\" is not a number of hours; use 0 or more hours of human work a week",
    ] {
        assert!(shown.contains(expected), "expected {expected:?} in:\n{shown}");
    }
    for rust in ["f64", "i64", "expected", "invalid type"] {
        assert!(!shown.contains(rust), "{rust:?} in:\n{shown}");
    }
    assert!(!out.exists(), "nothing is written");
    assert!(run.stdout.is_empty());
}

// Issue 8: the file accepts what the wizard accepts ("12M", "750k").
#[test]
fn a_file_takes_amounts_written_the_way_the_wizard_takes_them() {
    let world = World::new();
    let input = world.write(
        "amounts.toml",
        "[brand]\nname = \"B\"\nannual_gmv_usd = \"12M\"\nmonthly_orders = \"18,000\"\nhourly_cost_usd = \"$40\"\n\
         \n[[tasks]]\nzone = \"order_to_cash\"\nname = \"Refunds\"\nmaturity = 1\nweekly_hours = 4\nleak_rate = \"3%\"\n\
         leak_cost_usd = \"750k\"\n",
    );
    let run = world.seam(&["assess", "report", input.to_str().expect("utf-8"), "-f", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(report["brand"]["annual_gmv_usd"], 12_000_000.0);
    assert_eq!(report["band"], "5M-15M");
    assert_eq!(report["brand"]["monthly_orders"], 18_000);
    assert_eq!(report["assumptions"]["hourly_cost_usd"], 40.0);
    assert_eq!(report["tasks"][0]["leak_cost_usd"], 750_000.0);
    assert_eq!(report["tasks"][0]["leak_rate"], 0.03);
}

/// The report of `args` in each of the five formats, checked to exit 0.
fn every_format(world: &World, args: &[&str]) -> Vec<(&'static str, String)> {
    ["text", "md", "html", "csv", "json"]
        .into_iter()
        .map(|format| {
            let mut full: Vec<&str> = vec!["assess", "report"];
            full.extend_from_slice(args);
            full.extend(["-f", format]);
            let run = world.seam(&full);
            assert_eq!(run.code, 0, "{format}: {}", run.stderr);
            (format, run.stdout)
        })
        .collect()
}

/// The text of the report's first element in each format: the first line, or the first thing in the HTML body.
fn first_thing(format: &str, output: &str) -> String {
    match format {
        "html" => {
            let body = output.split("<body>").nth(1).expect("a body");
            body.trim_start().lines().next().unwrap_or("").to_string()
        }
        _ => output.lines().next().unwrap_or("").to_string(),
    }
}

// Issue 8: `--compare` against another brand's file still reports (exit 0) but puts a warning naming both brands
// first in every format (a `warnings` list in the JSON).
#[test]
fn comparing_with_another_brand_warns_first_in_every_format() {
    let world = World::new();
    let current = example("apparel-12m.toml");
    let other = example("home-goods-3m.toml");
    for (format, output) in every_format(&world, &[&current, "--compare", &other]) {
        if format == "json" {
            let report: serde_json::Value = serde_json::from_str(&output).expect("json");
            let warnings = report["warnings"].as_array().expect("a warnings list");
            assert_eq!(warnings.len(), 1, "{warnings:?}");
            let warning = warnings[0].as_str().expect("text");
            assert!(warning.contains("Example Apparel") && warning.contains("Home Goods"), "{warning}");
            assert!(output.trim_start().starts_with("{\n  \"warnings\""), "warnings is the first key");
            assert!(report["compare"]["zones"].is_array(), "the comparison is still made");
            continue;
        }
        let first = first_thing(format, &output);
        assert!(first.to_lowercase().contains("warning"), "{format} starts with the warning: {first}");
        assert!(
            first.contains("Example Apparel") && first.contains("Home Goods"),
            "{format} names both: {first}"
        );
    }
    // The same brand a quarter later: no warning anywhere.
    let next = example("apparel-12m-next-quarter.toml");
    for (format, output) in every_format(&world, &[&next, "--compare", &current]) {
        assert!(!output.to_lowercase().contains("another brand"), "{format} warns about the same brand");
        assert!(!first_thing(format, &output).to_lowercase().contains("warning"), "{format}");
        if format == "json" {
            let report: serde_json::Value = serde_json::from_str(&output).expect("json");
            assert_eq!(report["warnings"], serde_json::json!([]));
        }
    }
}

// README: "zones that slid are called out first" (issue 8: in every format).
#[test]
fn zones_that_slid_come_first_in_every_format() {
    let world = World::new();
    let next = example("apparel-12m-next-quarter.toml");
    let previous = example("apparel-12m.toml");
    for (format, output) in every_format(&world, &[&next, "--compare", &previous]) {
        let slid = match format {
            "text" => "SLID Customer service",
            "md" => "**Slid:** Customer service",
            "html" => "SLID: Customer service",
            "csv" => "# Slid since the previous run",
            _ => "\"slid\": [\n      \"customer_service\"",
        };
        let at = output.find(slid).unwrap_or_else(|| panic!("{format} calls out the slid zone:\n{output}"));
        // Before the first figure of any zone: the zone table, the chart or the rows.
        let first_figures = ["Zone ", "| Zone |", "<svg", "zone,task", "\"zones\""]
            .iter()
            .filter_map(|marker| output.find(marker))
            .min()
            .expect("figures");
        assert!(at < first_figures, "{format}: the slid zone comes before the figures");
    }
    let csv = every_format(&world, &[&next, "--compare", &previous]).remove(3).1;
    let rows: Vec<&str> = csv.lines().filter(|line| !line.starts_with('#')).skip(1).collect();
    let first_other = rows.iter().position(|row| !row.starts_with("customer_service,")).expect("other rows");
    assert!(first_other > 0, "the rows of the zone that slid come first:\n{csv}");
    assert!(rows[first_other..].iter().all(|row| !row.starts_with("customer_service,")), "{csv}");
}

// Issue 8: totals never print `-0` (a starter file has nothing scored, so every sum is a sum of nothing).
#[test]
fn a_starter_file_reports_zeros_without_a_sign() {
    let world = World::new();
    let written = world.seam(&["assess", "new", "-o", "start.toml", "--gmv", "3000000", "--orders", "4000"]);
    assert_eq!(written.code, 0, "{}", written.stderr);
    for (format, output) in every_format(&world, &["start.toml"]) {
        assert!(!output.contains("-0"), "{format} prints -0:\n{output}");
    }
}
