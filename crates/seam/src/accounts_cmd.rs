//! Glue for `seam users …` and `seam tokens …`: read the password or the arguments, call `seam_web::auth`, print.
//!
//! A password is read from the terminal without echo (asked twice), or, when standard input is not a terminal,
//! from its first line, so scripts can pipe it in. It is checked before the database is opened. A token's secret
//! is printed once, alone on standard output (`SEAM_TOKEN=$(seam tokens create …)`), and never again: only its
//! SHA-256 is stored.

use std::io::{BufRead, IsTerminal, Write};

use seam_flow::{Clock, SystemClock, Timestamp};
use seam_runtime::Role;
use seam_web::auth::{self, AuthError};

use crate::InputError;
use crate::cli::{DbArgs, TokenCreateArgs, TokenRevokeArgs, UserAddArgs, UserArgs};
use crate::engine_cmd::{open_store, runtime};

fn now() -> i64 {
    SystemClock.now().unix_seconds()
}

/// An input problem (bad e-mail, short password, duplicate, unknown name) is exit 2; the rest exit 1.
fn map_auth(error: AuthError) -> anyhow::Error {
    if error.is_input() { InputError(error.to_string()).into() } else { anyhow::Error::new(error) }
}

/// The new password: from the terminal (twice, no echo), or the first line of standard input.
fn read_password(email: &str) -> anyhow::Result<String> {
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!(
            "New password for {email} (at least {} characters): ",
            auth::MIN_PASSWORD_LEN
        ))?;
        auth::check_password(&first).map_err(map_auth)?;
        let again = rpassword::prompt_password("The same password again: ")?;
        if again != first {
            return Err(InputError("the two passwords differ; nothing was changed".to_owned()).into());
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        let line = line.strip_suffix('\n').unwrap_or(&line);
        line.strip_suffix('\r').unwrap_or(line).to_owned()
    };
    auth::check_password(&password).map_err(map_auth)?;
    Ok(password)
}

fn when(seconds: Option<i64>) -> String {
    seconds.map_or_else(|| "never".to_owned(), |at| Timestamp::from_unix_seconds(at).to_string())
}

pub fn users_add(args: UserAddArgs) -> anyhow::Result<()> {
    let email = auth::parse_email(&args.email).map_err(map_auth)?;
    let password = read_password(&email)?;
    let role = Role::from(args.role);
    runtime()?.block_on(async move {
        let store = open_store(&args.db.db).await?;
        let email =
            auth::create_user(store.as_ref(), &email, role, &password, now()).await.map_err(map_auth)?;
        println!("seam: added {email} ({role})");
        Ok(())
    })
}

pub fn users_list(args: DbArgs) -> anyhow::Result<()> {
    runtime()?.block_on(async move {
        let store = open_store(&args.db).await?;
        let users = store.users().await?;
        let mut out = std::io::stdout().lock();
        if users.is_empty() {
            writeln!(
                out,
                "seam: no users yet; add the first admin with `seam users add you@brand.example --role admin`"
            )?;
            return Ok(());
        }
        let width = users.iter().map(|user| user.email.len()).max().unwrap_or(5).max(5);
        writeln!(out, "{:<width$}  {:<11}  added", "email", "role")?;
        for user in &users {
            writeln!(out, "{:<width$}  {:<11}  {}", user.email, user.role, when(Some(user.created_at)))?;
        }
        Ok(())
    })
}

pub fn users_remove(args: UserArgs) -> anyhow::Result<()> {
    runtime()?.block_on(async move {
        let store = open_store(&args.db.db).await?;
        auth::remove_user(store.as_ref(), &args.email).await.map_err(map_auth)?;
        println!("seam: removed {}; their sessions have ended", args.email.trim().to_lowercase());
        Ok(())
    })
}

pub fn users_reset_password(args: UserArgs) -> anyhow::Result<()> {
    let email = auth::parse_email(&args.email).map_err(map_auth)?;
    runtime()?.block_on(async {
        // Say "no such user" before asking for a password nobody will use.
        let store = open_store(&args.db.db).await?;
        if store.user(&email).await?.is_none() {
            return Err(map_auth(AuthError::NoSuchUser(email.clone())));
        }
        let password = read_password(&email)?;
        auth::reset_password(store.as_ref(), &email, &password, now()).await.map_err(map_auth)?;
        println!("seam: new password set for {email}; their sessions have ended");
        Ok(())
    })
}

pub fn tokens_create(args: TokenCreateArgs) -> anyhow::Result<()> {
    let role = Role::from(args.role);
    runtime()?.block_on(async move {
        let store = open_store(&args.db.db).await?;
        let secret = auth::create_token(store.as_ref(), &args.name, role, now()).await.map_err(map_auth)?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{secret}")?;
        out.flush()?;
        eprintln!(
            "seam: token {} ({role}) created. It is shown only this once: keep it in a secret store. Send it as \
             `Authorization: Bearer <token>`; revoke it with `seam tokens revoke {}`.",
            args.name, args.name
        );
        Ok(())
    })
}

pub fn tokens_list(args: DbArgs) -> anyhow::Result<()> {
    runtime()?.block_on(async move {
        let store = open_store(&args.db).await?;
        let tokens = store.tokens().await?;
        let mut out = std::io::stdout().lock();
        if tokens.is_empty() {
            writeln!(
                out,
                "seam: no tokens yet; create one with `seam tokens create --name NAME --role ROLE`"
            )?;
            return Ok(());
        }
        let width = tokens.iter().map(|token| token.name.len()).max().unwrap_or(4).max(4);
        writeln!(out, "{:<width$}  {:<11}  {:<20}  {:<20}  status", "name", "role", "created", "last used")?;
        for token in &tokens {
            let status = match token.revoked_at {
                Some(at) => format!("revoked {}", when(Some(at))),
                None => "active".to_owned(),
            };
            writeln!(
                out,
                "{:<width$}  {:<11}  {:<20}  {:<20}  {status}",
                token.name,
                token.role,
                when(Some(token.created_at)),
                when(token.last_used_at)
            )?;
        }
        Ok(())
    })
}

pub fn tokens_revoke(args: TokenRevokeArgs) -> anyhow::Result<()> {
    runtime()?.block_on(async move {
        let store = open_store(&args.db.db).await?;
        auth::revoke_token(store.as_ref(), &args.name, now()).await.map_err(map_auth)?;
        println!("seam: revoked token {}; the API refuses it from now on", args.name);
        Ok(())
    })
}
