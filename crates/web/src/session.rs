//! Signing in with a browser: server-side sessions, their cookie, CSRF tokens and the rate limit on sign-ins.
//! The pages use these; the JSON API does not (it takes bearer tokens only, `auth.rs`).
//!
//! - A session is a row in the database: the SHA-256 of a random id (the cookie's value, 32 bytes), the user, a
//!   per-session CSRF token and an expiry ([`SESSION_SECS`] after sign-in). A stolen database copy holds no usable
//!   session id; removing a user or resetting their password ends their sessions.
//! - The cookie is `seam_session=…; HttpOnly; SameSite=Lax; Path=/`, plus `Secure` when the client reached Seam
//!   over HTTPS (as told by a trusted proxy's `X-Forwarded-Proto`: Seam itself serves plain HTTP).
//! - Every state-changing form carries the session's CSRF token (`csrf_token` field or `X-CSRF-Token` header),
//!   compared in constant time by [`csrf_matches`]. `SameSite=Lax` already keeps the cookie off cross-site POSTs;
//!   the token also covers same-site attackers and old browsers.
//! - Sign-ins are limited per (e-mail, client address): after [`MAX_FAILURES`] failures within
//!   [`FAILURE_WINDOW_SECS`], further attempts get 429 with `Retry-After` until the oldest failure leaves the
//!   window, whether or not the password is right. The failures are kept in the database, so every Seam process
//!   sharing it counts them together.
//!
//! Routes: `POST /login` (JSON `{"email","password"}` or a form), `GET /session`, `POST /logout`.

use std::sync::OnceLock;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use seam_flow::{Clock, SystemClock, Timestamp};
use seam_runtime::Role;
use seam_store::{SessionRow, Store, StoreError};
use serde::Deserialize;
use serde_json::json;

use crate::api::{AppState, error, store_error};
use crate::auth::{AuthError, Caller, CallerKind, parse_email, random_secret, secret_hash, verify_password};
use crate::client::ClientInfo;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "seam_session";
/// Where a form or a script sends the CSRF token: this header, or the form field [`CSRF_FIELD`].
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "csrf_token";
/// How long a session lasts after sign-in: a working day.
pub const SESSION_SECS: i64 = 12 * 3600;
/// Failed sign-ins allowed per (e-mail, client address) within [`FAILURE_WINDOW_SECS`].
pub const MAX_FAILURES: usize = 5;
pub const FAILURE_WINDOW_SECS: i64 = 15 * 60;
/// Sign-in bodies are small.
const MAX_LOGIN_BODY: usize = 16 * 1024;

/// Wall-clock time in Unix seconds. Sessions, tokens and sign-in limits use real time, never the engine's clock
/// (which tests and the demo move by hand).
pub fn unix_now() -> i64 {
    SystemClock.now().unix_seconds()
}

impl FromRequestParts<AppState> for ClientInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<ClientInfo, Self::Rejection> {
        Ok(ClientInfo::from_parts(parts, &state.web.trusted_proxies))
    }
}

// ----- sessions ------------------------------------------------------------------------------------------------

/// A session just made: the cookie's value (shown to the browser once, never stored) and the stored row.
#[derive(Clone)]
pub struct NewSession {
    pub id: String,
    pub row: SessionRow,
}

impl std::fmt::Debug for NewSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSession").field("row", &self.row).finish_non_exhaustive()
    }
}

/// Starts a session for a user (who must exist, with `role`).
pub async fn create_session(
    store: &dyn Store,
    email: &str,
    role: Role,
    now: i64,
) -> Result<NewSession, AuthError> {
    let id = random_secret(32)?;
    let row = SessionRow {
        id_hash: secret_hash(&id),
        email: email.to_owned(),
        role: role.as_str().to_owned(),
        csrf_token: random_secret(32)?,
        created_at: now,
        expires_at: now + SESSION_SECS,
    };
    store.insert_session(&row).await?;
    Ok(NewSession { id, row })
}

