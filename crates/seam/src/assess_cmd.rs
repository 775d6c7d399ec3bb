//! `seam assess ...`: the glue between the CLI and the pure assessment core.

use crate::InputError;
use crate::cli::{ColorChoice, Format, NewArgs, ReportArgs, WizardArgs};
use crate::output::{check_can_write, check_folder_writable, read_input, write_atomic_io, write_or_print};
use crate::wizard::{Answer, WizardError, partial};
use anyhow::Context as _;
use seam_assess::{Brand, catalogue, render};
use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

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
        timezone: None,
        currency: None,
        minutes_per_decision: None,
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

/// The wizard, keeping every answer in `FILE.partial` until `FILE` is written.
///
/// Everything that would stop it from writing `FILE` is checked before the first question, so no answer is given
/// in vain; after that, whatever stops it (ctrl-c, the end of its input, an error) leaves the answers in
/// `FILE.partial` and says how to continue.
pub fn wizard(args: WizardArgs) -> anyhow::Result<()> {
    let shown = args.output.display().to_string();
    let partial_path = partial::path_for(&args.output);
    let partial_shown = partial_path.display().to_string();
    let resume_command = format!("seam assess wizard -o {shown} --resume");

    let earlier = if args.resume {
        read_partial(&partial_path)?
    } else {
        check_can_write(&args.output, args.force)?;
        if partial_path.exists() && !args.force {
            return Err(InputError(format!(
                "{partial_shown} holds the answers of an unfinished wizard; continue it with `{resume_command}`, or \
                 pass --force to start over (its answers are discarded)"
            ))
            .into());
        }
        Vec::new()
    };
    check_folder_writable(&args.output)?;
    if !args.resume && partial_path.exists() {
        // --force: starting over, as asked.
        std::fs::remove_file(&partial_path).with_context(|| format!("cannot remove {partial_shown}"))?;
    }

    // Answers are saved under this lock, so ctrl-c never stops the wizard halfway through saving one.
    let save_lock = Arc::new(Mutex::new(()));
    stop_on_signal(Arc::clone(&save_lock), partial_path.clone(), resume_command.clone());

    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut output = std::io::stdout().lock();
    if args.resume {
        writeln!(
            output,
            "Resuming from {partial_shown}: {} answers kept, the next questions follow.",
            earlier.len()
        )?;
    } else {
        writeln!(
            output,
            "Answers are kept in {partial_shown} as you go; if you stop, continue with: {resume_command}"
        )?;
    }
    let mut save = |answers: &[Answer]| {
        let _saving = save_lock.lock().unwrap_or_else(PoisonError::into_inner);
        write_atomic_io(&partial_path, &partial::to_text(answers))
    };
    let assessment = crate::wizard::run(&mut input, &mut output, earlier, &mut save).map_err(|error| {
        let kept = progress_note(&partial_path, &resume_command);
        match error {
            WizardError::InputEnded { .. } => InputError(format!("{error}; {kept}")).into(),
            WizardError::ReplayOtherQuestion { .. }
            | WizardError::ReplayRefused { .. }
            | WizardError::ReplayLeftOver { .. } => InputError(format!(
                "{partial_shown} cannot be resumed: {error}. It was left as it is: start over with --force (which \
                 discards it), or move it away to keep it"
            ))
            .into(),
            WizardError::Save(cause) => anyhow::anyhow!("cannot save the answer to {partial_shown}: {cause}; {kept}"),
            WizardError::Io(_) => anyhow::anyhow!("{error}; {kept}"),
        }
    })?;
    let text = catalogue::to_toml(&assessment);
    // The wizard validates every answer, so this only guards against a writer bug: never write a file that
    // `report` would reject.
    seam_assess::parse_assessment(&shown, &text)
        .map_err(|error| anyhow::anyhow!("wizard produced an invalid file: {error}"))?;
    write_atomic_io(&args.output, &text).map_err(|error| {
        anyhow::anyhow!("cannot write {shown}: {error}; {}", progress_note(&partial_path, &resume_command))
    })?;
    match std::fs::remove_file(&partial_path) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => {
            eprintln!("warning: wrote {shown} but could not remove {partial_shown} ({error}); delete it")
        }
    }
    writeln!(output, "\nWrote {shown}. Next: seam assess report {shown}")?;
    Ok(())
}

/// The answers of an unfinished wizard, for `--resume`. A missing or unreadable file is an error naming it; a bad
/// one is never replaced by a fresh start, which would lose it.
fn read_partial(path: &Path) -> anyhow::Result<Vec<Answer>> {
    let shown = path.display();
    let text = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(InputError(format!(
                "there is nothing to resume: {shown} does not exist (it is removed once the wizard has written its \
                 file); start with `seam assess wizard` without --resume"
            ))
            .into());
        }
        Err(error) => return Err(InputError(format!("cannot read {shown}: {error}")).into()),
    };
    String::from_utf8(text)
        .map_err(|_| "it is not UTF-8 text".to_string())
        .and_then(|text| partial::from_text(&text).map_err(|error| error.to_string()))
        .map_err(|why| {
            InputError(format!(
                "{shown} cannot be resumed: {why}. It was left as it is: start over with --force (which discards \
                 it), or move it away to keep it"
            ))
            .into()
        })
}

/// Where the answers given so far are, and how to continue; or that there are none.
fn progress_note(partial_path: &Path, resume_command: &str) -> String {
    if partial_path.exists() {
        format!(
            "the answers given so far are kept in {}; continue with: {resume_command}",
            partial_path.display()
        )
    } else {
        "no answer was given, so nothing was saved".to_string()
    }
}

/// On ctrl-c (or SIGTERM) the wizard stops at once, after any answer being saved, and says how to continue. Without
/// this the signal would still end it with every answer given so far saved; this adds the way back.
fn stop_on_signal(save_lock: Arc<Mutex<()>>, partial_path: PathBuf, resume_command: String) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
    // The handler is in place before the first question, so a signal is never missed.
    let Ok(stop) = listen_for_stop(&runtime) else { return };
    std::thread::spawn(move || {
        runtime.block_on(stop);
        let _saving = save_lock.lock().unwrap_or_else(PoisonError::into_inner);
        eprintln!("\nStopped: {}", progress_note(&partial_path, &resume_command));
        std::process::exit(130);
    });
}

#[cfg(unix)]
fn listen_for_stop(
    runtime: &tokio::runtime::Runtime,
) -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let _context = runtime.enter();
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

#[cfg(not(unix))]
fn listen_for_stop(
    _runtime: &tokio::runtime::Runtime,
) -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
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
