//! `seam assess wizard`: an interactive walk through the four zones that builds an assessment.
//!
//! It reads plain lines, so it works the same in a real terminal and with answers piped in (which is how the tests
//! drive it). Each answer is checked at once and asked again with the reason when it is not acceptable, so the
//! file it produces always passes `seam assess report`. A skipped task stays in the file, waiting to be scored, as
//! `seam assess new` writes it.
//!
//! It never loses an answer: every accepted answer is handed to a `save` function as it is given (the glue keeps
//! them in `FILE.partial`, see [`partial`]), and a walk can start from earlier answers, which are replayed through
//! the same checks without being shown. A replayed answer must have been given to the same question; anything else
//! is an error, never a silent fresh start. This module does no file I/O itself.

pub mod partial;

use seam_assess::catalogue::{catalogue_for, unscored_task};
use seam_assess::model::MATURITY_SCALE;
use seam_assess::{Assessment, Brand, LeakRate, Maturity, Score, Task, Zone};
use std::collections::VecDeque;
use std::io::{BufRead, Write};

/// One accepted answer: the question as asked and the answer as taken (an empty answer already replaced by the
/// question's default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub question: String,
    pub answer: String,
}

#[derive(Debug, thiserror::Error)]
pub enum WizardError {
    #[error("the input ended at \"{question}\" before the wizard finished")]
    InputEnded { question: String },
    #[error("terminal error: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot save the answer: {0}")]
    Save(std::io::Error),
    #[error("answer {number} was given to \"{saved_question}\", but the wizard asks \"{question}\" there")]
    ReplayOtherQuestion { number: usize, saved_question: String, question: String },
    #[error("answer {number} ({answer:?} to \"{question}\") is not accepted: {reason}")]
    ReplayRefused { number: usize, question: String, answer: String, reason: String },
    #[error("it holds {n_left} answer(s) more than the wizard asks for")]
    ReplayLeftOver { n_left: usize },
}

/// Runs the wizard, asking on `output` and reading answers from `input`.
///
/// The `earlier` answers are replayed first, silently; the questions after them are asked. After every answer
/// read from `input`, `save` is given all the answers so far (the earlier ones included).
pub fn run(
    input: &mut dyn BufRead,
    output: &mut dyn Write,
    earlier: Vec<Answer>,
    save: &mut dyn FnMut(&[Answer]) -> std::io::Result<()>,
) -> Result<Assessment, WizardError> {
    let mut prompt = Prompter {
        input,
        output,
        heading_shown: earlier.is_empty(),
        replay: earlier.into(),
        answers: Vec::new(),
        save,
        heading: Vec::new(),
        replayed_since_heading: Vec::new(),
    };
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
    let brand = Brand {
        name,
        annual_gmv_usd,
        monthly_orders,
        hourly_cost_usd,
        platforms,
        growing,
        timezone: None,
        currency: None,
        minutes_per_decision: None,
    };

    let mut tasks: Vec<Task> = Vec::new();
    for zone in Zone::ALL {
        let mut heading = vec![format!("== {} ({}) ==", zone.title(), zone.covers())];
        heading.push("Scale (when unsure between two scores, take the lower):".to_string());
        for row in &MATURITY_SCALE {
            heading.push(format!(
                "  {} {:<13} {:<32} typically {}",
                row.score, row.name, row.human_touch, row.typical_hours
            ));
        }
        prompt.heading(heading)?;
        for entry in catalogue_for(zone) {
            tasks.push(ask_task(&mut prompt, &brand, unscored_task(entry, &brand))?);
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
            // A task of the team's own, kept (unscored, with no tools) even when its score is skipped.
            let own_task = Task {
                zone,
                name,
                score: None,
                monthly_orders: brand.monthly_orders,
                tools: Vec::new(),
                owner: None,
                growing: brand.growing,
                leak_cost_usd: None,
                evidence: None,
                line: 0,
            };
            tasks.push(ask_task(&mut prompt, &brand, own_task)?);
        }
    }
    if !prompt.replay.is_empty() {
        return Err(WizardError::ReplayLeftOver { n_left: prompt.replay.len() });
    }
    Ok(Assessment { brand, tasks })
}

