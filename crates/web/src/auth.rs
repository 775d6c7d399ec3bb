//! Who is calling, and what their role lets them see and do.
//!
//! Seam has two kinds of credentials. People sign in with an e-mail and a password (kept as an Argon2id hash) and
//! get a server-side session (`session.rs`); programs call the JSON API with an API token. Every route under
//! `/api/` goes through one layer, [`require_token`], which turns `Authorization: Bearer …` into a [`Caller`] or
//! answers 401; handlers read the caller with the [`Caller`] extractor and filter by its role's
//! [`RoleScope`].
//!
//! Secrets never rest as given: a token (`seam_` and 32 random bytes, base64url) is shown once when it is created
//! and stored as its SHA-256, like a session id; a password as its Argon2id PHC string. Nothing here logs a
//! secret, a hash or an `Authorization` header, and the types that hold one print it as `…` in `Debug`.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use seam_runtime::{Role, RoleScope, RolesConfig, Workflows};
use seam_store::{Store, StoreError, TokenRow, UserRow};
use sha2::{Digest, Sha256};

use crate::api::{AppState, error};

/// Passwords shorter than this are refused.
pub const MIN_PASSWORD_LEN: usize = 12;
/// What every API token starts with, so one found in a file or a log is recognisable (and scannable).
pub const TOKEN_PREFIX: &str = "seam_";
/// A token's `last_used_at` is written at most this often, so reading the API is not a write per request.
const TOUCH_EVERY_SECS: i64 = 60;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{0:?} is not an e-mail address; write one as name@example.com")]
    BadEmail(String),
    #[error("the password is {0} characters long; use at least {MIN_PASSWORD_LEN}")]
    ShortPassword(usize),
    #[error("a user {0} already exists; use `seam users reset-password {0}` to change their password")]
    EmailTaken(String),
    #[error("no user {0}; `seam users list` shows who there is")]
    NoSuchUser(String),
    #[error(
        "{0:?} is not a token name; use 1 to 64 letters, digits, `.`, `-`, `_` or `@` (such as ci or jane@brand)"
    )]
    BadName(String),
    #[error("a token named {0} exists or existed (names are never reused, so the audit log is unambiguous)")]
    NameTaken(String),
    #[error("no live token named {0}; `seam tokens list` shows them")]
    NoSuchToken(String),
    #[error("hashing the password failed: {0}")]
    Hash(String),
    #[error("no random numbers from the operating system: {0}")]
    Random(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AuthError {
    /// Whether the error is the user's to fix (bad input) rather than the system's.
    pub fn is_input(&self) -> bool {
        !matches!(self, AuthError::Hash(_) | AuthError::Random(_) | AuthError::Store(_))
    }
}

// ----- secrets -------------------------------------------------------------------------------------------------

/// `n` random bytes from the operating system, as unpadded base64url.
pub fn random_secret(n: usize) -> Result<String, AuthError> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).map_err(|problem| AuthError::Random(problem.to_string()))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The hex SHA-256 of a secret: what the database keeps of a token or a session id.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The Argon2id PHC string of a password (default parameters, a random salt).
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    use argon2::password_hash::PasswordHasher;
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|problem| AuthError::Hash(problem.to_string()))
}

/// Whether `password` matches the stored PHC string.
pub fn verify_password(password: &str, stored: &str) -> bool {
    use argon2::password_hash::PasswordVerifier;
    argon2::Argon2::default().verify_password(password.as_bytes(), stored).is_ok()
}

/// Refuses a password shorter than [`MIN_PASSWORD_LEN`] characters.
pub fn check_password(password: &str) -> Result<(), AuthError> {
    let length = password.chars().count();
    if length < MIN_PASSWORD_LEN { Err(AuthError::ShortPassword(length)) } else { Ok(()) }
}

/// An e-mail address, trimmed and lowercased: one `@`, something on each side, no spaces or control characters.
pub fn parse_email(text: &str) -> Result<String, AuthError> {
    let email = text.trim().to_lowercase();
    let good = email.len() <= 254
        && email.split('@').count() == 2
        && email.split('@').all(|part| !part.is_empty())
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if good { Ok(email) } else { Err(AuthError::BadEmail(text.to_owned())) }
}