/// The value of the session cookie a request carries, if any.
pub fn session_id(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// The live session a request's cookie names.
pub async fn read_session(
    store: &dyn Store,
    headers: &HeaderMap,
    now: i64,
) -> Result<Option<SessionRow>, StoreError> {
    match session_id(headers) {
        Some(id) => store.session(&secret_hash(id), now).await,
        None => Ok(None),
    }
}

/// The signed-in user of a session, as a [`Caller`] (whose name is the audit log's actor).
pub fn session_caller(session: &SessionRow) -> Option<Caller> {
    let role = session.role.parse().ok()?;
    Some(Caller { name: session.email.clone(), role, kind: CallerKind::Session })
}

/// `Set-Cookie` for a new session.
pub fn session_cookie(id: &str, https: bool) -> HeaderValue {
    cookie(id, SESSION_SECS, https)
}

/// `Set-Cookie` that removes the session cookie.
pub fn expired_cookie(https: bool) -> HeaderValue {
    cookie("", 0, https)
}

fn cookie(value: &str, max_age: i64, https: bool) -> HeaderValue {
    let secure = if https { "; Secure" } else { "" };
    let text = format!("{SESSION_COOKIE}={value}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age}{secure}");
    // The value is base64url (or empty), so the header is always valid.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("seam_session=; Max-Age=0"))
}

/// Whether `presented` is the session's CSRF token (constant time).
pub fn csrf_matches(session: &SessionRow, presented: Option<&str>) -> bool {
    use subtle::ConstantTimeEq;
    let Some(presented) = presented else { return false };
    let expected = session.csrf_token.as_bytes();
    expected.len() == presented.len() && bool::from(expected.ct_eq(presented.as_bytes()))
}

/// The CSRF token a request presents: the `X-CSRF-Token` header, or the `csrf_token` field of a form or JSON body.
pub fn presented_csrf(headers: &HeaderMap, body: &Bytes) -> Option<String> {
    if let Some(value) = headers.get(CSRF_HEADER).and_then(|value| value.to_str().ok()) {
        return Some(value.trim().to_owned());
    }
    #[derive(Deserialize)]
    struct WithToken {
        csrf_token: Option<String>,
    }
    let parsed: Option<WithToken> = if is_form(headers) {
        serde_urlencoded::from_bytes(body).ok()
    } else {
        serde_json::from_slice(body).ok()
    };
    parsed.and_then(|parsed| parsed.csrf_token)
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"))
}

// ----- the sign-in limit ---------------------------------------------------------------------------------------

/// Whether (e-mail, address) may try to sign in now: `None`, or the seconds to wait.
pub async fn login_wait(
    store: &dyn Store,
    email: &str,
    address: &str,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    let failures = store.login_failures(email, address, now - FAILURE_WINDOW_SECS + 1).await?;
    if failures.len() < MAX_FAILURES {
        return Ok(None);
    }
    // The attempt is allowed again once enough failures have left the window.
    let oldest_that_counts = failures[failures.len() - MAX_FAILURES];
    Ok(Some((oldest_that_counts + FAILURE_WINDOW_SECS - now).max(1)))
}

// ----- routes --------------------------------------------------------------------------------------------------

#[derive(Deserialize)]
struct Credentials {
    email: Option<String>,
    password: Option<String>,
}

/// A password hash to check against when the e-mail is unknown, so an unknown address takes as long to refuse
/// as a wrong password (the answer is the same too).
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| crate::auth::hash_password("a decoy password nobody has").unwrap_or_default())
}

