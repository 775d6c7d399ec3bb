//! One test per rule of the assessment, written from the rule's own words in DESIGN.md ("The assessment (from the
//! source, made precise)"). Each rule's sentence is quoted above its test(s). Inputs are small TOML assessments
//! built by one helper (`report`), and every assertion is on the figures of the resulting `Report`: behaviour, not
//! internals.

use seam_assess::report::{Band, Checklist, Finding, GapReport, Report, ZoneReport};
use seam_assess::score::{checklist_verdict, is_gap, maturity_for_hours};
use seam_assess::{Zone, compare, compare_with_previous, parse_assessment, score};

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------

const O2C: &str = "order_to_cash";
const FUL: &str = "fulfillment";
const CS: &str = "customer_service";
const PP: &str = "post_purchase";

/// Weekly hours become monthly hours with 52/12.
const WEEKS_PER_MONTH: f64 = 52.0 / 12.0;

#[track_caller]
fn assert_close(actual: f64, expected: f64, tolerance: f64, what: &str) {
    assert!(
        (actual - expected).abs() <= tolerance,
        "{what}: expected {expected} (+/- {tolerance}), got {actual}"
    );
}

#[track_caller]
fn assert_close_opt(actual: Option<f64>, expected: f64, tolerance: f64, what: &str) {
    match actual {
        Some(actual) => assert_close(actual, expected, tolerance, what),
        None => panic!("{what}: expected {expected}, got None"),
    }
}

/// The `[brand]` table of a test assessment.
#[derive(Debug, Clone)]
struct BrandSpec {
    gmv: f64,
    orders: u64,
    hourly: f64,
    platforms: Vec<&'static str>,
    growing: Option<bool>,
}

/// A brand with two platforms, $40 an hour and growing (so no red flag trips unless a test asks for it).
fn brand(gmv: f64, orders: u64) -> BrandSpec {
    BrandSpec { gmv, orders, hourly: 40.0, platforms: vec!["shopify", "amazon"], growing: Some(true) }
}

impl BrandSpec {
    fn hourly(mut self, hourly: f64) -> Self {
        self.hourly = hourly;
        self
    }
    fn platforms(mut self, platforms: &[&'static str]) -> Self {
        self.platforms = platforms.to_vec();
        self
    }
    fn growing(mut self, growing: Option<bool>) -> Self {
        self.growing = growing;
        self
    }
}

/// One `[[tasks]]` table of a test assessment.
#[derive(Debug, Clone)]
struct TaskSpec {
    zone: &'static str,
    name: String,
    /// (maturity, weekly hours, leak rate); `None` leaves the task unscored.
    scored: Option<(u8, f64, f64)>,
    orders: Option<u64>,
    tools: Vec<&'static str>,
    owner: Option<&'static str>,
    growing: Option<bool>,
    leak_cost: Option<f64>,
}

/// A scored task touching Shopify and Stripe, owned by the ops lead, the other fields left to their defaults.
fn task(zone: &'static str, name: &str, maturity: u8, weekly_hours: f64, leak_rate: f64) -> TaskSpec {
    TaskSpec {
        zone,
        name: name.to_string(),
        scored: Some((maturity, weekly_hours, leak_rate)),
        orders: None,
        tools: vec!["shopify", "stripe"],
        owner: Some("Ops lead"),
        growing: None,
        leak_cost: None,
    }
}

/// A task listed but not scored yet (no maturity, hours or leak rate).
fn unscored(zone: &'static str, name: &str) -> TaskSpec {
    TaskSpec { scored: None, ..task(zone, name, 0, 0.0, 0.0) }
}

impl TaskSpec {
    fn orders(mut self, orders: u64) -> Self {
        self.orders = Some(orders);
        self
    }
    fn tools(mut self, tools: &[&'static str]) -> Self {
        self.tools = tools.to_vec();
        self
    }
    fn owner(mut self, owner: Option<&'static str>) -> Self {
        self.owner = owner;
        self
    }
    fn growing(mut self, growing: bool) -> Self {
        self.growing = Some(growing);
        self
    }
    fn leak_cost(mut self, cost: f64) -> Self {
        self.leak_cost = Some(cost);
        self
    }
}

fn quoted_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|item| format!("{item:?}")).collect();
    format!("[{}]", quoted.join(", "))
}

/// The assessment file for a brand and its tasks, in the format of `examples/apparel-12m.toml`.
fn toml_text(brand: &BrandSpec, tasks: &[TaskSpec]) -> String {
    let mut text = format!(
        "[brand]\nname = \"Test brand\"\nannual_gmv_usd = {:?}\nmonthly_orders = {}\nhourly_cost_usd = {:?}\n\
         platforms = {}\n",
        brand.gmv,
        brand.orders,
        brand.hourly,
        quoted_list(&brand.platforms)
    );
    if let Some(growing) = brand.growing {
        text.push_str(&format!("growing = {growing}\n"));
    }
    for task in tasks {
        text.push_str(&format!("\n[[tasks]]\nzone = {:?}\nname = {:?}\n", task.zone, task.name));
        if let Some((maturity, hours, leak)) = task.scored {
            text.push_str(&format!(
                "maturity = {maturity}\nweekly_hours = {hours:?}\nleak_rate = {leak:?}\n"
            ));
        }
        if let Some(orders) = task.orders {
            text.push_str(&format!("monthly_orders = {orders}\n"));
        }
        text.push_str(&format!("tools = {}\n", quoted_list(&task.tools)));
        if let Some(owner) = task.owner {
            text.push_str(&format!("owner = {owner:?}\n"));
        }
        if let Some(growing) = task.growing {
            text.push_str(&format!("growing = {growing}\n"));
        }
        if let Some(cost) = task.leak_cost {
            text.push_str(&format!("leak_cost_usd = {cost:?}\n"));
        }
    }
    text
}

/// Parses and scores a test assessment: the one way every test builds its input.
#[track_caller]
fn report(brand: &BrandSpec, tasks: &[TaskSpec]) -> Report {
    let text = toml_text(brand, tasks);
    let assessment =
        parse_assessment("test.toml", &text).unwrap_or_else(|error| panic!("{error}\n--- file ---\n{text}"));
    score(&assessment)
}

fn zone_key(key: &str) -> Zone {
    Zone::from_key(key).unwrap_or_else(|| panic!("no zone {key}"))
}

#[track_caller]
fn zone<'a>(report: &'a Report, key: &str) -> &'a ZoneReport {
    let wanted = zone_key(key);
    report.zones.iter().find(|zone| zone.zone == wanted).unwrap_or_else(|| panic!("no zone {key} in report"))
}

#[track_caller]
fn gap<'a>(report: &'a Report, key: &str) -> &'a GapReport {
    let wanted = zone_key(key);
    report
        .ranking
        .iter()
        .find(|gap| gap.zone == wanted)
        .unwrap_or_else(|| panic!("{key} is not a gap: ranking is {:?}", ranked_zones(report)))
}

fn ranked_zones(report: &Report) -> Vec<&'static str> {
    report.ranking.iter().map(|gap| gap.zone.key()).collect()
}

fn codes(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|finding| finding.code.as_str()).collect()
}

/// The brand-size scenario most tests use: $8M a year, 5,000 orders a month (inside the $5M-$15M band).
fn mid_brand() -> BrandSpec {
    brand(8_000_000.0, 5_000)
}