fn check_token_name(name: &str) -> Result<(), AuthError> {
    let good = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'));
    if good { Ok(()) } else { Err(AuthError::BadName(name.to_owned())) }
}

// ----- users and tokens ----------------------------------------------------------------------------------------

/// Adds a user with a password (checked for length, then hashed). Returns the normalised e-mail.
pub async fn create_user(
    store: &dyn Store,
    email: &str,
    role: Role,
    password: &str,
    now: i64,
) -> Result<String, AuthError> {
    let email = parse_email(email)?;
    check_password(password)?;
    if store.user(&email).await?.is_some() {
        return Err(AuthError::EmailTaken(email));
    }
    let user = UserRow {
        email: email.clone(),
        role: role.as_str().to_owned(),
        password_hash: hash_password(password)?,
        created_at: now,
        password_changed_at: now,
    };
    if !store.insert_user(&user).await? {
        return Err(AuthError::EmailTaken(email));
    }
    Ok(email)
}

/// Sets a user's new password; their sessions end.
pub async fn reset_password(
    store: &dyn Store,
    email: &str,
    password: &str,
    now: i64,
) -> Result<(), AuthError> {
    let email = parse_email(email)?;
    check_password(password)?;
    if store.user(&email).await?.is_none() {
        return Err(AuthError::NoSuchUser(email));
    }
    if !store.set_password(&email, &hash_password(password)?, now).await? {
        return Err(AuthError::NoSuchUser(email));
    }
    Ok(())
}

/// Removes a user and ends their sessions.
pub async fn remove_user(store: &dyn Store, email: &str) -> Result<(), AuthError> {
    let email = parse_email(email)?;
    if store.remove_user(&email).await? { Ok(()) } else { Err(AuthError::NoSuchUser(email)) }
}

/// Creates an API token and returns its secret, which exists nowhere else: the database keeps its SHA-256.
/// Decisions made with it are audited under `name`.
pub async fn create_token(store: &dyn Store, name: &str, role: Role, now: i64) -> Result<String, AuthError> {
    check_token_name(name)?;
    let secret = format!("{TOKEN_PREFIX}{}", random_secret(32)?);
    if !store.insert_token(name, role.as_str(), &secret_hash(&secret), now).await? {
        return Err(AuthError::NameTaken(name.to_owned()));
    }
    Ok(secret)
}

/// Revokes a token: from now on it is refused (401).
pub async fn revoke_token(store: &dyn Store, name: &str, now: i64) -> Result<(), AuthError> {
    if store.revoke_token(name, now).await? { Ok(()) } else { Err(AuthError::NoSuchToken(name.to_owned())) }
}

// ----- callers -------------------------------------------------------------------------------------------------

/// How a caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallerKind {
    Token,
    Session,
}

/// Who is calling: a token's name or a signed-in user's e-mail (the audit log's actor), and their role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub name: String,
    pub role: Role,
    pub kind: CallerKind,
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// The secret of an `Authorization: Bearer …` header, if the request has one.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, secret) = value.trim().split_once(' ')?;
    let secret = secret.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !secret.is_empty()).then_some(secret)
}

/// The caller a presented token stands for: `None` when no live token has that secret.
pub async fn token_caller(store: &dyn Store, secret: &str, now: i64) -> Result<Option<Caller>, StoreError> {
    let Some(token) = store.token_by_secret_hash(&secret_hash(secret)).await? else { return Ok(None) };
    let TokenRow { name, role, last_used_at, .. } = token;
    let Ok(role) = role.parse::<Role>() else {
        tracing::warn!(token = %name, %role, "an API token has a role this build does not know; refused");
        return Ok(None);
    };
    if last_used_at.is_none_or(|at| now - at >= TOUCH_EVERY_SECS) {
        store.touch_token(&name, now).await?;
    }
    Ok(Some(Caller { name, role, kind: CallerKind::Token }))
}

