//! Reading assessment files, from the words of issue 8 and `docs/assessment.md`: every problem at once (type errors
//! and unknown keys too), messages that say what to write and never name a Rust type, amounts written the way the
//! wizard takes them, and no figure printed as `-0`.

use seam_assess::catalogue::{starter_assessment, to_toml};
use seam_assess::parse::parse_amount;
use seam_assess::{Brand, Report, compare_with_previous, parse_assessment, render, score};

const BRAND: &str =
    "[brand]\nname = \"B\"\nannual_gmv_usd = 3000000\nmonthly_orders = 5000\nhourly_cost_usd = 30\n";

/// Every problem found in `text`, each as `FILE:LINE: FIELD: message`; empty when the file is valid.
fn problems(text: &str) -> Vec<String> {
    match parse_assessment("a.toml", text) {
        Ok(_) => Vec::new(),
        Err(error) => error.diagnostics.iter().map(ToString::to_string).collect(),
    }
}

/// Checks that the problems of `text` are exactly one per `expected` prefix, in that order.
fn check(text: &str, expected: &[&str]) {
    let found = problems(text);
    let matches = found.len() == expected.len()
        && found.iter().zip(expected).all(|(problem, prefix)| problem.starts_with(prefix));
    assert!(matches, "expected problems starting with {expected:#?}\ngot {found:#?}\n--- file ---\n{text}");
}

// "Every problem at once" holds for type errors and unknown keys too: today `maturity = 5` beside a `leak_rat`
// typo reports only the typo.
#[test]
fn a_range_error_beside_an_unknown_key_are_both_reported() {
    let text = format!(
        "{BRAND}\n[[tasks]]\nzone = \"fulfillment\"\nname = \"Stock sync\"\nmaturity = 5\nweekly_hours = 1\nleak_rat = 0.1\n"
    );
    check(
        &text,
        &[
            "a.toml:10: tasks[0].maturity: 5 is outside the scale; use 0 (Manual), 1 (Triggered), 2 (Automated) or 3 (Orchestrated)",
            "a.toml:12: tasks[0].leak_rat: unknown key (did you mean leak_rate?); a task takes zone, name, maturity, \
             weekly_hours, leak_rate,",
        ],
    );
}

// ... and `weekly_hours = "four"` hides the rest.
#[test]
fn a_type_error_does_not_hide_the_other_problems() {
    let text = "[brand]\nname = \"B\"\nannual_gmv_usd = 3000000\nmonthly_orders = 5000\nhourly_cost_usd = -30\n\
         \n[[tasks]]\nzone = \"fulfillment\"\nname = \"Stock sync\"\nmaturity = 1\nweekly_hours = \"four\"\nleak_rate = 1.7\n\
         \n[[tasks]]\nzone = \"warehouse\"\nname = \"Pick\"\nowner = \"Ops\"\ncolour = \"red\"\n";
    check(
        text,
        &[
            "a.toml:5: brand.hourly_cost_usd: -30 is negative; give the loaded cost of one ops hour in US dollars, 0 or more",
            "a.toml:11: tasks[0].weekly_hours: \"four\" is not a number of hours; use 0 or more hours of human work a week",
            "a.toml:12: tasks[0].leak_rate: 1.7 is not a share of orders; use 0.0 to 1.0",
            "a.toml:15: tasks[1].zone: \"warehouse\" is not a zone; use order_to_cash, fulfillment, customer_service or \
             post_purchase",
            "a.toml:18: tasks[1].colour: unknown key; a task takes zone, name,",
        ],
    );
}

