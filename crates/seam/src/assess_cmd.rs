//! `seam assess ...`: the glue between the CLI and the pure assessment core.

use crate::InputError;
use crate::cli::{ColorChoice, Format, NewArgs, ReportArgs, WizardArgs};
use crate::output::{check_can_write, read_input, write_atomic, write_or_print};
use seam_assess::{Brand, catalogue, render};
use std::io::IsTerminal as _;

pub fn new(args: NewArgs) -> anyhow::Result<()> {
    if let Some(path) = &args.output {
        check_can_write(path, args.force)?;
    }
    if !(args.gmv.is_finite() && args.gmv >= 0.0 && args.hourly_cost.is_finite() && args.hourly_cost >= 0.0) {
        return Err(InputError("--gmv and --hourly-cost must be 0 or more US dollars".to_string()).into());
    }
    let brand = Brand {
        name: args.name,
        annual_gmv_usd: args.gmv,
        monthly_orders: args.orders,
        hourly_cost_usd: args.hourly_cost,
        platforms: args
            .platforms
            .into_iter()
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect(),
        growing: true,
    };
    let text = catalogue::to_toml(&catalogue::starter_assessment(brand));
    write_or_print(args.output.as_deref(), &text)?;
    if let Some(path) = &args.output {
        eprintln!(
            "Wrote {} with {} tasks to score. Edit it (or run `seam assess wizard`), then: seam assess report {}",
            path.display(),
            catalogue::CATALOGUE.len(),
            path.display()
        );
    }
    Ok(())
}

pub fn wizard(args: WizardArgs) -> anyhow::Result<()> {
    check_can_write(&args.output, args.force)?;
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut output = std::io::stdout().lock();
    let assessment =
        crate::wizard::run(&mut input, &mut output).map_err(|error| InputError(error.to_string()))?;
    let text = catalogue::to_toml(&assessment);
    // The wizard validates every answer, so this only guards against a writer bug: never write a file that
    // `report` would reject.
    let shown = args.output.display().to_string();
    seam_assess::parse_assessment(&shown, &text)
        .map_err(|error| anyhow::anyhow!("wizard produced an invalid file: {error}"))?;
    write_atomic(&args.output, &text)?;
    use std::io::Write as _;
    writeln!(output, "\nWrote {shown}. Next: seam assess report {shown}")?;
    Ok(())
}

pub fn report(args: ReportArgs) -> anyhow::Result<()> {
    let shown = args.file.display().to_string();
    let text = read_input(&args.file)?;
    let assessment =
        seam_assess::parse_assessment(&shown, &text).map_err(|error| InputError(error.to_string()))?;
    let mut report = seam_assess::score(&assessment);
    if let Some(previous_path) = &args.compare {
        let previous_shown = previous_path.display().to_string();
        let previous_text = read_input(previous_path)?;
        let previous = seam_assess::previous_report(&previous_shown, &previous_text)
            .map_err(|error| InputError(error.to_string()))?;
        seam_assess::compare_with_previous(&mut report, &previous, &previous_shown);
    }
    let rendered = match args.format {
        Format::Text => {
            let color = match args.color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => {
                    args.output.is_none()
                        && std::io::stdout().is_terminal()
                        && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
                }
            };
            render::render_text(&report, color)
        }
        Format::Md => render::render_markdown(&report),
        Format::Json => render::render_json(&report),
        Format::Csv => render::render_csv(&report),
        Format::Html => render::render_html(&report),
    };
    write_or_print(args.output.as_deref(), &rendered)
}