// ---------------------------------------------------------------------------------------------------------------
// Zones and tasks
// ---------------------------------------------------------------------------------------------------------------

// "Four zones: `order_to_cash` (Order-to-cash), `fulfillment` (Inventory and fulfillment), `customer_service`
//  (Customer service), `post_purchase` (Post-purchase and marketing)."
#[test]
fn four_zones_are_always_reported_with_their_keys_and_titles() {
    let report = report(&mid_brand(), &[task(FUL, "Sync stock", 1, 4.0, 0.01)]);
    let found: Vec<(&str, &str)> =
        report.zones.iter().map(|zone| (zone.zone.key(), zone.title.as_str())).collect();
    assert_eq!(
        found,
        [
            ("order_to_cash", "Order-to-cash"),
            ("fulfillment", "Inventory and fulfillment"),
            ("customer_service", "Customer service"),
            ("post_purchase", "Post-purchase and marketing"),
        ]
    );
    // Any other zone key is refused at the boundary.
    let bad = toml_text(&mid_brand(), &[task("shipping", "Ship", 1, 1.0, 0.0)]);
    assert!(parse_assessment("test.toml", &bad).is_err(), "zone \"shipping\" was accepted");
}

// "Each task: zone, name, maturity 0-3 (0 Manual, 1 Triggered, 2 Automated, 3 Orchestrated), weekly hours of human
//  work, leak rate (share of orders through the step that hit a problem), monthly orders through the step, tools it
//  touches, owner, whether its volume will grow this year; optionally the cost of one leaked order (default:
//  average order value)."
#[test]
fn each_task_carries_its_fields_with_the_brands_defaults() {
    // $6M a year over 5,000 orders a month: average order value = 6,000,000 / 12 / 5,000 = $100.
    let brand = brand(6_000_000.0, 5_000).growing(Some(false));
    let report = report(
        &brand,
        &[
            task(O2C, "Manual one", 0, 6.0, 0.01),
            task(O2C, "Triggered one", 1, 4.0, 0.02)
                .orders(1_200)
                .tools(&["stripe", "quickbooks"])
                .owner(Some("Finance"))
                .growing(true)
                .leak_cost(25.0),
            task(FUL, "Automated one", 2, 1.0, 0.0).owner(None),
            task(PP, "Orchestrated one", 3, 0.5, 0.0),
        ],
    );
    let names: Vec<(&str, Option<u8>, Option<&str>)> = report
        .tasks
        .iter()
        .map(|task| (task.name.as_str(), task.maturity, task.maturity_name.as_deref()))
        .collect();
    assert_eq!(
        names,
        [
            ("Manual one", Some(0), Some("Manual")),
            ("Triggered one", Some(1), Some("Triggered")),
            ("Automated one", Some(2), Some("Automated")),
            ("Orchestrated one", Some(3), Some("Orchestrated")),
        ]
    );
    let [manual, triggered, automated, _] = &report.tasks[..] else { panic!("four tasks expected") };
    // Defaults: the brand's monthly orders, its growth, the average order value as the leak cost.
    assert_eq!(manual.zone, Zone::OrderToCash);
    assert_eq!(manual.monthly_orders, 5_000);
    assert!(!manual.growing);
    assert_close_opt(manual.leak_cost_usd, 100.0, 1e-9, "default leak cost = average order value");
    assert_eq!(manual.weekly_hours, Some(6.0));
    assert_eq!(manual.leak_rate, Some(0.01));
    // Given values win.
    assert_eq!(triggered.monthly_orders, 1_200);
    assert_eq!(triggered.tools, ["stripe", "quickbooks"]);
    assert_eq!(triggered.owner.as_deref(), Some("Finance"));
    assert!(triggered.growing);
    assert_close_opt(triggered.leak_cost_usd, 25.0, 1e-9, "a task's own leak cost");
    assert_eq!(automated.owner, None);

    // Maturity is 0-3 and a leak rate is a share (0.0-1.0): anything else is refused.
    for bad in [task(O2C, "Too mature", 4, 1.0, 0.0), task(O2C, "Leaks too much", 1, 1.0, 1.5)] {
        let text = toml_text(&mid_brand(), std::slice::from_ref(&bad));
        assert!(parse_assessment("test.toml", &text).is_err(), "accepted {bad:?}");
    }
}

// "A zone's score is the mean of its tasks' maturity; its level is the score rounded down (when unsure, the lower)."
#[test]
fn zone_score_is_the_mean_maturity_and_level_rounds_down() {
    let cases: &[(&[u8], f64, u8)] = &[
        (&[2, 2, 2, 1], 1.75, 1), // 7/4: level 1, never 2
        (&[1, 2], 1.5, 1),
        (&[1, 1, 2], 4.0 / 3.0, 1),
        (&[3, 3, 2], 8.0 / 3.0, 2),
        (&[0, 1], 0.5, 0),
        (&[0], 0.0, 0),
        (&[2], 2.0, 2),
        (&[3, 3, 3], 3.0, 3),
    ];
    for (maturities, mean, level) in cases {
        let tasks: Vec<TaskSpec> = maturities
            .iter()
            .enumerate()
            .map(|(idx, maturity)| task(CS, &format!("Task {idx}"), *maturity, 0.5, 0.0))
            .collect();
        let report = report(&mid_brand(), &tasks);
        let cs = zone(&report, CS);
        assert_close_opt(cs.score, *mean, 0.005, &format!("score of {maturities:?}"));
        assert_eq!(cs.level, Some(*level), "level of {maturities:?} (score {:?})", cs.score);
    }

    // 299 tasks at 2 and one at 1: the mean is 599/300 = 1.9967, which shows as 2.00 at two decimals, but the level
    // is still 1 (rounded down from the true mean) and the zone is still below 2.
    let mut tasks: Vec<TaskSpec> =
        (0..299).map(|idx| task(CS, &format!("Automated {idx}"), 2, 0.5, 0.0)).collect();
    tasks.push(task(CS, "Triggered", 1, 0.5, 0.0));
    let report = report(&mid_brand(), &tasks);
    let cs = zone(&report, CS);
    assert_eq!(cs.level, Some(1), "level of a 1.9967 mean");
    assert!(cs.gap, "a 1.9967 mean is below 2");
}

// "A task's affected orders per month = leak rate x its monthly orders (a 2% refund-error rate on 5,000 orders is
//  100 unhappy customers a month)."
#[test]
fn task_affected_orders_are_leak_rate_times_monthly_orders() {
    let report = report(
        &brand(3_000_000.0, 5_000),
        &[
            task(O2C, "Issue refunds", 1, 2.0, 0.02),
            task(O2C, "Screen fraud", 1, 1.0, 0.004).orders(2_500),
            task(O2C, "Capture payment", 2, 0.5, 0.0),
        ],
    );
    let affected: Vec<(&str, u64, f64)> = report
        .tasks
        .iter()
        .map(|task| (task.name.as_str(), task.monthly_orders, task.affected_orders))
        .collect();
    // 0.02 x 5,000 = 100 (the source's example); 0.004 x 2,500 = 10; 0 x 5,000 = 0.
    for ((name, orders, got), expected) in affected.iter().zip([100.0, 10.0, 0.0]) {
        assert_close(*got, expected, 1e-9, &format!("affected orders of {name} ({orders} orders)"));
    }
}

