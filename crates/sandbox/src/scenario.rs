//! Who pays when: each invoice's story, drawn from the seed and the invoice's index.
//!
//! Everything here is a pure function of `(seed, index, attempt)`: no clock, no global randomness. The same seed
//! gives the same outcomes, the same decline codes on the same attempts and the same customer profiles, in any
//! run, on any machine (the mixer is splitmix64, stable across Rust versions).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How an invoice's payment story ends. Attempt 1 is Stripe's own automatic charge when the renewal invoice is
/// created; it always fails. Later attempts are `POST /v1/invoices/{id}/pay` calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Outcome {
    /// Soft decline on attempt 1; attempt 2 (the first `pay` call) succeeds.
    #[serde(rename = "recover_on_2")]
    RecoverOn2,
    /// Soft declines on attempts 1 and 2; attempt 3 (the second `pay` call) succeeds.
    #[serde(rename = "recover_on_3")]
    RecoverOn3,
    /// A hard decline (lost, stolen or expired card, wrong number) on every attempt, always with the same code.
    #[serde(rename = "hard_decline")]
    HardDecline,
    /// A soft decline on every attempt (the code may change from attempt to attempt); never pays by card.
    #[serde(rename = "never")]
    Never,
}

impl Outcome {
    /// Every outcome, in the order the scenario's shares are laid out.
    pub const ALL: [Outcome; 4] =
        [Outcome::RecoverOn2, Outcome::RecoverOn3, Outcome::HardDecline, Outcome::Never];

    /// The wire name: `recover_on_2`, `recover_on_3`, `hard_decline`, `never`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::RecoverOn2 => "recover_on_2",
            Outcome::RecoverOn3 => "recover_on_3",
            Outcome::HardDecline => "hard_decline",
            Outcome::Never => "never",
        }
    }

    /// Whether charge attempt `attempt` (1 = Stripe's automatic first attempt) succeeds.
    pub const fn succeeds_on(self, attempt: u32) -> bool {
        match self {
            Outcome::RecoverOn2 => attempt >= 2,
            Outcome::RecoverOn3 => attempt >= 3,
            Outcome::HardDecline | Outcome::Never => false,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Outcome {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == s).ok_or_else(|| {
            format!("unknown outcome `{s}`; expected one of recover_on_2, recover_on_3, hard_decline, never")
        })
    }
}

/// One way a card charge fails, as Stripe reports it in the error object of a 402 response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Decline {
    /// The error's `code`: `card_declined` for most, or `expired_card`, `incorrect_number`, `processing_error`.
    pub code: &'static str,
    /// The error's `decline_code`, the issuer's reason.
    pub decline_code: &'static str,
    /// The error's `advice_code`: `try_again_later`, `do_not_try_again` or `confirm_card_data`.
    pub advice_code: &'static str,
    /// The customer-facing `message` Stripe gives for this code.
    pub message: &'static str,
    /// The `doc_url` for `code`.
    pub doc_url: &'static str,
    /// A hard decline: retrying the same card cannot succeed (Stripe's Smart Retries do not retry these).
    pub hard: bool,
}

const CARD_DECLINED_DOC: &str = "https://stripe.com/docs/error-codes/card-declined";

const fn declined(
    decline_code: &'static str,
    advice_code: &'static str,
    message: &'static str,
    hard: bool,
) -> Decline {
    Decline { code: "card_declined", decline_code, advice_code, message, doc_url: CARD_DECLINED_DOC, hard }
}

/// Soft declines and how often each is drawn (weights out of 100). `processing_error` is Stripe's own error code
/// (not `card_declined`), also listed among its decline codes.
pub const SOFT_DECLINES: &[(Decline, u32)] = &[
    (declined("insufficient_funds", "try_again_later", "Your card has insufficient funds.", false), 45),
    (declined("generic_decline", "try_again_later", "Your card was declined.", false), 20),
    // Not do_not_honor: Stripe's advice for it is to contact the issuer, so Seam's connector treats it as hard.
    (declined("card_velocity_exceeded", "try_again_later", "Your card was declined.", false), 15),
    (declined("try_again_later", "try_again_later", "Your card was declined.", false), 10),
    (
        Decline {
            code: "processing_error",
            decline_code: "processing_error",
            advice_code: "try_again_later",
            message: "An error occurred while processing your card. Try again in a little bit.",
            doc_url: "https://stripe.com/docs/error-codes/processing-error",
            hard: false,
        },
        10,
    ),
];