// Messages never show Rust type names (`expected f64`, `expected i64`) but say what to write. Bad input is
// reported as `FILE:LINE: FIELD: what is wrong; what is allowed`.
#[test]
fn a_value_of_the_wrong_kind_is_named_as_written_with_what_to_write_instead() {
    let task = |body: &str| format!("{BRAND}\n[[tasks]]\nzone = \"fulfillment\"\nname = \"x\"\n{body}\n");
    let brand_with = |line: &str| format!("{BRAND}{line}\n");
    let cases: Vec<(String, &str)> = vec![
        (
            task("maturity = \"four\"\nweekly_hours = 1\nleak_rate = 0.1"),
            "a.toml:10: tasks[0].maturity: \"four\" is not a whole number; use 0 (Manual), 1 (Triggered), 2 (Automated) or 3 (Orchestrated)",
        ),
        (
            task("maturity = 1.5\nweekly_hours = 1\nleak_rate = 0.1"),
            "a.toml:10: tasks[0].maturity: 1.5 is not a whole number; use 0 (Manual)",
        ),
        (
            task("maturity = 1\nweekly_hours = [4]\nleak_rate = 0.1"),
            "a.toml:11: tasks[0].weekly_hours: [4] is not a number of hours; use 0 or more hours of human work a week, such as 6 or 1.5",
        ),
        (
            task("maturity = 1\nweekly_hours = 1\nleak_rate = \"lots\""),
            "a.toml:12: tasks[0].leak_rate: \"lots\" is not a share of orders; use 0.0 to 1.0 (0.031 means 3.1% of \
             orders hit a problem) or a percentage such as \"3.1%\"",
        ),
        (
            task("monthly_orders = 12.5"),
            "a.toml:10: tasks[0].monthly_orders: 12.5 is not a count; give the orders a month through this step as a whole number, 0 or more",
        ),
        (
            task("tools = 3"),
            "a.toml:10: tasks[0].tools: 3 is not a list; write names in quotes, such as tools = [\"stripe\", \"shopify\"]",
        ),
        (
            task("tools = [\"stripe\", true]"),
            "a.toml:10: tasks[0].tools[1]: true is not a name; write each name in quotes",
        ),
        (
            task("owner = 7"),
            "a.toml:10: tasks[0].owner: 7 is not text; write the owner's role or name in quotes",
        ),
        (
            task("growing = \"maybe\""),
            "a.toml:10: tasks[0].growing: \"maybe\" is not true or false; write true or false",
        ),
        (
            task("leak_cost_usd = \"a lot\""),
            "a.toml:10: tasks[0].leak_cost_usd: \"a lot\" is not an amount; give the cost of one leaked order in US dollars, 0 or more",
        ),
        (
            format!("{BRAND}\n[[tasks]]\nzone = 2\nname = \"x\"\n"),
            "a.toml:8: tasks[0].zone: 2 is not a zone; use order_to_cash, fulfillment, customer_service or post_purchase",
        ),
        (
            format!("{BRAND}\n[[tasks]]\nzone = \"fulfillment\"\nname = 1\n"),
            "a.toml:9: tasks[0].name: 1 is not text; write the task's name in quotes",
        ),
        (
            "[brand]\nname = \"B\"\nannual_gmv_usd = \"lots\"\nmonthly_orders = 5000\nhourly_cost_usd = 30\n"
                .to_string(),
            "a.toml:3: brand.annual_gmv_usd: \"lots\" is not an amount; give the brand's annual GMV in US dollars, 0 or more, such as 12000000, \"12M\" or \"750k\"",
        ),
        (
            "[brand]\nname = \"B\"\nannual_gmv_usd = 3000000\nmonthly_orders = true\nhourly_cost_usd = 30\n"
                .to_string(),
            "a.toml:4: brand.monthly_orders: true is not a count; give the brand's orders a month as a whole number, 0 or more",
        ),
        (
            brand_with("platforms = [\"shopify\", 2]"),
            "a.toml:6: brand.platforms[1]: 2 is not a name; write each name in quotes",
        ),
        (brand_with("growing = 1"), "a.toml:6: brand.growing: 1 is not true or false; write true or false"),
        ("brand = 5\n".to_string(), "a.toml:1: brand: 5 is not a table; write a [brand] table with name,"),
        (format!("{BRAND}tasks = 5\n"), "a.toml:6: brand.tasks: unknown key; [brand] takes name,"),
        (
            format!("tasks = 5\n{BRAND}"),
            "a.toml:1: tasks: 5 is not a list of tasks; write each task as a [[tasks]] table",
        ),
    ];
    for (text, expected) in cases {
        let found = problems(&text);
        assert!(
            found.iter().any(|problem| problem.starts_with(expected)),
            "expected a problem starting {expected:?}\ngot {found:#?}\n--- file ---\n{text}"
        );
        for problem in &found {
            for rust in
                ["f64", "i64", "u64", "usize", "String", "invalid type", "expected", "sequence", "map"]
            {
                assert!(!problem.contains(rust), "{problem:?} speaks Rust ({rust})");
            }
            let (_, message) = problem.split_once(": ").expect("located");
            assert!(message.contains("; "), "{problem:?} says what is wrong and what is allowed");
        }
    }
}

// A misspelt key is reported once, as a misspelling: the key it was meant to be is not also reported missing.
#[test]
fn a_misspelt_required_key_is_not_also_reported_missing() {
    check(
        "[brand]\nname = \"B\"\nannual_gmv = 3000000\nmonthly_orders = 5000\nhourly_cost_usd = 30\n",
        &[
            "a.toml:3: brand.annual_gmv: unknown key (did you mean annual_gmv_usd?); [brand] takes name, annual_gmv_usd,",
        ],
    );
    check(
        "[brnad]\nname = \"B\"\n\n[[tasks]]\nzone = \"fulfillment\"\nnam = \"x\"\n",
        &[
            "a.toml:1: brnad: unknown key (did you mean brand?); the file takes brand, tasks",
            "a.toml:6: tasks[0].nam: unknown key (did you mean name?); a task takes zone, name,",
        ],
    );
}