// "A zone's monthly orders are the largest of its tasks' (every order flows through each step); its affected orders
//  are the sum over its tasks; its leak rate is affected orders over its monthly orders."
#[test]
fn zone_orders_are_the_largest_tasks_affected_the_sum_and_leak_rate_their_ratio() {
    let report = report(
        &brand(8_000_000.0, 6_000),
        &[
            task(FUL, "Sync stock", 1, 4.0, 0.02).orders(5_000), // 100 affected
            task(FUL, "Hand to 3PL", 2, 1.0, 0.01).orders(3_000), // 30 affected
            task(FUL, "Handle exceptions", 1, 3.0, 0.05).orders(1_200), // 60 affected
            task(O2C, "Other zone", 1, 3.0, 0.5).orders(6_000),  // not counted in fulfillment
        ],
    );
    let fulfillment = zone(&report, FUL);
    assert_eq!(
        fulfillment.monthly_orders, 5_000,
        "largest task's orders, not the sum (9,200) or the brand's"
    );
    assert_close(fulfillment.affected_orders, 190.0, 1e-9, "100 + 30 + 60");
    assert_close_opt(fulfillment.leak_rate, 190.0 / 5_000.0, 1e-9, "190 / 5,000 = 3.8%");
    assert_close(fulfillment.weekly_hours, 8.0, 1e-9, "zone weekly hours");
}

// "Dollars at stake per month = weekly hours x 52/12 x hourly cost + affected orders x cost per leaked order (by
//  default the average order value, annual GMV / 12 / monthly orders), summed over the zone's tasks."
#[test]
fn dollars_are_hours_cost_plus_leaked_orders_cost_summed_over_the_zone() {
    // $6M a year, 5,000 orders a month: average order value = 6,000,000 / 12 / 5,000 = $100. $40 an hour.
    let report = report(
        &brand(6_000_000.0, 5_000).hourly(40.0),
        &[
            // 3 h x 52/12 x $40 = $520; 0.02 x 5,000 = 100 orders x $100 (default) = $10,000; total $10,520.
            task(O2C, "Refunds", 1, 3.0, 0.02),
            // 1.5 h x 52/12 x $40 = $260; 0.01 x 2,000 = 20 orders x $25 (its own) = $500; total $760.
            task(O2C, "Chargebacks", 1, 1.5, 0.01).orders(2_000).leak_cost(25.0),
            // Another zone: 2 h x 52/12 x $40 = $346.67, no leak.
            task(CS, "Tickets", 1, 2.0, 0.0),
        ],
    );
    assert_close_opt(report.assumptions.average_order_value_usd, 100.0, 1e-9, "average order value");
    let refunds = &report.tasks[0];
    assert_close(refunds.hours_cost_usd, 3.0 * WEEKS_PER_MONTH * 40.0, 0.005, "refunds hours cost");
    assert_close(refunds.leak_cost_total_usd, 100.0 * 100.0, 0.005, "refunds leak cost (default AOV)");
    assert_close(refunds.monthly_cost_usd, 10_520.0, 0.005, "refunds dollars");
    let chargebacks = &report.tasks[1];
    assert_close(chargebacks.leak_cost_total_usd, 20.0 * 25.0, 0.005, "leak_cost_usd overrides the AOV");
    assert_close(chargebacks.monthly_cost_usd, 760.0, 0.005, "chargebacks dollars");

    // Summed over the zone's tasks, and only its own: 10,520 + 760 = 11,280.
    assert_close(zone(&report, O2C).monthly_cost_usd, 11_280.0, 0.01, "order-to-cash dollars");
    assert_close(
        zone(&report, CS).monthly_cost_usd,
        2.0 * 52.0 / 12.0 * 40.0,
        0.01,
        "customer service dollars",
    );
    assert_close(zone(&report, FUL).monthly_cost_usd, 0.0, 0.0, "a zone with no tasks has no dollars");
}

// "A zone is a gap when its score is below 2, or below the minimum target of the brand's GMV band."
#[test]
fn a_zone_is_a_gap_below_2_or_below_its_bands_minimum_target() {
    // (annual GMV, zone, task maturities, gap?)
    let cases: &[(f64, &str, &[u8], bool)] = &[
        (20_000_000.0, O2C, &[2, 3], true), // 2.5 < the $15M-$50M order-to-cash target of 3
        (20_000_000.0, O2C, &[3], false),   // at target
        (20_000_000.0, FUL, &[2, 3], false), // 2.5 within fulfillment's 2-3
        (20_000_000.0, CS, &[2], false),    // at the minimum of 2-3
        (20_000_000.0, PP, &[1, 2], true),  // 1.5: below 2 and below 2-3
        (3_000_000.0, CS, &[2], false),     // $1M-$5M customer service target is 1
        (3_000_000.0, CS, &[1], true),      // at the band's target of 1, but below 2
        (3_000_000.0, FUL, &[1, 2], true),  // 1.5 inside fulfillment's 1-2, but below 2
        (3_000_000.0, O2C, &[2], false),    // $1M-$5M order-to-cash target is 2
        (8_000_000.0, O2C, &[2], false),    // $5M-$15M order-to-cash target is 2-3
        (8_000_000.0, O2C, &[1, 2], true),  // 1.5
        (60_000_000.0, O2C, &[2], false),   // no band: only below 2 counts
        (60_000_000.0, O2C, &[2, 1], true), // 1.5
        (500_000.0, CS, &[1], true),        // no band, below 2
    ];
    for (gmv, key, maturities, expected) in cases {
        let tasks: Vec<TaskSpec> = maturities
            .iter()
            .enumerate()
            .map(|(idx, maturity)| task(key, &format!("Task {idx}"), *maturity, 0.5, 0.0))
            .collect();
        let report = report(&brand(*gmv, 5_000), &tasks);
        let found = zone(&report, key);
        assert_eq!(found.gap, *expected, "${gmv} {key} at {:?}", found.score);
        assert_eq!(
            report.ranking.iter().any(|gap| gap.zone == found.zone),
            *expected,
            "${gmv} {key}: gaps and only gaps are ranked"
        );
    }
    // The same rule as a function: (score, band minimum) -> gap.
    assert!(is_gap(1.99, None));
    assert!(!is_gap(2.0, None));
    assert!(is_gap(1.5, Some(1)));
    assert!(!is_gap(2.0, Some(1)));
    assert!(is_gap(2.5, Some(3)));
    assert!(!is_gap(3.0, Some(3)));
}

// ---------------------------------------------------------------------------------------------------------------
// Ranking
// ---------------------------------------------------------------------------------------------------------------

