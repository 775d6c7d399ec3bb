//! `seam assess wizard` driven the way a person would, with answers fed line by line, stopped (input closed, ctrl-c,
//! a kill, an error) and resumed.

mod common;

use common::World;
use std::io::Write as _;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Answers for the brand, then one scored task per zone (the rest skipped), two extra tasks (one scored, one
/// skipped), and re-asks. Three answers are refused and asked again, so 3 fewer answers are kept than lines given.
fn answer_lines() -> Vec<&'static str> {
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
    lines
}

/// Lines 0..30 end in the middle of fulfillment's first task (its score and hours are given, its leak rate is not).
const STOP_AT: usize = 30;
/// How many answers the first `STOP_AT` lines leave kept: all but the three refused ones.
const KEPT_AT_STOP: usize = STOP_AT - 3;

fn text_of(lines: &[&str]) -> String {
    lines.iter().map(|line| format!("{line}\n")).collect()
}

fn answers() -> String {
    text_of(&answer_lines())
}

/// The file the wizard writes when all the answers are given in one go.
fn file_in_one_go() -> String {
    let world = World::new();
    let run = world.seam_with_input(&["assess", "wizard", "-o", "whole.toml"], &answers());
    assert_eq!(run.code, 0, "{}", run.stderr);
    std::fs::read_to_string(world.path("whole.toml")).expect("written")
}

/// The number of answers in a progress file; 0 when there is none. A progress file that exists is always readable
/// JSON, since it is replaced atomically after every answer.
fn kept_answers(world: &World, name: &str) -> usize {
    match std::fs::read_to_string(world.path(name)) {
        Ok(text) => {
            let progress: serde_json::Value = serde_json::from_str(&text).expect("a readable progress file");
            assert_eq!(progress["format"], "seam assess wizard answers");
            assert_eq!(progress["version"], 1);
            progress["answers"].as_array().expect("answers").len()
        }
        Err(_) => 0,
    }
}

/// Starts the wizard with its input left open, as a person at a terminal would.
fn start(world: &World, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_seam"))
        .args(args)
        .current_dir(world.dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start seam")
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
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
    assert!(run.stdout.contains("Answers are kept in mine.toml.partial as you go"), "{}", run.stdout);
    assert!(run.stdout.contains("Wrote mine.toml"));
    assert!(
        !world.path("mine.toml.partial").exists(),
        "the progress file is removed once the file is written"
    );

    let report = world.seam(&["assess", "report", "mine.toml", "-f", "json"]);
    assert_eq!(report.code, 0, "{}", report.stderr);
    let report: serde_json::Value = serde_json::from_str(&report.stdout).expect("json");
    assert_eq!(report["brand"]["name"], "Wizard Wear");
    assert_eq!(report["brand"]["annual_gmv_usd"], 12_000_000.0);
    let retry =
        report["tasks"].as_array().expect("tasks").iter().find(|task| task["name"] == "Retry failed charges");
    let retry = retry.expect("retry task");
    assert_eq!(retry["maturity"], 1);
    assert_eq!(retry["leak_rate"], 0.031);
    assert_eq!(retry["owner"], "Finance analyst");
    let extra =
        report["tasks"].as_array().expect("tasks").iter().find(|task| task["name"] == "Chase chargebacks");
    assert!(extra.expect("extra task")["owner"].is_null());
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
fn input_that_ends_early_keeps_the_answers_and_resume_asks_only_the_rest() {
    let world = World::new();
    let lines = answer_lines();
    let run = world.seam_with_input(&["assess", "wizard", "-o", "half.toml"], &text_of(&lines[..STOP_AT]));
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("the input ended at \"Leak rate: share of orders"), "{}", run.stderr);
    assert!(run.stderr.contains("kept in half.toml.partial"), "{}", run.stderr);
    assert!(run.stderr.contains("continue with: seam assess wizard -o half.toml --resume"), "{}", run.stderr);
    assert!(!world.path("half.toml").exists(), "the file itself is written only when complete");
    assert_eq!(kept_answers(&world, "half.toml.partial"), KEPT_AT_STOP);

    let resumed = world
        .seam_with_input(&["assess", "wizard", "-o", "half.toml", "--resume"], &text_of(&lines[STOP_AT..]));
    assert_eq!(resumed.code, 0, "stdout:\n{}\nstderr:\n{}", resumed.stdout, resumed.stderr);
    assert!(
        resumed.stdout.contains("Resuming from half.toml.partial: 27 answers kept"),
        "{}",
        resumed.stdout
    );
    assert!(!resumed.stdout.contains("Brand name:"), "answered questions are not asked again");
    assert!(
        resumed.stdout.contains("== Inventory and fulfillment"),
        "the zone being answered is shown again"
    );
    assert!(resumed.stdout.contains("  Weekly hours of human work: 1\n"), "with the answers given in it");
    assert!(!resumed.stdout.contains("== Order-to-cash"), "finished zones are not");
    assert!(!resumed.stdout.contains("Finance analyst"), "nor their answers");
    assert_eq!(std::fs::read_to_string(world.path("half.toml")).expect("written"), file_in_one_go());
    assert!(!world.path("half.toml.partial").exists());
}

#[test]
fn input_that_ends_before_any_answer_saves_nothing() {
    let world = World::new();
    let run = world.seam_with_input(&["assess", "wizard", "-o", "none.toml"], "");
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("the input ended at \"Brand name\""), "{}", run.stderr);
    assert!(run.stderr.contains("nothing was saved"), "{}", run.stderr);
    assert!(!world.path("none.toml").exists() && !world.path("none.toml.partial").exists());
}