// The file accepts what the wizard accepts ("12M", "750k").
#[test]
fn amounts_counts_and_rates_are_written_the_way_the_wizard_takes_them() {
    let text = "[brand]\nname = \"B\"\nannual_gmv_usd = \"12M\"\nmonthly_orders = \"18,000\"\nhourly_cost_usd = \"$40\"\n\
                platforms = \"shopify, amazon\"\ngrowing = \"yes\"\n\
                \n[[tasks]]\nzone = \"order_to_cash\"\nname = \"Refunds\"\nmaturity = 1\nweekly_hours = 4\n\
                leak_rate = \"3.1%\"\nleak_cost_usd = \"750k\"\nmonthly_orders = \"1,200\"\n\
                \n[[tasks]]\nzone = \"order_to_cash\"\nname = \"Payouts\"\nleak_cost_usd = \"$1,500.50\"\n";
    let assessment = parse_assessment("a.toml", text).unwrap_or_else(|error| panic!("{error}"));
    let brand = &assessment.brand;
    assert_eq!(brand.annual_gmv_usd, 12_000_000.0);
    assert_eq!(brand.monthly_orders, 18_000);
    assert_eq!(brand.hourly_cost_usd, 40.0);
    assert_eq!(brand.platforms, ["shopify", "amazon"]);
    assert!(brand.growing);
    let refunds = &assessment.tasks[0];
    assert_eq!(refunds.leak_cost_usd, Some(750_000.0));
    assert_eq!(refunds.monthly_orders, 1_200);
    assert_eq!(refunds.score.map(|score| score.leak_rate.value()), Some(0.031));
    assert_eq!(assessment.tasks[1].leak_cost_usd, Some(1_500.5));

    // One implementation: whatever the wizard's amount parser reads, the file reads the same.
    for written in ["12000000", "12,000,000", "$12M", "750k", "1.5m", "$1,500.50"] {
        let file = format!(
            "[brand]\nname = \"B\"\nannual_gmv_usd = {written:?}\nmonthly_orders = 1\nhourly_cost_usd = {written:?}\n"
        );
        let parsed = parse_assessment("a.toml", &file).unwrap_or_else(|error| panic!("{written}: {error}"));
        let expected = parse_amount(written).expect("the wizard takes it");
        assert_eq!(
            (parsed.brand.annual_gmv_usd, parsed.brand.hourly_cost_usd),
            (expected, expected),
            "{written}"
        );
    }
    // And what it refuses, the file refuses.
    for written in ["lots", "-5", "12MM", ""] {
        assert!(parse_amount(written).is_err(), "{written:?}");
        let file = format!(
            "[brand]\nname = \"B\"\nannual_gmv_usd = {written:?}\nmonthly_orders = 1\nhourly_cost_usd = 1\n"
        );
        check(&file, &["a.toml:3: brand.annual_gmv_usd:"]);
    }
}

// Totals never print `-0`.
#[test]
fn no_figure_prints_as_minus_zero_in_any_format() {
    let brand = Brand {
        name: "Starter".to_string(),
        annual_gmv_usd: 3_000_000.0,
        monthly_orders: 4_000,
        hourly_cost_usd: 40.0,
        platforms: vec!["shopify".to_string()],
        growing: true,
        timezone: None,
        currency: None,
        minutes_per_decision: None,
    };
    // Nothing scored yet (as `seam assess new` writes it): every sum is a sum of nothing.
    let starter = to_toml(&starter_assessment(brand));
    // Zeros written with a sign.
    let signed = format!(
        "{BRAND}\n[[tasks]]\nzone = \"fulfillment\"\nname = \"x\"\nmaturity = 3\nweekly_hours = -0.0\nleak_rate = -0.0\nleak_cost_usd = -0.0\n"
    );
    for (name, text) in [("starter", starter.as_str()), ("signed zeros", signed.as_str())] {
        let assessment = parse_assessment("a.toml", text).unwrap_or_else(|error| panic!("{name}: {error}"));
        let mut report = score(&assessment);
        let previous: Report = report.clone();
        compare_with_previous(&mut report, &previous, "before.toml");
        for (format, output) in [
            ("text", render::render_text(&report, false)),
            ("md", render::render_markdown(&report)),
            ("json", render::render_json(&report)),
            ("csv", render::render_csv(&report)),
            ("html", render::render_html(&report)),
        ] {
            let at = output.find("-0");
            assert!(
                at.is_none(),
                "{name} as {format} prints -0: {:?}",
                at.map(|at| &output[at.saturating_sub(60)..at + 10])
            );
        }
    }
}