// "Gaps are ranked by dollars at stake, then by order volume, then by lower score; the top is the first project."
#[test]
fn gaps_are_ranked_by_dollars_first() {
    // $12 an hour makes the hours cost exact: h x 52/12 x 12 = 52 h.
    let report = report(
        &brand(8_000_000.0, 5_000).hourly(12.0),
        &[
            task(O2C, "Retry charges", 1, 1.0, 0.0).orders(5_000), // $52, most orders
            task(FUL, "Sync stock", 1, 2.0, 0.0).orders(100),      // $104, fewest orders
            task(CS, "Tickets", 0, 0.5, 0.0).orders(4_000),        // $26, lowest score
            task(PP, "Reviews", 3, 0.5, 0.0),                      // not a gap
        ],
    );
    assert_eq!(ranked_zones(&report), [FUL, O2C, CS]);
    let ranks: Vec<usize> = report.ranking.iter().map(|gap| gap.rank).collect();
    assert_eq!(ranks, [1, 2, 3]);
    assert_eq!(zone(&report, FUL).rank, Some(1), "the top is the first project");
    assert_eq!(zone(&report, O2C).rank, Some(2));
    assert_eq!(zone(&report, CS).rank, Some(3));
    assert_eq!(zone(&report, PP).rank, None, "a zone that is not a gap has no rank");
    assert_eq!(report.totals.n_gaps, 3);
}

// "Gaps are ranked by dollars at stake, then by order volume, then by lower score; the top is the first project."
#[test]
fn gaps_tied_on_dollars_are_ranked_by_order_volume() {
    // Every zone: 1 h x 52/12 x $12 = $52, no leak; only the order volume differs.
    let report = report(
        &brand(8_000_000.0, 5_000).hourly(12.0),
        &[
            task(O2C, "Retry charges", 1, 1.0, 0.0).orders(1_000),
            task(FUL, "Sync stock", 1, 1.0, 0.0).orders(3_000),
            task(CS, "Tickets", 1, 1.0, 0.0).orders(2_000),
        ],
    );
    let dollars: Vec<f64> = report.ranking.iter().map(|gap| gap.monthly_cost_usd).collect();
    assert_eq!(dollars, [52.0, 52.0, 52.0], "the scenario needs a tie on dollars");
    assert_eq!(ranked_zones(&report), [FUL, CS, O2C]);
}

// "Gaps are ranked by dollars at stake, then by order volume, then by lower score; the top is the first project."
#[test]
fn gaps_tied_on_dollars_and_volume_are_ranked_by_lower_score() {
    // Every zone: $52 and 2,000 orders; scores 1, 0 and 0.5.
    let report = report(
        &brand(8_000_000.0, 5_000).hourly(12.0),
        &[
            task(O2C, "Retry charges", 1, 1.0, 0.0).orders(2_000),
            task(FUL, "Sync stock", 0, 1.0, 0.0).orders(2_000),
            task(CS, "Route tickets", 1, 0.5, 0.0).orders(2_000),
            task(CS, "Look up orders", 0, 0.5, 0.0).orders(2_000),
        ],
    );
    let ties: Vec<(f64, u64)> =
        report.ranking.iter().map(|gap| (gap.monthly_cost_usd, gap.monthly_orders)).collect();
    assert_eq!(ties, [(52.0, 2_000), (52.0, 2_000), (52.0, 2_000)], "the scenario needs a tie on both");
    assert_eq!(ranked_zones(&report), [FUL, CS, O2C]);
}

// ---------------------------------------------------------------------------------------------------------------
// GMV bands
// ---------------------------------------------------------------------------------------------------------------

// "GMV bands and targets (min-max score): $1M-$5M: order-to-cash 2, fulfillment 1-2, customer service 1,
//  post-purchase 1; $5M-$15M: 2-3, 2, 2, 2; $15M-$50M: 3, 2-3, 2-3, 2-3."
#[test]
fn every_band_has_the_sources_targets() {
    let table: [(Band, [(u8, u8); 4]); 3] = [
        (Band::From1MTo5M, [(2, 2), (1, 2), (1, 1), (1, 1)]),
        (Band::From5MTo15M, [(2, 3), (2, 2), (2, 2), (2, 2)]),
        (Band::From15MTo50M, [(3, 3), (2, 3), (2, 3), (2, 3)]),
    ];
    for (band, targets) in table {
        for (zone, target) in Zone::ALL.into_iter().zip(targets) {
            assert_eq!(band.target(zone), target, "{band:?} {zone}");
        }
    }
    // And the report carries them on each zone, for a brand inside each band.
    for (gmv, targets) in [(3_000_000.0, table[0].1), (8_000_000.0, table[1].1), (20_000_000.0, table[2].1)] {
        let tasks: Vec<TaskSpec> =
            [O2C, FUL, CS, PP].into_iter().map(|key| task(key, key, 1, 1.0, 0.0)).collect();
        let report = report(&brand(gmv, 5_000), &tasks);
        for (key, (min, max)) in [O2C, FUL, CS, PP].into_iter().zip(targets) {
            let found = zone(&report, key);
            assert_eq!((found.target_min, found.target_max), (Some(min), Some(max)), "${gmv} {key}");
        }
    }
}

// "GMV bands and targets (min-max score): $1M-$5M: ...; $5M-$15M: ...; $15M-$50M: .... Outside $1M-$50M the report
//  says the method fits less well."
// A boundary belongs to the band it opens ($5M is $5M-$15M, $15M is $15M-$50M); $1M and $50M are inside.
#[test]
fn band_boundaries() {
    let cases = [
        (0.0, None),
        (999_999.0, None),
        (1_000_000.0, Some(Band::From1MTo5M)),
        (4_999_999.0, Some(Band::From1MTo5M)),
        (5_000_000.0, Some(Band::From5MTo15M)),
        (14_999_999.0, Some(Band::From5MTo15M)),
        (15_000_000.0, Some(Band::From15MTo50M)),
        (50_000_000.0, Some(Band::From15MTo50M)),
        (50_000_001.0, None),
    ];
    for (gmv, expected) in cases {
        assert_eq!(Band::for_gmv(gmv), expected, "Band::for_gmv({gmv})");
        let report = report(&brand(gmv, 5_000), &[task(O2C, "Capture", 2, 1.0, 0.0)]);
        assert_eq!(report.band, expected, "report band at ${gmv}");
    }
}

