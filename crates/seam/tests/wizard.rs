//! `seam assess wizard` driven the way a person would, with answers fed line by line.

mod common;

use common::World;

/// Answers for the brand, then one scored task per zone (the rest skipped), two extra tasks (one scored, one
/// skipped), and re-asks.
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
    lines.extend(["", "", "", "", ""]); // post-purchase: nothing scored
    lines.extend(["Answer reviews", "", ""]); // an extra task named, its score skipped; no more tasks
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

/// The `[[tasks]]` block of the task named `name`, as written.
fn task_block(file: &str, name: &str) -> String {
    let needle = format!("name = \"{name}\"\n");
    let block =
        file.split("[[tasks]]\n").find(|block| block.contains(&needle)).expect("the task is in the file");
    block.split("\n\n").next().expect("block").to_string()
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
    let retry = tasks.iter().find(|task| task["name"] == "Retry failed charges").expect("retry task");
    assert_eq!(retry["maturity"], 1);
    assert_eq!(retry["leak_rate"], 0.031);
    assert_eq!(retry["owner"], "Finance analyst");
    let extra = tasks.iter().find(|task| task["name"] == "Chase chargebacks").expect("extra task");
    assert!(extra["owner"].is_null());
    assert_eq!(report["totals"]["n_scored"], 4);
    assert_eq!(report["zones"][3]["assessed"], false, "post-purchase was skipped, so not assessed");
}

#[test]
fn a_skipped_task_stays_in_the_file_not_scored_as_assess_new_writes_it() {
    let world = World::new();
    let run = world.seam_with_input(&["assess", "wizard", "-o", "mine.toml"], &answers());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let new = world.seam(&[
        "assess",
        "new",
        "-o",
        "new.toml",
        "--name",
        "Wizard Wear",
        "--gmv",
        "12000000",
        "--orders",
        "18000",
        "--hourly-cost",
        "40",
        "--platforms",
        "shopify,amazon",
    ]);
    assert_eq!(new.code, 0, "{}", new.stderr);
    let wizard_file = std::fs::read_to_string(world.path("mine.toml")).expect("wizard file");
    let new_file = std::fs::read_to_string(world.path("new.toml")).expect("new file");
    for skipped in ["Capture payment", "Screen fraud", "Raise purchase orders", "Request reviews"] {
        assert_eq!(task_block(&wizard_file, skipped), task_block(&new_file, skipped), "{skipped}");
        assert!(task_block(&wizard_file, skipped).contains("# maturity = 0..3            # not scored yet"));
    }
    // A task of the team's own that was named and then skipped stays too, with no tools.
    let own = task_block(&wizard_file, "Answer reviews");
    assert!(own.contains("# maturity = 0..3") && own.contains("tools = []"), "{own}");

    let report = world.seam(&["assess", "report", "mine.toml", "-f", "json"]);
    assert_eq!(report.code, 0, "{}", report.stderr);
    let report: serde_json::Value = serde_json::from_str(&report.stdout).expect("json");
    assert_eq!(report["totals"]["n_tasks"], 23, "21 catalogue tasks and 2 of the team's own, none vanished");
    assert_eq!(report["totals"]["n_scored"], 4);
    let capture =
        report["tasks"].as_array().expect("tasks").iter().find(|task| task["name"] == "Capture payment");
    assert_eq!(capture.expect("skipped task listed")["scored"], false);
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
fn the_output_path_is_checked_before_the_first_question() {
    let world = World::new();
    world.write("assessment.toml", "mine\n");
    world.write("plain.txt", "a file, not a folder\n");
    for (args, message) in [
        (vec!["assess", "wizard"], "assessment.toml already exists; pass --force"),
        (
            vec!["assess", "wizard", "-o", "nowhere/mine.toml"],
            "cannot write nowhere/mine.toml: the folder nowhere",
        ),
        (
            vec!["assess", "wizard", "-o", "plain.txt/mine.toml"],
            "cannot write plain.txt/mine.toml: plain.txt is not a",
        ),
    ] {
        let run = world.seam_with_input(&args, &answers());
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}: no question was asked:\n{}", run.stdout);
    }
    assert_eq!(std::fs::read_to_string(world.path("assessment.toml")).expect("kept"), "mine\n");
    let mut left: Vec<String> = std::fs::read_dir(world.dir.path())
        .expect("dir")
        .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["assessment.toml", "plain.txt"], "nothing else was written");
}