/// Asks for the score of `task`, as `seam assess new` would write it. Skipped, it comes back unchanged (waiting to
/// be scored); scored, with the hours, leak rate, volume, tools and owner asked next.
fn ask_task(prompt: &mut Prompter<'_>, brand: &Brand, task: Task) -> Result<Task, WizardError> {
    let question = format!("Task \"{}\": score 0-3, or Enter to skip it", task.name);
    let maturity = prompt.ask(&question, Some(""), |answer| {
        if answer.trim().is_empty() {
            return Ok(None);
        }
        let value: i64 = answer.trim().parse().map_err(|_| "use a whole number 0-3".to_string())?;
        Maturity::new(value)
            .map(Some)
            .ok_or_else(|| "use 0 (Manual), 1 (Triggered), 2 (Automated) or 3 (Orchestrated)".to_string())
    })?;
    let Some(maturity) = maturity else { return Ok(task) };
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
    let tools_default = task.tools.join(", ");
    let tools = prompt
        .ask("  Tools it touches, comma-separated", Some(&tools_default), |answer| Ok(parse_list(answer)))?;
    let owner = prompt.ask("  Owner (a role or name; Enter for nobody)", Some(""), |answer| {
        Ok(Some(answer.trim().to_string()).filter(|owner| !owner.is_empty()))
    })?;
    Ok(Task {
        score: Some(Score { maturity, weekly_hours, leak_rate }),
        monthly_orders,
        tools,
        owner,
        ..task
    })
}

struct Prompter<'a> {
    input: &'a mut dyn BufRead,
    output: &'a mut dyn Write,
    /// Earlier answers still to replay, in the order they were given.
    replay: VecDeque<Answer>,
    /// Every answer taken so far, replayed or read.
    answers: Vec<Answer>,
    save: &'a mut dyn FnMut(&[Answer]) -> std::io::Result<()>,
    /// The heading of the zone being asked (title and scale). While answers are replayed it is held back, and shown
    /// before the first question that is really asked, with the answers replayed under it, so a resumed walk says
    /// where it is.
    heading: Vec<String>,
    heading_shown: bool,
    replayed_since_heading: Vec<String>,
}

impl Prompter<'_> {
    fn say(&mut self, line: &str) -> Result<(), WizardError> {
        writeln!(self.output, "{line}")?;
        Ok(())
    }

    fn heading(&mut self, lines: Vec<String>) -> Result<(), WizardError> {
        self.heading = lines;
        self.heading_shown = false;
        self.replayed_since_heading.clear();
        if self.replay.is_empty() {
            // A blank line ends the last prompt's line. Shown late, a heading follows the introduction instead,
            // which ends with one.
            self.say("")?;
            self.show_heading()?;
        }
        Ok(())
    }

    fn show_heading(&mut self) -> Result<(), WizardError> {
        for line in self.heading.iter().chain(&self.replayed_since_heading) {
            writeln!(self.output, "{line}")?;
        }
        self.heading_shown = true;
        Ok(())
    }

    /// Asks until `parse` accepts the answer; an empty answer takes `default` when there is one. An earlier
    /// answer, while there is one, is taken instead of asking.
    fn ask<T>(
        &mut self,
        question: &str,
        default: Option<&str>,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<T, WizardError> {
        let asked = question.trim();
        if let Some(earlier) = self.replay.pop_front() {
            let number = self.answers.len() + 1;
            if earlier.question != asked {
                return Err(WizardError::ReplayOtherQuestion {
                    number,
                    saved_question: earlier.question,
                    question: asked.to_string(),
                });
            }
            let value = parse(&earlier.answer).map_err(|reason| WizardError::ReplayRefused {
                number,
                question: earlier.question.clone(),
                answer: earlier.answer.clone(),
                reason,
            })?;
            self.replayed_since_heading.push(format!("{question}: {}", earlier.answer));
            self.answers.push(earlier);
            return Ok(value);
        }
        if !self.heading_shown {
            self.show_heading()?;
        }
        loop {
            match default {
                Some(default) if !default.is_empty() => write!(self.output, "{question} [{default}]: ")?,
                _ => write!(self.output, "{question}: ")?,
            }
            self.output.flush()?;
            let mut line = String::new();
            if self.input.read_line(&mut line)? == 0 {
                return Err(WizardError::InputEnded { question: asked.to_string() });
            }
            let answer = line.trim();
            let answer = match default {
                Some(default) if answer.is_empty() => default,
                _ => answer,
            };
            match parse(answer) {
                Ok(value) => {
                    self.answers.push(Answer { question: asked.to_string(), answer: answer.to_string() });
                    (self.save)(&self.answers).map_err(WizardError::Save)?;
                    return Ok(value);
                }
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
    seam_assess::parse::parse_count(answer)
}

/// A leak rate: `0.03`, `3%` or `3.1 %`; a bare number above 1 is refused rather than guessed at (the file's reader).
pub fn parse_leak_rate(answer: &str) -> Result<LeakRate, String> {
    seam_assess::parse::parse_leak_rate(answer)
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