// "Outside $1M-$50M the report says the method fits less well."
#[test]
fn outside_the_bands_there_is_no_band_and_a_note_says_the_method_fits_less_well() {
    for gmv in [0.0, 500_000.0, 999_999.0, 50_000_001.0, 120_000_000.0] {
        let report = report(&brand(gmv, 5_000), &[task(O2C, "Capture", 2, 1.0, 0.0)]);
        assert_eq!(report.band, None, "${gmv}");
        let note = report.notes.iter().find(|note| note.code == "outside_bands");
        let note =
            note.unwrap_or_else(|| panic!("${gmv}: no outside_bands note in {:?}", codes(&report.notes)));
        assert!(note.message.contains("fits less well"), "${gmv}: {}", note.message);
        let o2c = zone(&report, O2C);
        assert_eq!((o2c.target_min, o2c.target_max), (None, None), "${gmv}: no band target");
    }
    for gmv in [1_000_000.0, 12_000_000.0, 50_000_000.0] {
        let report = report(&brand(gmv, 5_000), &[task(O2C, "Capture", 2, 1.0, 0.0)]);
        assert!(!codes(&report.notes).contains(&"outside_bands"), "${gmv} is inside the bands");
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Hours against score
// ---------------------------------------------------------------------------------------------------------------

// "The maturity scale also states typical hours (0: 5-15 h/week, 1: 3-8, 2: under 2, 3: under 1); a task whose hours
//  contradict its score gets a diagnostic suggesting the lower score."
#[test]
fn hours_that_contradict_the_score_suggest_the_lower_score() {
    // (maturity, weekly hours, suggested maturity)
    let cases: &[(u8, f64, Option<u8>)] = &[
        (2, 6.0, Some(1)),  // 6 h is a 1's hours (3-8)
        (3, 1.5, Some(2)),  // 1.5 h is under 2, not under 1
        (0, 40.0, None),    // a 0 cannot go lower
        (0, 0.5, None),     // fewer hours than a 0 typically takes: the score is already the lower
        (1, 5.0, None),     // consistent
        (1, 8.0, None),     // 3-8 includes 8
        (1, 9.0, Some(0)),  // more than a 1 typically takes
        (2, 1.0, None),     // consistent
        (2, 2.0, Some(1)),  // "under 2" is strict
        (3, 0.5, None),     // consistent
        (3, 1.0, Some(2)),  // "under 1" is strict
        (3, 6.0, Some(1)),  // the score the hours fit, not just one lower
        (2, 12.0, Some(0)), // likewise
    ];
    for (maturity, hours, suggested) in cases {
        let report = report(&mid_brand(), &[task(FUL, "Sync stock", *maturity, *hours, 0.0)]);
        let found: Vec<Option<u8>> = report
            .diagnostics
            .iter()
            .filter(|diagnostic| diagnostic.code == "hours_contradict_score")
            .map(|diagnostic| {
                assert_eq!(diagnostic.task, "Sync stock");
                assert_eq!(diagnostic.zone, Zone::Fulfillment);
                diagnostic.suggested_maturity
            })
            .collect();
        let expected: Vec<Option<u8>> = suggested.iter().map(|score| Some(*score)).collect();
        assert_eq!(found, expected, "maturity {maturity} at {hours} h/week");
    }
    // The fitting score for a number of hours, on its own.
    for (hours, fits) in
        [(0.0, 3), (0.99, 3), (1.0, 2), (1.99, 2), (2.0, 1), (5.0, 1), (8.0, 1), (8.5, 0), (15.0, 0)]
    {
        assert_eq!(maturity_for_hours(hours).value(), fits, "{hours} h/week");
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The decision checklist
// ---------------------------------------------------------------------------------------------------------------

// "The decision checklist, per gap (zone figures): more than 3 h/week? ..."
#[test]
fn checklist_hours_is_more_than_3_hours_a_week_for_the_zone() {
    let cases: &[(&[f64], bool)] = &[
        (&[1.5, 1.5], false), // exactly 3: not more than 3
        (&[1.5, 1.51], true),
        (&[2.0, 2.0], true), // neither task alone, the zone together
        (&[3.0], false),
        (&[3.5], true),
    ];
    for (hours, expected) in cases {
        let tasks: Vec<TaskSpec> = hours
            .iter()
            .enumerate()
            .map(|(idx, hours)| task(O2C, &format!("Task {idx}"), 1, *hours, 0.05))
            .collect();
        let report = report(&mid_brand(), &tasks);
        let checklist = gap(&report, O2C).checklist;
        assert_eq!(checklist.hours_over_3, *expected, "hours {hours:?}");
    }
}

// "The decision checklist, per gap (zone figures): ... leak rate above 2%? ..."
#[test]
fn checklist_leak_is_a_zone_leak_rate_above_2_percent() {
    // (tasks as (monthly orders, leak rate), leak above 2%?)
    let cases: &[(&[(u64, f64)], bool)] = &[
        (&[(1_000, 0.02)], false),                  // exactly 2%: not above
        (&[(1_000, 0.021)], true),                  // 2.1%
        (&[(1_000, 0.02), (500, 0.004)], true),     // (20 + 2) / 1,000 = 2.2%, though no task is above 2%
        (&[(1_000, 0.01), (500, 0.02)], false),     // (10 + 10) / 1,000 = 2%
        (&[(1_000, 0.0), (100, 0.5)], true),        // 50 / 1,000 = 5%
        (&[(1_000, 0.005), (1_000, 0.005)], false), // 10 / 1,000 = 1%
    ];
    for (tasks, expected) in cases {
        let tasks: Vec<TaskSpec> = tasks
            .iter()
            .enumerate()
            .map(|(idx, (orders, leak))| task(O2C, &format!("Task {idx}"), 1, 4.0, *leak).orders(*orders))
            .collect();
        let report = report(&mid_brand(), &tasks);
        let found = gap(&report, O2C);
        assert_eq!(found.checklist.leak_over_2pct, *expected, "zone leak rate {:?}", found.leak_rate);
    }
}

// "The decision checklist, per gap (zone figures): ... volume growing this year (any task growing)? ..."
// (A task's growth defaults to the brand's: "whether its volume will grow this year".)
#[test]
fn checklist_growing_is_any_task_growing_defaulting_to_the_brand() {
    // (brand growing, tasks' own growing, growing?)
    type Case = (Option<bool>, &'static [Option<bool>], bool);
    let cases: &[Case] = &[
        (Some(true), &[None, None], true), // both default to the brand's
        (Some(false), &[None, None], false),
        (None, &[None, None], false), // a brand that does not say is not growing
        (Some(false), &[None, Some(true)], true), // any task
        (Some(true), &[Some(false), Some(false)], false), // every task says no
        (Some(true), &[Some(false), None], true), // the second defaults to the brand's yes
    ];
    for (brand_growing, tasks_growing, expected) in cases {
        let tasks: Vec<TaskSpec> = tasks_growing
            .iter()
            .enumerate()
            .map(|(idx, growing)| {
                let spec = task(O2C, &format!("Task {idx}"), 1, 4.0, 0.05);
                match growing {
                    Some(growing) => spec.growing(*growing),
                    None => spec,
                }
            })
            .collect();
        let report = report(&mid_brand().growing(*brand_growing), &tasks);
        assert_eq!(
            gap(&report, O2C).checklist.growing,
            *expected,
            "brand {brand_growing:?}, tasks {tasks_growing:?}"
        );
    }
}

// "The decision checklist, per gap (zone figures): ... crosses more than one tool (the zone's tasks name two or more
//  tools together)? ..."
#[test]
fn checklist_multi_tool_is_two_or_more_distinct_tools_across_the_zones_tasks() {
    let cases: &[(&[&[&str]], bool)] = &[
        (&[&["shopify", "stripe"]], true),
        (&[&["shopify"], &["stripe"]], true), // no task crosses tools alone; together they do
        (&[&["klaviyo"], &["klaviyo"]], false), // one tool only
        (&[&["Shopify"], &["shopify"]], false), // the same tool spelled twice
        (&[&["klaviyo"]], false),
        (&[&[]], false), // no tool named
    ];
    for (tools, expected) in cases {
        let tasks: Vec<TaskSpec> = tools
            .iter()
            .enumerate()
            .map(|(idx, tools)| task(PP, &format!("Task {idx}"), 1, 4.0, 0.05).tools(tools))
            .collect();
        let report = report(&mid_brand(), &tasks);
        assert_eq!(gap(&report, PP).checklist.multi_tool, *expected, "tools {tools:?}");
    }
}

// "The decision checklist, per gap (zone figures): ... has an owner (every task in the zone has one)?"
#[test]
fn checklist_has_owner_needs_every_task_in_the_zone_owned() {
    let cases: &[(&[Option<&'static str>], bool)] = &[
        (&[Some("Ops lead"), Some("CX lead")], true),
        (&[Some("Ops lead"), None], false), // one unowned task is enough to say no
        (&[None, None], false),
        (&[Some("Ops lead"), Some("   ")], false), // a blank owner is no owner
    ];
    for (owners, expected) in cases {
        let tasks: Vec<TaskSpec> = owners
            .iter()
            .enumerate()
            .map(|(idx, owner)| task(FUL, &format!("Task {idx}"), 1, 4.0, 0.05).owner(*owner))
            .collect();
        let report = report(&mid_brand(), &tasks);
        assert_eq!(gap(&report, FUL).checklist.has_owner, *expected, "owners {owners:?}");
    }
}

// "The decision checklist, per gap (zone figures): more than 3 h/week? leak rate above 2%? volume growing this year
//  (any task growing)? crosses more than one tool (...)? has an owner (...)?"
#[test]
fn checklist_yes_count_counts_the_five_answers() {
    // Each row flips answers off one at a time from a zone that says yes to all five.
    let all_yes = || task(O2C, "Retry charges", 1, 4.0, 0.05).tools(&["stripe", "shopify"]);
    let cases: Vec<(TaskSpec, [bool; 5])> = vec![
        (all_yes(), [true, true, true, true, true]),
        (
            task(O2C, "Retry charges", 1, 2.0, 0.05).tools(&["stripe", "shopify"]),
            [false, true, true, true, true],
        ),
        (
            task(O2C, "Retry charges", 1, 2.0, 0.01).tools(&["stripe", "shopify"]),
            [false, false, true, true, true],
        ),
        (all_yes().growing(false), [true, true, false, true, true]),
        (all_yes().tools(&["stripe"]), [true, true, true, false, true]),
        (all_yes().owner(None), [true, true, true, true, false]),
        (task(O2C, "Retry charges", 1, 1.0, 0.0).tools(&[]).owner(None).growing(false), [false; 5]),
    ];
    for (spec, answers) in cases {
        let report = report(&mid_brand(), std::slice::from_ref(&spec));
        let checklist = gap(&report, O2C).checklist;
        let found = [
            checklist.hours_over_3,
            checklist.leak_over_2pct,
            checklist.growing,
            checklist.multi_tool,
            checklist.has_owner,
        ];
        assert_eq!(found, answers, "{spec:?}");
        let yes = answers.iter().filter(|yes| **yes).count() as u8;
        assert_eq!(checklist.yes_count, yes, "{spec:?}");
    }
}

// "A "no" on any of the first three says wait; 4 or 5 "yes" is a defensible first project; one tool only says a
//  point app may suffice; no owner says fix ownership first."
#[test]
fn checklist_verdicts() {
    // (hours > 3 h/week, leak rate, growing, tools, owner, verdict)
    type Case = (f64, f64, bool, &'static [&'static str], Option<&'static str>, &'static str);
    let cases: &[Case] = &[
        (4.0, 0.05, true, &["stripe", "shopify"], Some("Finance"), "first_project"), // 5 yes
        (2.0, 0.05, true, &["stripe", "shopify"], Some("Finance"), "wait"),          // no on hours
        (4.0, 0.01, true, &["stripe", "shopify"], Some("Finance"), "wait"),          // no on leak
        (4.0, 0.05, false, &["stripe", "shopify"], Some("Finance"), "wait"),         // no on growth
        (2.0, 0.01, false, &["stripe"], None, "wait"),                               // 0 yes
        (4.0, 0.05, true, &["stripe", "shopify"], None, "fix_ownership_first"),      // 4 yes, no owner
        (4.0, 0.05, true, &["klaviyo"], Some("Retention"), "point_app"),             // 4 yes, one tool
        (4.0, 0.05, true, &["klaviyo"], None, "fix_ownership_first"),                // ownership comes first
    ];
    for (hours, leak, growing, tools, owner, verdict) in cases {
        let spec = task(O2C, "Retry charges", 1, *hours, *leak).tools(tools).owner(*owner).growing(*growing);
        let report = report(&mid_brand(), &[spec]);
        let found = gap(&report, O2C);
        assert_eq!(
            found.verdict, *verdict,
            "{hours} h, leak {leak}, growing {growing}, {tools:?}, {owner:?}"
        );
    }

    // The same rule straight from the five answers.
    let checklist = |answers: [bool; 5]| Checklist {
        hours_over_3: answers[0],
        leak_over_2pct: answers[1],
        growing: answers[2],
        multi_tool: answers[3],
        has_owner: answers[4],
        yes_count: answers.iter().filter(|yes| **yes).count() as u8,
    };
    let direct: [([bool; 5], &str); 9] = [
        ([true; 5], "first_project"),
        ([false, true, true, true, true], "wait"),
        ([true, false, true, true, true], "wait"),
        ([true, true, false, true, true], "wait"),
        ([false, false, false, false, false], "wait"),
        ([false, true, true, false, false], "wait"),
        ([true, true, true, true, false], "fix_ownership_first"),
        ([true, true, true, false, true], "point_app"),
        ([true, true, true, false, false], "fix_ownership_first"),
    ];
    for (answers, verdict) in direct {
        assert_eq!(checklist_verdict(&checklist(answers)).0, verdict, "{answers:?}");
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Red flags and notes
// ---------------------------------------------------------------------------------------------------------------

// "Red flags that say skip the assessment or automation: no live orders; one all-in-one platform and under 50 orders
//  a month; nobody to own a workflow."
#[test]
fn red_flags() {
    // (monthly orders, platforms, owners of the two tasks, red flag codes)
    type Case = (u64, &'static [&'static str], [Option<&'static str>; 2], &'static [&'static str]);
    let cases: &[Case] = &[
        (0, &["shopify", "amazon"], [Some("Ops"), Some("Ops")], &["no_live_orders"]),
        (49, &["shopify"], [Some("Ops"), Some("Ops")], &["single_platform_tiny_volume"]),
        (50, &["shopify"], [Some("Ops"), Some("Ops")], &[]), // 50 is not under 50
        (40, &["shopify", "amazon"], [Some("Ops"), Some("Ops")], &[]), // two platforms
        (5_000, &["shopify", "amazon"], [None, None], &["no_owner"]),
        (5_000, &["shopify", "amazon"], [None, Some("Ops")], &[]), // somebody owns a workflow
        (30, &["shopify"], [None, None], &["single_platform_tiny_volume", "no_owner"]),
        (5_000, &["shopify"], [Some("Ops"), Some("Ops")], &[]),
    ];
    for (orders, platforms, owners, expected) in cases {
        let tasks = [
            task(O2C, "Capture", 2, 1.0, 0.0).owner(owners[0]),
            task(FUL, "Ship", 2, 1.0, 0.0).owner(owners[1]),
        ];
        let report = report(&brand(3_000_000.0, *orders).platforms(platforms), &tasks);
        assert_eq!(
            codes(&report.red_flags),
            *expected,
            "{orders} orders on {platforms:?}, owners {owners:?}"
        );
    }
}

// "Under a few hundred orders a month, a trained assistant is the honest answer."
#[test]
fn under_a_few_hundred_orders_a_note_says_a_trained_assistant_is_the_answer() {
    for (orders, expected) in [(49, true), (120, true), (299, true), (300, false), (5_000, false)] {
        let report = report(&brand(3_000_000.0, orders), &[task(O2C, "Capture", 2, 1.0, 0.0)]);
        let note = report.notes.iter().find(|note| note.code == "few_hundred_orders");
        assert_eq!(note.is_some(), expected, "{orders} orders a month: notes {:?}", codes(&report.notes));
        if let Some(note) = note {
            assert!(note.message.contains("assistant"), "{}", note.message);
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Zones without scores
// ---------------------------------------------------------------------------------------------------------------

// "A zone's score is the mean of its tasks' maturity": a zone with no tasks has no mean. It is not assessed, never
// scored 0, never a gap.
#[test]
fn a_zone_with_no_tasks_is_not_assessed_never_zero() {
    let report = report(&mid_brand(), &[task(O2C, "Retry charges", 1, 4.0, 0.05)]);
    for key in [FUL, CS, PP] {
        let found = zone(&report, key);
        assert!(!found.assessed, "{key} assessed");
        assert_eq!(found.score, None, "{key} score");
        assert_eq!(found.level, None, "{key} level");
        assert!(!found.gap, "{key} gap");
        assert_eq!(found.rank, None, "{key} rank");
        assert_eq!(found.n_tasks, 0);
        let code = format!("not_assessed:{key}");
        let note = report.notes.iter().find(|note| note.code == code);
        let note = note.unwrap_or_else(|| panic!("no {code} note in {:?}", codes(&report.notes)));
        assert!(note.message.contains("not assessed"), "{}", note.message);
    }
    assert!(zone(&report, O2C).assessed);
    assert!(!codes(&report.notes).contains(&"not_assessed:order_to_cash"));
    assert_eq!(ranked_zones(&report), [O2C], "only the assessed zone can be a gap");
}

// "A zone's score is the mean of its tasks' maturity": tasks listed without a maturity yet (unscored) are not
// counted in any figure, and a zone of only unscored tasks is not assessed.
#[test]
fn unscored_tasks_are_not_counted() {
    let report = report(
        &mid_brand(),
        &[
            task(O2C, "Capture", 2, 1.0, 0.0),
            task(O2C, "Refunds", 2, 1.0, 0.01),
            unscored(O2C, "Fraud").orders(9_000),
            unscored(FUL, "Sync stock"),
        ],
    );
    let o2c = zone(&report, O2C);
    assert_close_opt(o2c.score, 2.0, 1e-9, "mean of the two scored tasks, not (2 + 2 + 0) / 3");
    assert_eq!(o2c.level, Some(2));
    assert!(!o2c.gap, "an unscored task does not drag the zone below 2");
    assert_eq!((o2c.n_tasks, o2c.n_scored), (3, 2));
    assert_eq!(o2c.monthly_orders, 5_000, "the unscored task's 9,000 orders are not counted");
    assert_close(o2c.weekly_hours, 2.0, 1e-9, "hours of the scored tasks only");

    let fulfillment = zone(&report, FUL);
    assert!(!fulfillment.assessed);
    assert_eq!((fulfillment.score, fulfillment.level, fulfillment.gap), (None, None, false));
    assert_eq!((fulfillment.n_tasks, fulfillment.n_scored), (1, 0));
    assert!(codes(&report.notes).contains(&"not_assessed:fulfillment"), "{:?}", codes(&report.notes));

    let unscored_task = report.tasks.iter().find(|task| task.name == "Fraud").expect("Fraud is listed");
    assert!(!unscored_task.scored);
    assert_eq!(unscored_task.maturity, None, "not scored is not a 0");
    assert_eq!(unscored_task.monthly_cost_usd, 0.0);
    assert_eq!((report.totals.n_tasks, report.totals.n_scored), (4, 2));
}

// ---------------------------------------------------------------------------------------------------------------
// The deliverable
// ---------------------------------------------------------------------------------------------------------------

// "The deliverable is one page: zone, score, weekly hours lost, leak rate, order volume, dollars, target, verdict,
//  and the ranked tasks under each gap."
#[test]
fn the_deliverable_ranks_the_tasks_under_each_gap() {
    // $12M, 10,000 orders: average order value $100. $12 an hour: h x 52 a month.
    let report = report(
        &brand(12_000_000.0, 10_000).hourly(12.0),
        &[
            task(FUL, "Cheap", 1, 1.0, 0.0),                           // $52
            task(FUL, "Leaky", 1, 1.0, 0.01),                          // $52 + 100 x $100 = $10,052
            task(FUL, "Busy", 1, 5.0, 0.0),                            // $260
            task(FUL, "Cheap, fewer orders", 0, 1.0, 0.0).orders(500), // $52, fewer orders than "Cheap"
            task(CS, "Tickets", 2, 1.0, 0.0),
        ],
    );
    let fulfillment = gap(&report, FUL);
    let order: Vec<&str> = fulfillment.tasks.iter().map(|task| task.name.as_str()).collect();
    assert_eq!(order, ["Leaky", "Busy", "Cheap", "Cheap, fewer orders"]);
    // The zone line: score, hours, leak rate, volume, dollars, target, verdict.
    assert_close_opt(fulfillment.score, 0.75, 1e-9, "score");
    assert_close(fulfillment.weekly_hours, 8.0, 1e-9, "weekly hours");
    assert_close_opt(fulfillment.leak_rate, 0.01, 1e-9, "leak rate");
    assert_eq!(fulfillment.monthly_orders, 10_000);
    assert_close(fulfillment.monthly_cost_usd, 52.0 + 10_052.0 + 260.0 + 52.0, 0.01, "dollars");
    assert_eq!(fulfillment.target_min, Some(2));
    assert_eq!(zone(&report, FUL).verdict, "gap");
    assert_eq!(zone(&report, CS).verdict, "on_target");
}

// "It is re-run quarterly and compared with the last run."
#[test]
fn compare_lists_zones_that_slid_first_and_task_drift() {
    let last_quarter = report(
        &mid_brand(),
        &[
            task(O2C, "Capture", 2, 1.0, 0.0),
            task(FUL, "Hand to 3PL", 2, 1.0, 0.0),
            task(CS, "Answer order status", 2, 1.0, 0.0),
            task(CS, "Old macro", 2, 1.0, 0.0),
            task(PP, "Reviews", 3, 0.5, 0.0),
        ],
    );
    let this_quarter = report(
        &mid_brand(),
        &[
            task(O2C, "Capture", 2, 1.0, 0.0),
            task(FUL, "Hand to 3PL", 2, 1.0, 0.0),
            task(CS, "Answer order status", 1, 5.0, 0.0), // slid 2 -> 1 after a marketplace was added
            task(CS, "Marketplace messages", 1, 4.0, 0.0), // new
            task(PP, "Reviews", 3, 0.5, 0.0),
        ],
    );
    let comparison = compare(&this_quarter, &last_quarter, "q1.toml");
    assert_eq!(comparison.previous, "q1.toml");
    let first = &comparison.zones[0];
    assert_eq!(first.zone, Zone::CustomerService, "the zone that slid comes first");
    assert_eq!((first.previous_score, first.score), (Some(2.0), Some(1.0)));
    assert_eq!((first.previous_level, first.level), (Some(2), Some(1)));
    assert!(first.slid);
    assert_eq!(first.change, "slid");
    assert!(!first.previous_gap && first.gap);
    assert_eq!(comparison.slid, [Zone::CustomerService]);
    for drift in &comparison.zones[1..] {
        assert!(!drift.slid, "{} did not slide", drift.zone);
        assert_eq!(drift.change, "unchanged", "{}", drift.zone);
    }

    let tasks: Vec<(&str, &str)> =
        comparison.tasks.iter().map(|drift| (drift.name.as_str(), drift.change.as_str())).collect();
    assert_eq!(
        tasks,
        [("Answer order status", "slid"), ("Old macro", "removed"), ("Marketplace messages", "added")],
        "slid first, then removed, then added; unchanged tasks left out"
    );
    let slid = &comparison.tasks[0];
    assert_eq!((slid.previous_maturity, slid.maturity), (Some(2), Some(1)));
}

// Issue 8: "`--compare` against another brand's file still reports but puts a warning naming both brands first
// (a `warnings` list in the JSON)."
#[test]
fn comparing_with_another_brands_run_warns_naming_both_brands() {
    let tasks = [task(O2C, "Capture", 2, 1.0, 0.0), task(CS, "Route tickets", 1, 5.0, 0.0)];
    let mut current = report(&mid_brand(), &tasks);
    let mut other = report(&mid_brand(), &tasks);
    other.brand.name = "Another Shop".to_string();
    compare_with_previous(&mut current, &other, "other.toml");
    assert!(current.compare.is_some(), "the comparison is still made");
    assert_eq!(current.warnings.len(), 1, "{:?}", current.warnings);
    let warning = &current.warnings[0];
    for named in [current.brand.name.as_str(), "Another Shop", "other.toml"] {
        assert!(warning.contains(named), "the warning names {named}: {warning}");
    }

    // The same brand, whatever the case or spacing of its name, is no warning.
    let mut same = report(&mid_brand(), &tasks);
    let mut renamed = same.clone();
    renamed.brand.name = format!("  {}  ", same.brand.name.to_uppercase());
    compare_with_previous(&mut same, &renamed, "q1.toml");
    assert_eq!(same.warnings, Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------------------------------
// The worked example
// ---------------------------------------------------------------------------------------------------------------

// "Gaps are ranked by dollars at stake, then by order volume, then by lower score; the top is the first project."
// "4 or 5 "yes" is a defensible first project."
// The source's $12M apparel brand (examples/apparel-12m.toml).
#[test]
fn worked_example_order_to_cash_is_the_first_project() {
    let text = include_str!("../../../examples/apparel-12m.toml");
    let assessment = parse_assessment("apparel-12m.toml", text).unwrap_or_else(|error| panic!("{error}"));
    let report = score(&assessment);

    assert_eq!(report.band, Some(Band::From5MTo15M));
    let first = &report.ranking[0];
    assert_eq!(first.zone, Zone::OrderToCash, "ranking: {:?}", ranked_zones(&report));
    assert_eq!(first.rank, 1);

    // Order-to-cash: maturities 2, 1, 1, 1, 0 -> score 5/5 = 1.0, level 1.
    assert_close_opt(first.score, 1.0, 1e-9, "order-to-cash score");
    assert_eq!(first.level, Some(1));
    // Average order value = 12,000,000 / 12 / 18,000 = $55.5556; hourly cost $40; 52/12 weeks a month.
    // Hours: 1 + 3 + 4 + 6 + 3 = 17 h/week -> 17 x 52/12 x 40 = $2,946.67.
    // Affected orders (all tasks at the brand's 18,000 orders):
    //   capture  0.002 x 18,000 =  36 x $55.5556 = $2,000
    //   fraud    0.004 x 18,000 =  72 x $55.5556 = $4,000
    //   refunds  0.012 x 18,000 = 216 x $55.5556 = $12,000
    //   retries  0.031 x 18,000 = 558 x $55 (its own leak_cost_usd) = $30,690
    //   payouts  0       x 18,000 =   0
    //   -> 882 affected orders, $48,690.
    // Dollars = 2,946.67 + 48,690 = $51,636.67 a month.
    let average_order_value = 12_000_000.0 / 12.0 / 18_000.0;
    let hours_cost = 17.0 * 52.0 / 12.0 * 40.0;
    let leak_cost = (36.0 + 72.0 + 216.0) * average_order_value + 558.0 * 55.0;
    let dollars = hours_cost + leak_cost;
    assert_close(dollars, 51_636.67, 0.005, "hand computation");
    // Per-task figures are rounded to cents before they are summed: allow a few cents.
    assert_close(first.monthly_cost_usd, dollars, 0.03, "order-to-cash dollars");
    assert_close(first.weekly_hours, 17.0, 1e-9, "order-to-cash weekly hours");
    assert_eq!(first.monthly_orders, 18_000);
    assert_close(first.affected_orders, 882.0, 1e-9, "order-to-cash affected orders");
    assert_close_opt(first.leak_rate, 882.0 / 18_000.0, 1e-6, "order-to-cash leak rate (4.9%)");

    // Checklist: 17 h > 3, 4.9% > 2%, growing, stripe + shopify + gorgias + quickbooks, every task owned.
    let checklist = first.checklist;
    assert_eq!(
        [
            checklist.hours_over_3,
            checklist.leak_over_2pct,
            checklist.growing,
            checklist.multi_tool,
            checklist.has_owner
        ],
        [true; 5]
    );
    assert_eq!(checklist.yes_count, 5);
    assert_eq!(first.verdict, "first_project");

    // Its most expensive task is the hand-retried subscription charges: 6 x 52/12 x 40 + 558 x 55 = $31,730.
    assert_eq!(first.tasks[0].name, "Retry failed subscription charges");
    assert_close(first.tasks[0].monthly_cost_usd, 1_040.0 + 30_690.0, 0.005, "retries dollars");

    // Fulfillment (score 1.0) and customer service (1.75) are gaps too; post-purchase (2.2) meets the $5M-$15M 2.
    assert_eq!(ranked_zones(&report)[0], O2C);
    assert!(zone(&report, FUL).gap);
    assert!(zone(&report, CS).gap);
    assert_eq!(zone(&report, CS).level, Some(1));
    assert!(!zone(&report, PP).gap);
}

// "A zone's score is the mean of its tasks' maturity; its level is the score rounded down (when unsure, the lower)":
// the score shown is rounded down too, so a zone just under 2 never reads as 2.00 while it is a gap.
#[test]
fn a_score_just_under_two_is_shown_under_two() {
    let brand = brand(8_000_000.0, 10_000);
    let mut tasks: Vec<TaskSpec> =
        (0..299).map(|idx| task("fulfillment", &format!("t{idx}"), 2, 0.5, 0.0)).collect();
    tasks.push(task("fulfillment", "low", 1, 0.5, 0.0));
    let zone =
        report(&brand, &tasks).zones.into_iter().find(|zone| zone.zone == Zone::Fulfillment).expect("zone");
    assert_eq!(zone.score, Some(1.99));
    assert_eq!(zone.level, Some(1));
    assert!(zone.gap);
}