/// 401 with `WWW-Authenticate: Bearer` (RFC 6750), saying what to send.
pub fn unauthorized(message: &str, invalid: bool) -> Response {
    let mut response = error(StatusCode::UNAUTHORIZED, message);
    let challenge =
        if invalid { r#"Bearer realm="seam", error="invalid_token""# } else { r#"Bearer realm="seam""# };
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
    response
}

/// The layer every `/api/` route sits behind: a live token, or 401. The caller is handed to the handler in the
/// request's extensions, where the [`Caller`] extractor finds it.
pub async fn require_token(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let Some(secret) = bearer(request.headers()) else {
        return unauthorized(
            "the API needs a token: send `Authorization: Bearer <token>` (create one with `seam tokens create`)",
            false,
        );
    };
    match token_caller(state.engine.store().as_ref(), secret, crate::session::unix_now()).await {
        Ok(Some(caller)) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Ok(None) => unauthorized("the token is unknown or revoked", true),
        Err(problem) => crate::api::store_error(problem),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Caller, Response> {
        // Only a route behind `require_token` has a caller; any other use is a wiring mistake, refused safely.
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| unauthorized("not signed in", false))
    }
}

// ----- what a role sees ----------------------------------------------------------------------------------------

/// The access rules in force: `[roles]` of the configuration.
#[derive(Debug, Clone, Default)]
pub struct Access {
    pub roles: RolesConfig,
}

impl Access {
    pub fn scope(&self, caller: &Caller) -> RoleScope {
        self.roles.scope(caller.role)
    }

    /// The teams whose inbox items the caller sees (`None`: every team).
    pub fn teams(&self, caller: &Caller) -> Option<Vec<String>> {
        match self.scope(caller) {
            RoleScope::Everything => None,
            RoleScope::Some { teams, .. } => Some(teams),
        }
    }

    /// The workflows whose runs the caller sees: those with a version in one of the role's zones (`None`: all).
    pub fn workflows(&self, caller: &Caller, workflows: &Workflows) -> Option<Vec<String>> {
        let scope = self.scope(caller);
        if scope == RoleScope::Everything {
            return None;
        }
        let mut names: Vec<String> = workflows
            .all_versions()
            .filter(|workflow| scope.sees_zone(workflow.zone.key()))
            .map(|workflow| workflow.name.clone())
            .collect();
        names.sort();
        names.dedup();
        Some(names)
    }

    /// Whether the caller sees the runs of `workflow` (any of its versions in one of the role's zones).
    pub fn sees_workflow(&self, caller: &Caller, workflows: &Workflows, workflow: &str) -> bool {
        self.workflows(caller, workflows).is_none_or(|names| names.iter().any(|name| name == workflow))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_prefixed_high_entropy_and_stored_only_as_its_hash() {
        let one = format!("{TOKEN_PREFIX}{}", random_secret(32).unwrap());
        let two = format!("{TOKEN_PREFIX}{}", random_secret(32).unwrap());
        assert_ne!(one, two);
        assert_eq!(one.len(), TOKEN_PREFIX.len() + 43, "32 bytes are 43 base64url characters");
        let hash = secret_hash(&one);
        assert_eq!(hash.len(), 64);
        assert!(!hash.contains(&one[TOKEN_PREFIX.len()..]));
    }

    #[test]
    fn passwords_are_argon2id_and_checked_for_length() {
        let stored = hash_password("correct horse battery").unwrap();
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(verify_password("correct horse battery", &stored));
        assert!(!verify_password("correct horse batterY", &stored));
        assert!(matches!(check_password("short"), Err(AuthError::ShortPassword(5))));
        assert!(check_password("twelve chars").is_ok());
    }

    #[test]
    fn emails_and_bearer_headers_are_read_strictly() {
        assert_eq!(parse_email("  Ana@Brand.Example ").unwrap(), "ana@brand.example");
        for bad in ["ana", "@brand", "ana@", "a b@c", "a@b@c"] {
            assert!(parse_email(bad).is_err(), "{bad}");
        }
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers), None);
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer seam_abc"));
        assert_eq!(bearer(&headers), Some("seam_abc"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("bearer  seam_abc "));
        assert_eq!(bearer(&headers), Some("seam_abc"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic YTpi"));
        assert_eq!(bearer(&headers), None);
    }
}