/// Hard declines and how often each is drawn (weights out of 100). `expired_card` and `incorrect_number` are
/// Stripe error codes of their own, with the same decline code.
pub const HARD_DECLINES: &[(Decline, u32)] = &[
    (
        Decline {
            code: "expired_card",
            decline_code: "expired_card",
            advice_code: "confirm_card_data",
            message: "Your card has expired.",
            doc_url: "https://stripe.com/docs/error-codes/expired-card",
            hard: true,
        },
        40,
    ),
    (declined("lost_card", "do_not_try_again", "Your card was declined.", true), 15),
    (declined("stolen_card", "do_not_try_again", "Your card was declined.", true), 10),
    (declined("pickup_card", "do_not_try_again", "Your card was declined.", true), 10),
    (
        Decline {
            code: "incorrect_number",
            decline_code: "incorrect_number",
            advice_code: "confirm_card_data",
            message: "Your card number is incorrect.",
            doc_url: "https://stripe.com/docs/error-codes/incorrect-number",
            hard: true,
        },
        25,
    ),
];

/// The shares of the four outcomes among new renewal invoices. Whatever the three shares leave is
/// [`Outcome::Never`] (0.30 by default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scenario {
    /// Share of invoices that pay on attempt 2 (default 0.35).
    pub recover_on_2nd_share: f64,
    /// Share of invoices that pay on attempt 3 (default 0.20).
    pub recover_on_3rd_share: f64,
    /// Share of invoices whose card is hard-declined every time (default 0.15).
    pub hard_decline_share: f64,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario { recover_on_2nd_share: 0.35, recover_on_3rd_share: 0.20, hard_decline_share: 0.15 }
    }
}

/// Independent draws for independent questions about one invoice.
mod stream {
    pub const OUTCOME: u64 = 1;
    pub const HARD_CODE: u64 = 2;
    pub const SOFT_CODE: u64 = 3;
    pub const PROFILE: u64 = 4;
}

impl Scenario {
    /// The share left for [`Outcome::Never`].
    pub fn never_share(&self) -> f64 {
        (1.0 - self.recover_on_2nd_share - self.recover_on_3rd_share - self.hard_decline_share).max(0.0)
    }

    /// Each share is a finite number in 0..=1 and they add up to at most 1.
    pub fn validate(&self) -> Result<(), String> {
        for (name, share) in [
            ("recover_on_2nd_share", self.recover_on_2nd_share),
            ("recover_on_3rd_share", self.recover_on_3rd_share),
            ("hard_decline_share", self.hard_decline_share),
        ] {
            if !share.is_finite() || !(0.0..=1.0).contains(&share) {
                return Err(format!("{name} is {share}; expected a number from 0 to 1"));
            }
        }
        let sum = self.recover_on_2nd_share + self.recover_on_3rd_share + self.hard_decline_share;
        if sum > 1.0 + 1e-9 {
            return Err(format!("the shares add up to {sum}; they must add up to at most 1"));
        }
        Ok(())
    }

    /// The outcome of the invoice with this (0-based, per sandbox) index under this seed.
    pub fn outcome(&self, seed: u64, index: u64) -> Outcome {
        let u = unit(draw(seed, stream::OUTCOME, index, 0));
        let mut edge = self.recover_on_2nd_share;
        if u < edge {
            return Outcome::RecoverOn2;
        }
        edge += self.recover_on_3rd_share;
        if u < edge {
            return Outcome::RecoverOn3;
        }
        edge += self.hard_decline_share;
        if u < edge {
            return Outcome::HardDecline;
        }
        Outcome::Never
    }
}

/// What charge attempt `attempt` (1-based, 1 = Stripe's automatic attempt) on invoice `index` gives: `None` when
/// it succeeds, else the decline. A hard-decline invoice always gets its one hard code; soft codes are drawn per
/// attempt.
pub fn attempt_result(seed: u64, index: u64, attempt: u32, outcome: Outcome) -> Option<&'static Decline> {
    if outcome.succeeds_on(attempt) {
        return None;
    }
    Some(match outcome {
        Outcome::HardDecline => weighted(draw(seed, stream::HARD_CODE, index, 0), HARD_DECLINES),
        _ => weighted(draw(seed, stream::SOFT_CODE, index, u64::from(attempt)), SOFT_DECLINES),
    })
}