#[test]
fn ctrl_c_or_a_kill_mid_wizard_loses_no_answer() {
    let lines = answer_lines();
    for signal in ["-INT", "-KILL"] {
        let world = World::new();
        let mut child = start(&world, &["assess", "wizard", "-o", "mine.toml"]);
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(text_of(&lines[..STOP_AT]).as_bytes()).expect("answers");
        stdin.flush().expect("answers");
        wait_until("the answers are saved", || kept_answers(&world, "mine.toml.partial") == KEPT_AT_STOP);
        let status = Command::new("kill").args([signal, &child.id().to_string()]).status().expect("kill");
        assert!(status.success());
        let stopped = child.wait_with_output().expect("wait");
        drop(stdin);
        let stderr = String::from_utf8_lossy(&stopped.stderr);
        if signal == "-INT" {
            assert_eq!(stopped.status.code(), Some(130), "{stderr}");
            assert!(
                stderr.contains("Stopped: the answers given so far are kept in mine.toml.partial"),
                "{stderr}"
            );
            assert!(stderr.contains("seam assess wizard -o mine.toml --resume"), "{stderr}");
        }
        assert_eq!(kept_answers(&world, "mine.toml.partial"), KEPT_AT_STOP, "{signal}");
        assert!(!world.path("mine.toml").exists());

        let resumed = world.seam_with_input(
            &["assess", "wizard", "-o", "mine.toml", "--resume"],
            &text_of(&lines[STOP_AT..]),
        );
        assert_eq!(resumed.code, 0, "{signal}: {}", resumed.stderr);
        assert_eq!(std::fs::read_to_string(world.path("mine.toml")).expect("written"), file_in_one_go());
    }
}

