//! Measured maturity: the project's reading of the source's scale, which speaks of human touch *per task*:
//! "100% manual, every order" (0), "~50% manual finish step" (1), "<10% exceptions only" (2), "<2% escalations,
//! auto-retried" (3). The rules are in `docs/assessment.md` ("Measured maturity"); this module is their one
//! implementation, pure arithmetic over counts.

use serde::Serialize;

use crate::measure::Share;
use crate::time::Month;

/// Where the number of instances through a step came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Volume {
    /// Counted in an import that the task is linked to (`source` names it, e.g. `stripe-payments:renewals`).
    Measured { source: String, instances: i64 },
    /// The assessment file's `monthly_orders` for the task.
    Stated { instances: i64 },
}

impl Volume {
    pub fn instances(&self) -> i64 {
        match self {
            Volume::Measured { instances, .. } | Volume::Stated { instances } => *instances,
        }
    }
}

/// A task's measured human touch for one month, and the maturity it maps to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HumanTouch {
    /// Instances that needed a person, of the instances through the step.
    pub share: Share,
    /// The denominator's origin: the step's volume, never only the runs the engine saw.
    pub volume: Volume,
    /// Whether the workflow retries automatically (needed for a 3).
    pub retries_automatically: bool,
    /// `None` when nothing went through the step that month.
    pub maturity: Option<u8>,
}

/// The share of a task's instances that needed a person. The denominator is the step's volume (`volume`), not the
/// workflow's runs: a dunning workflow runs only for the renewals that failed, yet every renewal went through the
/// step.
pub fn human_touch(needed_a_person: i64, volume: Volume, retries_automatically: bool) -> HumanTouch {
    let (needed, instances) = (needed_a_person.max(0), volume.instances());
    let share = Share::new(needed, instances);
    let maturity = maturity_of(needed, instances, retries_automatically);
    HumanTouch { share, volume, retries_automatically, maturity }
}

/// The mapping, in exact integer arithmetic so a boundary is never lost to rounding: a share of at least 75% is 0;
/// 10% up to 75% is 1; 2% up to 10% is 2; under 2% is 3 when the workflow retries automatically, else 2 (a workflow
/// that sends every failure to a person is "exceptions only", however rare the failures).
pub fn maturity_of(needed: i64, instances: i64, retries_automatically: bool) -> Option<u8> {
    if instances <= 0 {
        return None;
    }
    // needed / instances >= p / 100  <=>  needed * 100 >= p * instances (i128: no overflow at any count).
    let at_least = |percent: i128| i128::from(needed) * 100 >= percent * i128::from(instances);
    Some(if at_least(75) {
        0
    } else if at_least(10) {
        1
    } else if at_least(2) || !retries_automatically {
        2
    } else {
        3
    })
}

/// The days in a calendar month.
pub fn days_in(month: Month) -> i64 {
    jiff::civil::Date::new(month.year, month.month, 1)
        .map(|date| i64::from(date.days_in_month()))
        .unwrap_or(30)
}

/// Weekly hours measured from the people's decisions: decisions per week (the month's decisions x 7 / its days)
/// times minutes per decision, in hours. `minutes_per_decision` is the brand's assumption (`[brand]
/// minutes_per_decision`, default [`DEFAULT_MINUTES_PER_DECISION`]) and is shown as one.
pub fn weekly_hours(decisions: i64, month: Month, minutes_per_decision: f64) -> f64 {
    let per_week = decisions.max(0) as f64 * 7.0 / days_in(month) as f64;
    per_week * minutes_per_decision / 60.0
}

/// Minutes a person spends on one decision when the assessment does not say.
pub const DEFAULT_MINUTES_PER_DECISION: f64 = 10.0;

#[cfg(test)]
mod tests {
    use super::*;

    fn stated(instances: i64) -> Volume {
        Volume::Stated { instances }
    }

    #[test]
    fn each_boundary_of_the_scale() {
        // At least 75% is 0.
        assert_eq!(maturity_of(75, 100, true), Some(0));
        assert_eq!(maturity_of(100, 100, true), Some(0));
        assert_eq!(maturity_of(7_499, 10_000, true), Some(1));
        // 10% up to 75% is 1.
        assert_eq!(maturity_of(10, 100, true), Some(1));
        assert_eq!(maturity_of(999, 10_000, true), Some(2));
        // 2% up to 10% is 2.
        assert_eq!(maturity_of(2, 100, true), Some(2));
        assert_eq!(maturity_of(199, 10_000, true), Some(3));
        // Under 2% is 3 only when the workflow retries automatically.
        assert_eq!(maturity_of(199, 10_000, false), Some(2));
        assert_eq!(maturity_of(0, 10_000, true), Some(3));
        assert_eq!(maturity_of(0, 10_000, false), Some(2));
    }

    #[test]
    fn nothing_through_the_step_is_no_score() {
        assert_eq!(maturity_of(0, 0, true), None);
        assert_eq!(human_touch(3, stated(0), true).maturity, None);
    }

    #[test]
    fn the_denominator_is_the_steps_volume_not_the_workflows_runs() {
        // The source's example: 18,000 renewals, 3.1% fail (558 runs), and every failure goes to a person.
        // Over the runs that is 100% (a 0); over the step's volume it is 3.1%: "exceptions only", a 2.
        let runs = 558;
        assert_eq!(maturity_of(runs, runs, true), Some(0));
        let touch =
            human_touch(runs, Volume::Measured { source: "stripe-payments".into(), instances: 18_000 }, true);
        assert_eq!(touch.maturity, Some(2));
        assert_eq!(touch.share.of, 18_000);
        // The workflow recovers most of them automatically: 90 of 18,000 (0.5%) needed a person, with retries: a 3.
        assert_eq!(human_touch(90, stated(18_000), true).maturity, Some(3));
    }

    #[test]
    fn counts_far_beyond_any_store_do_not_overflow() {
        assert_eq!(maturity_of(i64::MAX / 2, i64::MAX, true), Some(1));
    }

    #[test]
    fn weekly_hours_from_decisions() {
        let october = Month { year: 2026, month: 10 };
        let february = Month { year: 2026, month: 2 };
        assert_eq!(days_in(october), 31);
        assert_eq!(days_in(february), 28);
        // 124 decisions in 31 days is 28 a week; at 10 minutes each, 4.67 hours.
        let hours = weekly_hours(124, october, DEFAULT_MINUTES_PER_DECISION);
        assert!((hours - 28.0 * 10.0 / 60.0).abs() < 1e-9, "{hours}");
        assert_eq!(weekly_hours(0, february, 10.0), 0.0);
    }
}
