//! `seam assess wizard` driven the way a person would, with answers fed line by line.

mod common;

use common::World;

/// Answers for the brand, then one scored task per zone (the rest skipped), one extra task, and re-asks.
fn answers() -> String {
    let mut lines: Vec<&str> = vec![
        "Wizard Wear", // brand name
        "lots",        // a refused GMV, asked again
        "12M",         // annual GMV
        "18,000",      // orders a month
        "",            // hourly cost: default 40
        "shopify, amazon",
        "y",
    ];
    // Order-to-cash: capture payment skipped, screen fraud skipped, refunds skipped, retry failed charges scored.
    lines.extend(["", "", "", "7", "1", "6", "170%", "3.1%", "", "stripe, shopify", "Finance analyst"]);
    lines.extend(["", ""]); // the two remaining order-to-cash tasks skipped
    lines.extend(["Chase chargebacks", "0", "4", "0.01", "", "", ""]); // an extra task, owner left to nobody
    lines.push(""); // no more order-to-cash tasks
    lines.extend(["2", "1", "0.005", "", "", "Ops lead", "", "", "", "", ""]); // fulfillment: first scored
    lines.extend(["1", "5", "0", "", "", "CX lead", "", "", "", "", ""]); // customer service: first scored
    lines.extend(["", "", "", "", "", ""]); // post-purchase: nothing scored, no extra task
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

#[test]
fn the_wizard_writes_a_file_that_report_accepts() {
    let world = World::new();
    let run = world.seam_with_input(&["assess", "wizard", "-o", "mine.toml"], &answers());
    assert_eq!(run.code, 0, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("0 Manual"), "the scale is shown at each zone");
    assert!(run.stdout.contains("! \"lots\" is not an amount"), "a bad answer is refused with the reason");
    assert!(run.stdout.contains("use 0 (Manual), 1 (Triggered)"), "a score of 7 is refused");
    assert!(run.stdout.contains("\"170%\" is not a share of orders"));
    assert!(run.stdout.contains("Wrote mine.toml"));

    let report = world.seam(&["assess", "report", "mine.toml", "-f", "json"]);
    assert_eq!(report.code, 0, "{}", report.stderr);
    let report: serde_json::Value = serde_json::from_str(&report.stdout).expect("json");
    assert_eq!(report["brand"]["name"], "Wizard Wear");
    assert_eq!(report["brand"]["annual_gmv_usd"], 12_000_000.0);
    let tasks = report["tasks"].as_array().expect("tasks");
    assert_eq!(tasks.len(), 4, "{tasks:#?}");
    let retry = tasks.iter().find(|task| task["name"] == "Retry failed charges").expect("retry task");
    assert_eq!(retry["maturity"], 1);
    assert_eq!(retry["leak_rate"], 0.031);
    assert_eq!(retry["owner"], "Finance analyst");
    let extra = tasks.iter().find(|task| task["name"] == "Chase chargebacks").expect("extra task");
    assert!(extra["owner"].is_null());
    assert_eq!(report["zones"][3]["assessed"], false, "post-purchase was skipped, so not assessed");
}

#[test]
fn input_that_ends_early_writes_nothing() {
    let world = World::new();
    let run = world.seam_with_input(&["assess", "wizard", "-o", "half.toml"], "Half Brand\n12M\n");
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("the input ended at \"Orders a month\""), "{}", run.stderr);
    assert!(!world.path("half.toml").exists());
}

#[test]
fn the_wizard_refuses_to_overwrite_before_asking_anything() {
    let world = World::new();
    world.write("assessment.toml", "mine\n");
    let run = world.seam_with_input(&["assess", "wizard"], &answers());
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("assessment.toml already exists"));
    assert!(run.stdout.is_empty(), "no question was asked");
    assert_eq!(std::fs::read_to_string(world.path("assessment.toml")).expect("kept"), "mine\n");
}
