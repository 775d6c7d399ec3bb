//! Parser benchmark: how long reading an assessment file takes as the number of tasks grows.
//!
//! The parser is meant to be linear: a task's line number comes from one index of line starts (searched by
//! bisection) and a repeated name from one hash look-up, so ten times the tasks should take about ten times as long.
//! Before issue 8 each task's line was counted from the start of the file and grew with the square of the tasks.
//!
//!     cargo bench -p seam-assess --bench parse [-- TASKS...]
//!
//! For each size (1,000, 8,000, 32,000 and 100,000 tasks by default) it writes a file of scored tasks with every
//! optional key, parses it in several rounds and prints the median, the median per task (a flat "per task" column
//! is linear growth; the ratio is to the first size) and how much of it toml's own parser takes. Figures are recorded in docs/benchmarks.md. This is a measurement, not a test: nothing here
//! fails on a slow machine.

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

use seam_assess::parse_assessment;

const ZONES: [&str; 4] = ["order_to_cash", "fulfillment", "customer_service", "post_purchase"];

/// Rounds of measurements. Each round times every size once, so a change in the machine's load (it is shared)
/// falls on all sizes alike instead of on whichever size happened to run then.
const ROUNDS: usize = 11;

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .filter_map(|arg| arg.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() { vec![1_000, 8_000, 32_000, 100_000] } else { sizes };
    let texts: Vec<String> = sizes.iter().map(|n_tasks| assessment_text(*n_tasks)).collect();
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); sizes.len()];
    // The same files through toml's own parser alone (the tree the reader walks), to show where the time goes.
    let mut toml_times: Vec<Vec<Duration>> = vec![Vec::new(); sizes.len()];
    for _ in 0..ROUNDS {
        for (idx, (n_tasks, text)) in sizes.iter().zip(&texts).enumerate() {
            let started = Instant::now();
            let parsed = parse_assessment("bench.toml", black_box(text));
            times[idx].push(started.elapsed());
            let assessment = parsed.unwrap_or_else(|error| panic!("the bench file is valid: {error}"));
            assert_eq!(assessment.tasks.len(), *n_tasks);
            drop(assessment);

            // Timed with the tree's drop, as `parse_assessment` drops it before returning.
            let started = Instant::now();
            let parsed_ok = toml::de::DeTable::parse(black_box(text)).is_ok();
            toml_times[idx].push(started.elapsed());
            assert!(parsed_ok);
        }
    }

    println!("{ROUNDS} rounds, medians");
    println!("{:>9}  {:>10}  {:>11}  {:>19}  {:>17}", "tasks", "file", "parse", "per task", "of which TOML");
    let mut first_per_task: Option<f64> = None;
    for (idx, n_tasks) in sizes.iter().enumerate() {
        let median = median_of(&mut times[idx]);
        let toml_median = median_of(&mut toml_times[idx]);
        let per_task_us = median.as_secs_f64() * 1e6 / *n_tasks as f64;
        let ratio = first_per_task.get_or_insert(per_task_us);
        println!(
            "{n_tasks:>9}  {:>7.1} MB  {:>8.1} ms  {per_task_us:>6.2} µs ({:.2}x)  {:>8.1} ms ({:>3.0}%)",
            texts[idx].len() as f64 / 1e6,
            median.as_secs_f64() * 1e3,
            per_task_us / *ratio,
            toml_median.as_secs_f64() * 1e3,
            toml_median.as_secs_f64() / median.as_secs_f64() * 100.0,
        );
    }
}

fn median_of(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// A valid assessment of `n_tasks` scored tasks, each with every key a task takes, as `seam assess new` and the
/// wizard lay them out (a blank line and a `[[tasks]]` header per task).
fn assessment_text(n_tasks: usize) -> String {
    let mut text = String::with_capacity(n_tasks * 260);
    text.push_str(
        "[brand]\nname = \"Bench Brand\"\nannual_gmv_usd = 12000000\nmonthly_orders = 18000\nhourly_cost_usd = 40\n\
         platforms = [\"shopify\", \"amazon\"]\ngrowing = true\n",
    );
    for idx in 0..n_tasks {
        let _ = write!(
            text,
            "\n[[tasks]]\nzone = \"{}\"\nname = \"Task {idx}\"\nmaturity = {}\nweekly_hours = {}.5\n\
             leak_rate = 0.0{}\nmonthly_orders = {}\ntools = [\"stripe\", \"shopify\"]\nowner = \"Ops lead\"\n\
             growing = false\nleak_cost_usd = 55.0\n",
            ZONES[idx % 4],
            idx % 4,
            idx % 7,
            idx % 10,
            1_000 + idx % 17_000,
        );
    }
    text
}
