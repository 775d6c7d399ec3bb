//! `seam assess wizard`: an interactive walk through the four zones that builds an assessment.
//!
//! It reads plain lines, so it works the same in a real terminal and with answers piped in (which is how the tests
//! drive it). Each answer is checked at once and asked again with the reason when it is not acceptable, so the
//! file it produces always passes `seam assess report`. When the input ends early it stops and writes nothing.

use seam_assess::catalogue::catalogue_for;
use seam_assess::model::MATURITY_SCALE;
use seam_assess::{Assessment, Brand, LeakRate, Maturity, Score, Task, Zone};
use std::io::{BufRead, Write};

#[derive(Debug, thiserror::Error)]
pub enum WizardError {
    #[error("the input ended at \"{question}\" before the wizard finished; nothing was written")]
    InputEnded { question: String },
    #[error("terminal error: {0}")]
    Io(#[from] std::io::Error),
}

/// Runs the wizard, asking on `output` and reading answers from `input`.
pub fn run(input: &mut dyn BufRead, output: &mut dyn Write) -> Result<Assessment, WizardError> {
    let mut prompt = Prompter { input, output };
    prompt.say("Seam assessment wizard: about 20 minutes for four zones.")?;
    prompt.say(
        "Press Enter to take the value in [brackets]. Ask the person who does each task, not the org chart.",
    )?;
    prompt.say("")?;

    let name = prompt.ask("Brand name", None, |answer| non_empty(answer, "the brand's name"))?;
    let annual_gmv_usd =
        prompt.ask("Annual GMV in US dollars (12000000, 12M or 750k)", None, parse_amount)?;
    let monthly_orders = prompt.ask("Orders a month", None, parse_count)?;
    let hourly_cost_usd =
        prompt.ask("Loaded cost of one ops hour, in US dollars", Some("40"), parse_amount)?;
    let platforms =
        prompt.ask("Sales platforms, comma-separated", Some("shopify"), |answer| Ok(parse_list(answer)))?;
    let growing = prompt.ask("Will order volume grow this year? (y/n)", Some("y"), parse_yes_no)?;
    let brand = Brand { name, annual_gmv_usd, monthly_orders, hourly_cost_usd, platforms, growing };

    let mut tasks: Vec<Task> = Vec::new();
    for zone in Zone::ALL {
        prompt.say("")?;
        prompt.say(&format!("== {} ({}) ==", zone.title(), zone.covers()))?;
        prompt.say("Scale (when unsure between two scores, take the lower):")?;
        for row in &MATURITY_SCALE {
            prompt.say(&format!(
                "  {} {:<13} {:<32} typically {}",
                row.score, row.name, row.human_touch, row.typical_hours
            ))?;
        }
        for entry in catalogue_for(zone) {
            let question = format!("Task \"{}\": score 0-3, or Enter to skip it", entry.name);
            let tools = entry.typical_tools.join(", ");
            if let Some(task) = ask_task(&mut prompt, &brand, zone, entry.name, &question, &tools)? {
                tasks.push(task);
            }
        }
        loop {
            let question =
                format!("Another {} task? Name it, or Enter to go on", zone.title().to_lowercase());
            let name = prompt.ask(&question, Some(""), |answer| {
                let answer = answer.trim();
                if tasks.iter().any(|task| task.name.eq_ignore_ascii_case(answer)) {
                    Err(format!("there is already a task named {answer:?}"))
                } else {
                    Ok(answer.to_string())
                }
            })?;
            if name.is_empty() {
                break;
            }
            let question = format!("Task \"{name}\": score 0-3, or Enter to skip it");
            if let Some(task) = ask_task(&mut prompt, &brand, zone, &name, &question, "")? {
                tasks.push(task);
            }
        }
    }
    Ok(Assessment { brand, tasks })
}

fn ask_task(
    prompt: &mut Prompter<'_>,
    brand: &Brand,
    zone: Zone,
    name: &str,
    question: &str,
    default_tools: &str,
) -> Result<Option<Task>, WizardError> {
    let maturity = prompt.ask(question, Some(""), |answer| {
        if answer.trim().is_empty() {
            return Ok(None);
        }
        let value: i64 = answer.trim().parse().map_err(|_| "use a whole number 0-3".to_string())?;
        Maturity::new(value)
            .map(Some)
            .ok_or_else(|| "use 0 (Manual), 1 (Triggered), 2 (Automated) or 3 (Orchestrated)".to_string())
    })?;
    let Some(maturity) = maturity else { return Ok(None) };
    let weekly_hours = prompt.ask("  Weekly hours of human work", None, |answer| {
        let hours: f64 =
            answer.trim().parse().map_err(|_| "use a number of hours, such as 6 or 1.5".to_string())?;
        if hours.is_finite() && hours >= 0.0 { Ok(hours) } else { Err("use 0 or more hours".to_string()) }
    })?;
    let leak_rate = prompt.ask(
        "  Leak rate: share of orders that hit a problem here (0.03 or 3%)",
        None,
        parse_leak_rate,
    )?;
    let orders_default = brand.monthly_orders.to_string();
    let monthly_orders =
        prompt.ask("  Orders a month through this step", Some(&orders_default), parse_count)?;
    let tools = prompt
        .ask("  Tools it touches, comma-separated", Some(default_tools), |answer| Ok(parse_list(answer)))?;
    let owner = prompt.ask("  Owner (a role or name; Enter for nobody)", Some(""), |answer| {
        Ok(Some(answer.trim().to_string()).filter(|owner| !owner.is_empty()))
    })?;
    Ok(Some(Task {
        zone,
        name: name.to_string(),
        score: Some(Score { maturity, weekly_hours, leak_rate }),
        monthly_orders,
        tools,
        owner,
        growing: brand.growing,
        leak_cost_usd: None,
        line: 0,
    }))
}

struct Prompter<'a> {
    input: &'a mut dyn BufRead,
    output: &'a mut dyn Write,
}