/// A zone's standard UTC offset (`-05:00`), which the sandbox also keeps in a customer's `metadata.utc_offset` (the
/// convention Seam's failed-payment playbook reads for business hours). Daylight saving is not modelled; an
/// unknown zone is UTC.
pub fn standard_offset(zone: &str) -> &'static str {
    match zone {
        "America/New_York" => "-05:00",
        "America/Los_Angeles" => "-08:00",
        "America/Sao_Paulo" => "-03:00",
        "Europe/London" => "+00:00",
        "Europe/Berlin" | "Africa/Lagos" => "+01:00",
        "Asia/Kolkata" => "+05:30",
        "Asia/Tokyo" => "+09:00",
        "Australia/Sydney" => "+10:00",
        _ => "+00:00",
    }
}

/// A customer's made-up but stable profile for invoice `index`: (name, email, timezone, plan amount in cents).
pub(crate) fn profile(seed: u64, index: u64) -> (String, String, &'static str, i64) {
    const FIRST: &[&str] = &[
        "Ada", "Bruno", "Chiara", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi",
        "Lucia",
    ];
    const LAST: &[&str] =
        &["Okafor", "Lindqvist", "Moreau", "Tanaka", "Silva", "Novak", "Haddad", "Kowalski", "Byrne", "Ruiz"];
    const ZONES: &[&str] = &[
        "America/New_York",
        "America/Los_Angeles",
        "America/Sao_Paulo",
        "Europe/London",
        "Europe/Berlin",
        "Africa/Lagos",
        "Asia/Kolkata",
        "Asia/Tokyo",
        "Australia/Sydney",
    ];
    const PLANS: &[i64] = &[900, 1900, 2900, 4900, 4900, 9900, 19900];
    let pick = |salt: u64, len: usize| (draw(seed, stream::PROFILE, index, salt) % len as u64) as usize;
    let first = FIRST[pick(1, FIRST.len())];
    let last = LAST[pick(2, LAST.len())];
    let email = format!("{}.{}{}@example.com", first.to_lowercase(), last.to_lowercase(), index + 1);
    (format!("{first} {last}"), email, ZONES[pick(3, ZONES.len())], PLANS[pick(4, PLANS.len())])
}

pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub(crate) fn draw(seed: u64, stream: u64, index: u64, salt: u64) -> u64 {
    mix(mix(mix(mix(seed) ^ stream) ^ index) ^ salt)
}

/// A number in [0, 1) from the top 53 bits.
pub(crate) fn unit(x: u64) -> f64 {
    (x >> 11) as f64 / (1u64 << 53) as f64
}

fn weighted(x: u64, table: &'static [(Decline, u32)]) -> &'static Decline {
    let total: u64 = table.iter().map(|(_, w)| u64::from(*w)).sum();
    let mut r = x % total;
    for (decline, weight) in table {
        let weight = u64::from(*weight);
        if r < weight {
            return decline;
        }
        r -= weight;
    }
    &table[table.len() - 1].0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_come_out_near_their_settings() {
        let scenario = Scenario::default();
        let n = 20_000u64;
        let mut counts = [0u64; 4];
        for i in 0..n {
            let o = scenario.outcome(7, i);
            counts[Outcome::ALL.iter().position(|x| *x == o).unwrap()] += 1;
        }
        let expected = [0.35, 0.20, 0.15, 0.30];
        for (count, want) in counts.iter().zip(expected) {
            let got = *count as f64 / n as f64;
            assert!((got - want).abs() < 0.02, "share {got} vs {want}");
        }
    }

    #[test]
    fn every_outcome_fails_its_first_attempt_and_hard_codes_are_stable() {
        for i in 0..200 {
            for o in Outcome::ALL {
                assert!(attempt_result(3, i, 1, o).is_some());
            }
            let hard: Vec<_> =
                (1..6).map(|a| attempt_result(3, i, a, Outcome::HardDecline).unwrap()).collect();
            assert!(hard.iter().all(|d| d.hard && d == &hard[0]));
            assert!(attempt_result(3, i, 2, Outcome::RecoverOn2).is_none());
            assert!(!attempt_result(3, i, 2, Outcome::RecoverOn3).unwrap().hard);
            assert!(attempt_result(3, i, 3, Outcome::RecoverOn3).is_none());
        }
    }

    #[test]
    fn validation_and_names() {
        assert!(Scenario::default().validate().is_ok());
        let bad = Scenario { recover_on_2nd_share: 0.8, ..Scenario::default() };
        assert!(bad.validate().unwrap_err().contains("add up"));
        let nan = Scenario { hard_decline_share: f64::NAN, ..Scenario::default() };
        assert!(nan.validate().is_err());
        for o in Outcome::ALL {
            assert_eq!(o.as_str().parse::<Outcome>().unwrap(), o);
        }
        assert!("sometimes".parse::<Outcome>().is_err());
    }
}