// Issue 11: `[brand]` may name its time zone, its currency and the minutes one decision takes (for evidence); each is
// optional, checked, and written back by the starter file's writer.
#[test]
fn the_brand_may_name_its_time_zone_currency_and_minutes_per_decision() {
    let text = format!(
        "{BRAND}timezone = \"America/New_York\"\ncurrency = \"eur\"\nminutes_per_decision = 7.5\n\n[[tasks]]\nzone = \"fulfillment\"\nname = \"Stock sync\"\nmaturity = 1\nweekly_hours = 1\nleak_rate = 0.01\n"
    );
    let assessment = parse_assessment("a.toml", &text).expect("valid");
    assert_eq!(assessment.brand.timezone.as_deref(), Some("America/New_York"));
    assert_eq!(assessment.brand.currency.as_deref(), Some("EUR"));
    assert_eq!(assessment.brand.minutes_per_decision, Some(7.5));
    let written = to_toml(&assessment);
    let again = parse_assessment("b.toml", &written).expect("the writer's output reads back");
    assert_eq!(again.brand, assessment.brand);

    let plain = parse_assessment("a.toml", BRAND).expect("valid without them");
    assert!(!to_toml(&plain).contains("minutes_per_decision"));
    assert_eq!(
        (plain.brand.timezone, plain.brand.currency, plain.brand.minutes_per_decision),
        (None, None, None)
    );
}

#[test]
fn a_bad_time_zone_currency_or_minutes_is_named_together() {
    let text = format!("{BRAND}timezone = \"New York\"\ncurrency = \"dollars\"\nminutes_per_decision = 0\n");
    check(
        &text,
        &[
            "a.toml:6: brand.timezone: \"New York\" is not a time zone's name; use an IANA name",
            "a.toml:7: brand.currency: \"dollars\" is not a currency code; use three letters",
            "a.toml:8: brand.minutes_per_decision: 0 is not a number of minutes; give the minutes one decision takes",
        ],
    );
}

// Issue 11: a task may say where its evidence comes from; the link is checked where it is written.
#[test]
fn a_task_names_its_evidence_source_and_a_bad_one_is_named() {
    let task = |link: &str| {
        format!(
            "{BRAND}\n[[tasks]]\nzone = \"order_to_cash\"\nname = \"Retry failed charges\"\nmaturity = 1\nweekly_hours = 6\nleak_rate = 0.031\nevidence = {link:?}\n"
        )
    };
    for good in
        ["workflow:failed-payment-recovery", "stripe-payments", "stripe-payments:renewals", "shopify-orders"]
    {
        let assessment = parse_assessment("a.toml", &task(good)).unwrap_or_else(|e| panic!("{good}: {e}"));
        assert_eq!(assessment.tasks[0].evidence.as_deref(), Some(good));
        let again =
            parse_assessment("b.toml", &to_toml(&assessment)).expect("the writer's output reads back");
        assert_eq!(again.tasks[0].evidence.as_deref(), Some(good));
    }
    for bad in ["workflow:", "stripe", "paypal-payments:renewals", "Workflow:Failed Payments"] {
        check(
            &task(bad),
            &[&format!(
                "a.toml:13: tasks[0].evidence: {bad:?} is not an evidence source; use \"workflow:NAME\""
            )],
        );
    }
}

// The starter catalogue links each task a built-in playbook runs (its `task`) to that workflow, and only those.
#[test]
fn the_starter_catalogue_links_the_tasks_the_built_in_playbooks_run() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../playbooks");
    let mut runs = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("playbooks/") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("playbook");
        let value = |key: &str| {
            text.lines()
                .find_map(|line| {
                    line.strip_prefix(key)
                        .map(|rest| rest.trim_start_matches([' ', '=']).trim_matches('"').to_string())
                })
                .unwrap_or_else(|| panic!("a playbook without {key}"))
        };
        runs.push((value("task"), format!("workflow:{}", value("name"))));
    }
    runs.sort();
    let brand = Brand {
        name: "B".into(),
        annual_gmv_usd: 3e6,
        monthly_orders: 5000,
        hourly_cost_usd: 30.0,
        platforms: Vec::new(),
        growing: false,
        timezone: None,
        currency: None,
        minutes_per_decision: None,
    };
    let mut linked: Vec<(String, String)> = starter_assessment(brand)
        .tasks
        .into_iter()
        .filter_map(|task| task.evidence.map(|link| (task.name, link)))
        .collect();
    linked.sort();
    assert_eq!(linked, runs);
}