impl Prompter<'_> {
    fn say(&mut self, line: &str) -> Result<(), WizardError> {
        writeln!(self.output, "{line}")?;
        Ok(())
    }

    /// Asks until `parse` accepts the answer; an empty answer takes `default` when there is one.
    fn ask<T>(
        &mut self,
        question: &str,
        default: Option<&str>,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<T, WizardError> {
        loop {
            match default {
                Some(default) if !default.is_empty() => write!(self.output, "{question} [{default}]: ")?,
                _ => write!(self.output, "{question}: ")?,
            }
            self.output.flush()?;
            let mut line = String::new();
            if self.input.read_line(&mut line)? == 0 {
                return Err(WizardError::InputEnded { question: question.trim().to_string() });
            }
            let answer = line.trim();
            let answer = match default {
                Some(default) if answer.is_empty() => default,
                _ => answer,
            };
            match parse(answer) {
                Ok(value) => return Ok(value),
                Err(reason) => writeln!(self.output, "  ! {reason}")?,
            }
        }
    }
}

fn non_empty(answer: &str, what: &str) -> Result<String, String> {
    let answer = answer.trim();
    if answer.is_empty() { Err(format!("give {what}")) } else { Ok(answer.to_string()) }
}

/// Dollars: `12000000`, `12,000,000`, `$12M`, `750k`, `1.5m`; one implementation with the assessment file's.
pub fn parse_amount(answer: &str) -> Result<f64, String> {
    seam_assess::parse::parse_amount(answer)
}

fn parse_count(answer: &str) -> Result<u64, String> {
    let cleaned: String = answer.trim().chars().filter(|c| *c != ',' && *c != '_').collect();
    cleaned.parse().map_err(|_| format!("{answer:?} is not a count; use a whole number, 0 or more"))
}

/// A leak rate: `0.03`, `3%` or `3.1 %`. A bare number above 1 is refused rather than guessed at.
pub fn parse_leak_rate(answer: &str) -> Result<LeakRate, String> {
    let answer = answer.trim();
    let (number, divisor) = match answer.strip_suffix('%') {
        Some(number) => (number.trim(), 100.0),
        None => (answer, 1.0),
    };
    let refused =
        || format!("{answer:?} is not a share of orders; use 0.0 to 1.0 (0.03) or a percentage (3%)");
    let value: f64 = number.parse().map_err(|_| refused())?;
    LeakRate::new(value / divisor).ok_or_else(refused)
}

fn parse_list(answer: &str) -> Vec<String> {
    answer.split(',').map(str::trim).filter(|item| !item.is_empty()).map(str::to_string).collect()
}

fn parse_yes_no(answer: &str) -> Result<bool, String> {
    match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(true),
        "n" | "no" => Ok(false),
        _ => Err("answer y or n".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_accept_the_ways_people_write_them() {
        assert_eq!(parse_amount("12000000"), Ok(12_000_000.0));
        assert_eq!(parse_amount("$12,000,000"), Ok(12_000_000.0));
        assert_eq!(parse_amount("12M"), Ok(12_000_000.0));
        assert_eq!(parse_amount("750k"), Ok(750_000.0));
        assert!(parse_amount("-5").is_err());
        assert!(parse_amount("lots").is_err());
    }

    #[test]
    fn leak_rates_accept_shares_and_percentages_but_not_guesses() {
        assert_eq!(parse_leak_rate("0.031").map(LeakRate::value), Ok(0.031));
        assert_eq!(parse_leak_rate("3.1%").map(LeakRate::value), Ok(0.031));
        assert!(parse_leak_rate("3").is_err());
        assert!(parse_leak_rate("170%").is_err());
    }
}
