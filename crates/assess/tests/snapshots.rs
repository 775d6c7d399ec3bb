//! Snapshot tests of every report format, reviewed like code: a change in what a user sees shows up as a diff in
//! `tests/snapshots/`. The inputs are the example brands shipped in `examples/`.

use seam_assess::{Report, compare_with_previous, parse_assessment, previous_report, render, score};

fn example(name: &str) -> Report {
    let path = format!("{}/../../examples/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read {path}: {error}"));
    let assessment = parse_assessment(name, &text).unwrap_or_else(|error| panic!("{error}"));
    score(&assessment)
}

fn with_comparison(current: &str, previous: &str) -> Report {
    let mut report = example(current);
    let previous_report = example(previous);
    compare_with_previous(&mut report, &previous_report, previous);
    report
}

#[test]
fn worked_example_text() {
    insta::assert_snapshot!(render::render_text(&example("apparel-12m.toml"), false));
}

#[test]
fn worked_example_markdown() {
    insta::assert_snapshot!(render::render_markdown(&example("apparel-12m.toml")));
}

#[test]
fn worked_example_json() {
    insta::assert_snapshot!(render::render_json(&example("apparel-12m.toml")));
}

#[test]
fn worked_example_csv() {
    insta::assert_snapshot!(render::render_csv(&example("apparel-12m.toml")));
}

#[test]
fn worked_example_html() {
    insta::assert_snapshot!(render::render_html(&example("apparel-12m.toml")));
}

#[test]
fn small_brand_with_red_flags_markdown() {
    insta::assert_snapshot!(render::render_markdown(&example("candle-shop-small.toml")));
}

#[test]
fn three_million_brand_text() {
    insta::assert_snapshot!(render::render_text(&example("home-goods-3m.toml"), false));
}

#[test]
fn next_quarter_compared_text() {
    insta::assert_snapshot!(render::render_text(
        &with_comparison("apparel-12m-next-quarter.toml", "apparel-12m.toml"),
        false
    ));
}

#[test]
fn next_quarter_compared_json_drift() {
    let report = with_comparison("apparel-12m-next-quarter.toml", "apparel-12m.toml");
    insta::assert_json_snapshot!(report.compare);
}

#[test]
fn colour_is_only_added_when_asked() {
    let report = example("apparel-12m.toml");
    assert!(!render::render_text(&report, false).contains('\x1b'));
    assert!(render::render_text(&report, true).contains("\x1b[31m"));
}

#[test]
fn a_json_report_reads_back_as_a_previous_run() {
    let report = example("apparel-12m.toml");
    let json = render::render_json(&report);
    let previous = previous_report("q1.json", &json).expect("a JSON report reads back");
    assert_eq!(previous, report);
}

#[test]
fn html_is_self_contained() {
    let html = render::render_html(&example("apparel-12m.toml"));
    assert!(html.contains("<svg"), "the page carries its chart inline");
    for outside in ["http://", "https://", "<script", "<link", "src="] {
        let allowed = outside == "http://"
            && html.matches("http://").count() == html.matches("http://www.w3.org/2000/svg").count();
        assert!(allowed || !html.contains(outside), "the page loads nothing from outside, found {outside}");
    }
}