#[test]
fn an_error_writing_the_file_keeps_the_answers_for_resume() {
    let world = World::new();
    let lines = answer_lines();
    let (last, before_last) = lines.split_last().expect("answers");
    let mut child = start(&world, &["assess", "wizard", "-o", "mine.toml"]);
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(text_of(before_last).as_bytes()).expect("answers");
    stdin.flush().expect("answers");
    let n_answers = lines.len() - 3;
    wait_until("the answers are saved", || kept_answers(&world, "mine.toml.partial") == n_answers - 1);
    // Something takes the output's name while the last question is open, so the file cannot be written.
    std::fs::create_dir(world.path("mine.toml")).expect("a folder in the way");
    stdin.write_all(format!("{last}\n").as_bytes()).expect("last answer");
    drop(stdin);
    let stopped = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&stopped.stderr);
    assert_eq!(stopped.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot write mine.toml"), "{stderr}");
    assert!(stderr.contains("continue with: seam assess wizard -o mine.toml --resume"), "{stderr}");
    assert_eq!(kept_answers(&world, "mine.toml.partial"), n_answers, "every answer is kept");

    std::fs::remove_dir(world.path("mine.toml")).expect("out of the way");
    let resumed = world.seam_with_input(&["assess", "wizard", "-o", "mine.toml", "--resume"], "");
    assert_eq!(resumed.code, 0, "nothing is left to ask: {}", resumed.stderr);
    assert_eq!(std::fs::read_to_string(world.path("mine.toml")).expect("written"), file_in_one_go());
    assert!(!world.path("mine.toml.partial").exists());
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

#[test]
fn an_unfinished_wizard_is_never_discarded_without_force() {
    let world = World::new();
    let lines = answer_lines();
    let stopped =
        world.seam_with_input(&["assess", "wizard", "-o", "mine.toml"], &text_of(&lines[..STOP_AT]));
    assert_eq!(stopped.code, 2);
    let progress = std::fs::read_to_string(world.path("mine.toml.partial")).expect("progress kept");

    let again = world.seam_with_input(&["assess", "wizard", "-o", "mine.toml"], &answers());
    assert_eq!(again.code, 2);
    assert!(
        again.stderr.contains("mine.toml.partial holds the answers of an unfinished wizard"),
        "{}",
        again.stderr
    );
    assert!(again.stderr.contains("--resume") && again.stderr.contains("--force"), "{}", again.stderr);
    assert!(again.stdout.is_empty(), "no question was asked");
    assert_eq!(std::fs::read_to_string(world.path("mine.toml.partial")).expect("kept"), progress);

    let over = world.seam_with_input(&["assess", "wizard", "-o", "mine.toml", "--force"], "Another Brand\n");
    assert_eq!(over.code, 2, "--force starts over; this input ends after one answer");
    assert!(over.stdout.contains("Brand name:"), "asked from the start");
    assert_eq!(kept_answers(&world, "mine.toml.partial"), 1, "the earlier answers were discarded, as asked");
}

#[test]
fn resume_refuses_what_it_cannot_resume_and_keeps_the_file() {
    let world = World::new();
    let run = world.seam_with_input(&["assess", "wizard", "-o", "mine.toml", "--resume"], &answers());
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("nothing to resume: mine.toml.partial does not exist"), "{}", run.stderr);
    assert!(run.stdout.is_empty());

    let newer = "{\"format\": \"seam assess wizard answers\", \"version\": 2, \"answers\": []}\n";
    let other_question = "{\"format\": \"seam assess wizard answers\", \"version\": 1, \"answers\": [\
                          {\"question\": \"Favourite colour\", \"answer\": \"blue\"}]}\n";
    for (progress, message) in [
        (
            "{ \"answers\": [ { \"question\": \"Brand na",
            "mine.toml.partial cannot be resumed: it is not JSON",
        ),
        ("[brand]\nname = \"x\"\n", "mine.toml.partial cannot be resumed: it is not JSON"),
        (newer, "mine.toml.partial cannot be resumed: it has format version 2; this Seam reads version 1"),
        (
            other_question,
            "mine.toml.partial cannot be resumed: answer 1 was given to \"Favourite colour\", but",
        ),
    ] {
        world.write("mine.toml.partial", progress);
        let run = world.seam_with_input(&["assess", "wizard", "-o", "mine.toml", "--resume"], &answers());
        assert_eq!(run.code, 2, "{progress}");
        assert!(run.stderr.contains(message), "{progress}: {}", run.stderr);
        assert!(run.stderr.contains("It was left as it is"), "{}", run.stderr);
        assert!(!run.stdout.contains("Brand name:"), "{progress}: it never silently starts over");
        assert_eq!(std::fs::read_to_string(world.path("mine.toml.partial")).expect("kept"), progress);
        assert!(!world.path("mine.toml").exists());
    }

    let both = world.seam_with_input(&["assess", "wizard", "-o", "mine.toml", "--resume", "--force"], "");
    assert_eq!(both.code, 2, "--resume keeps the answers, --force discards them: not both");
}