/// `POST /login`: e-mail and password (JSON or a form) → a session cookie and the session's CSRF token.
pub async fn login(
    State(state): State<AppState>,
    client: ClientInfo,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if body.len() > MAX_LOGIN_BODY {
        return error(StatusCode::PAYLOAD_TOO_LARGE, "the sign-in body is too large");
    }
    let parsed: Option<Credentials> = if is_form(&headers) {
        serde_urlencoded::from_bytes(&body).ok()
    } else {
        serde_json::from_slice(&body).ok()
    };
    let (Some(email), Some(password)) =
        parsed.map_or((None, None), |credentials| (credentials.email, credentials.password))
    else {
        return error(StatusCode::BAD_REQUEST, "give `email` and `password` (JSON or a form)");
    };
    let Ok(email) = parse_email(&email) else {
        return error(StatusCode::BAD_REQUEST, "email: write an e-mail address, as name@example.com");
    };
    let store = state.engine.store().clone();
    let address = client.address.to_string();
    let now = unix_now();
    // Housekeeping on every attempt keeps both tables small whatever a stranger sends.
    if let Err(problem) = store.delete_expired(now, now - FAILURE_WINDOW_SECS).await {
        return store_error(problem);
    }
    match login_wait(store.as_ref(), &email, &address, now).await {
        Ok(None) => {}
        Ok(Some(wait)) => {
            let mut response = error(
                StatusCode::TOO_MANY_REQUESTS,
                format!("too many failed sign-ins for {email} from this address; try again in {wait} s"),
            );
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait));
            return response;
        }
        Err(problem) => return store_error(problem),
    }
    let user = match store.user(&email).await {
        Ok(user) => user,
        Err(problem) => return store_error(problem),
    };
    let stored = user.as_ref().map_or_else(|| decoy_hash().to_owned(), |user| user.password_hash.clone());
    // Argon2id is deliberately slow: keep it off the async workers.
    let matches =
        tokio::task::spawn_blocking(move || verify_password(&password, &stored)).await.unwrap_or(false);
    let role = user.as_ref().and_then(|user| user.role.parse::<Role>().ok());
    let (true, Some(role)) = (matches, role) else {
        if let Err(problem) = store.add_login_failure(&email, &address, now).await {
            return store_error(problem);
        }
        tracing::info!(%email, client = %address, "failed sign-in");
        return error(StatusCode::UNAUTHORIZED, "wrong e-mail or password");
    };
    let _ = store.clear_login_failures(&email, &address).await;
    let session = match create_session(store.as_ref(), &email, role, now).await {
        Ok(session) => session,
        Err(AuthError::Store(problem)) => return store_error(problem),
        Err(problem) => return error(StatusCode::SERVICE_UNAVAILABLE, problem.to_string()),
    };
    tracing::info!(%email, %role, client = %address, "signed in");
    let mut response = axum::Json(session_json(&session.row)).into_response();
    response.headers_mut().insert(header::SET_COOKIE, session_cookie(&session.id, client.https));
    response
}

fn session_json(session: &SessionRow) -> serde_json::Value {
    json!({
        "email": session.email,
        "role": session.role,
        "csrf_token": session.csrf_token,
        "expires_at": Timestamp::from_unix_seconds(session.expires_at).to_string(),
    })
}

/// `GET /session`: who is signed in, and the session's CSRF token for the forms; 401 without a live session.
pub async fn current(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match read_session(state.engine.store().as_ref(), &headers, unix_now()).await {
        Ok(Some(session)) => axum::Json(session_json(&session)).into_response(),
        Ok(None) => error(StatusCode::UNAUTHORIZED, "not signed in; POST /login"),
        Err(problem) => store_error(problem),
    }
}

/// `POST /logout`: ends the session; the session's CSRF token is required (403 without it).
pub async fn logout(
    State(state): State<AppState>,
    client: ClientInfo,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let store = state.engine.store();
    let session = match read_session(store.as_ref(), &headers, unix_now()).await {
        Ok(Some(session)) => session,
        Ok(None) => return error(StatusCode::UNAUTHORIZED, "not signed in"),
        Err(problem) => return store_error(problem),
    };
    if !csrf_matches(&session, presented_csrf(&headers, &body).as_deref()) {
        return error(StatusCode::FORBIDDEN, "the form's CSRF token is missing or wrong; reload the page");
    }
    if let Err(problem) = store.delete_session(&session.id_hash).await {
        return store_error(problem);
    }
    let mut response = axum::Json(json!({ "status": "signed_out" })).into_response();
    response.headers_mut().insert(header::SET_COOKIE, expired_cookie(client.https));
    response
}
