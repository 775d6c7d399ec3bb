//! The Zendesk connector: look up a ticket's requester, write Seam's internal note into a ticket once, and tag it,
//! over the Zendesk Support API (`https://<subdomain>.zendesk.com/api/v2/…`).
//!
//! # Actions
//!
//! The runtime passes the part after `zendesk.`; `args` is the step's rendered `with` table (unknown keys are
//! refused). Ids are numbers or strings of digits (Zendesk's ids are 64-bit integers; a webhook's `detail` may
//! carry them as either).
//!
//! | action | arguments | requests | result |
//! |---|---|---|---|
//! | `get_user` | `id` | `GET /api/v2/users/{id}.json` | Zendesk's `{user: {id, email, name, …}}` |
//! | `add_note` | `ticket_id`, `body` | `GET /api/v2/tickets/{id}/comments.json` (every page); unless a comment holds the marker, `PUT /api/v2/tickets/{id}.json` `{"ticket": {"comment": {"body": "<body>\n\n[seam:<key>]", "public": false}}}` | `{written, marker}` |
//! | `add_tags` | `ticket_id`, `tags` (list) | `PUT /api/v2/tickets/{id}/tags.json` `{"tags": [...]}` (adds; `POST` would replace) | Zendesk's `{tags: [...]}` |
//!
//! Every request carries `Authorization: Basic base64(<email>/token:<api token>)` (Zendesk's API-token form).
//!
//! ## A note is written once
//!
//! Zendesk takes no idempotency key on ticket updates, so the note carries a marker, `[seam:<key>]`, where `<key>`
//! is the run-step part of the engine's idempotency key (`seam-<run>-<step>`, without the attempt number): every
//! attempt of the step writes the same marker. Before writing, the ticket's comments are read (all pages) and if
//! one holds the marker nothing is written and the result is `{written: false}`. So an attempt retried after a
//! timeout, whose first PUT did land, does not write a second note.
//!
//! # Errors
//!
//! 429 with `Retry-After` is waited out once within the call's timeout, then retryable `rate_limited`; 409 (Zendesk
//! refused a concurrent update of the same ticket) retryable `rate_limited`; 5xx retryable `server_error`; 408 and
//! timeouts retryable `timeout`; connection failures retryable `network`; 401, 403, 404, 422 and any other status
//! fatal `request`. Messages never hold the API token or the Basic credentials.

use std::time::Duration;

use reqwest::{Method, Url};
use seam_flow::{CallOutcome, ErrorClass, ErrorKind};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::http::classify_status;
use crate::vendor::{
    Api, Args, Call, Credentials, Failure, contains_text, fatal_request, note_args, short, tag_args,
    unknown_action,
};

/// The actions this connector serves (the part after `zendesk.`).
pub const ACTIONS: [&str; 3] = ["get_user", "add_note", "add_tags"];

/// The most comment pages read looking for a marker (100 comments a page).
const MAX_COMMENT_PAGES: usize = 20;

/// The Zendesk connector. Cheap to clone. Its `Debug` never shows the token.
#[derive(Debug, Clone)]
pub struct ZendeskConnector {
    api: Api,
}

impl ZendeskConnector {
    /// A connector for the Zendesk account at `base_url` (`https://<subdomain>.zendesk.com`; required) acting as
    /// the agent `email` with an `api_token`, giving each call at most `timeout`. Never panics: a missing or
    /// unusable setting makes every call a fatal `request` error naming it, and no request is made.
    pub fn new(
        base_url: impl Into<String>,
        email: impl Into<String>,
        api_token: impl Into<String>,
        timeout: Duration,
    ) -> Self {
        let (email, api_token): (String, String) = (email.into(), api_token.into());
        let (email, api_token) = (email.trim(), api_token.trim());
        let missing = if email.is_empty() {
            Some("no Zendesk agent e-mail is configured (setting `zendesk.email`)".to_owned())
        } else if api_token.is_empty() {
            Some("no Zendesk API token is configured (setting `zendesk.api_token`)".to_owned())
        } else {
            None
        };
        let credentials = Credentials::basic(&format!("{email}/token"), api_token, missing);
        let api = Api::new("zendesk", &base_url.into(), None, "zendesk.base_url", credentials, timeout)
            .with_classifier(classify);
        ZendeskConnector { api }
    }

    /// The call timeout this connector was built with.
    pub fn timeout(&self) -> Duration {
        self.api.timeout()
    }

    async fn run(&self, action: &str, args: &Value, idempotency_key: &str) -> CallOutcome {
        let label = format!("zendesk.{action}");
        let deadline = self.api.deadline();
        let result = match action {
            "get_user" => match Args::new(args, &["id"]).and_then(|a| a.required_numeric_id("id")) {
                Ok(id) => {
                    let call = Call::get(&["api", "v2", "users", &format!("{id}.json")]);
                    self.api.send(&label, &call, deadline).await.map(|answer| answer.body)
                }
                Err(why) => return no_request(&label, &why),
            },
            "add_note" => {
                let parsed = note_args(args, idempotency_key);
                match parsed {
                    Ok((ticket, body, marker)) => {
                        self.add_note(&label, &ticket, &body, &marker, deadline).await
                    }
                    Err(why) => return no_request(&label, &why),
                }
            }
            "add_tags" => {
                let parsed = tag_args(args);
                match parsed {
                    Ok((ticket, tags)) => {
                        let call = Call::send_json(
                            Method::PUT,
                            &["api", "v2", "tickets", ticket.as_str(), "tags.json"],
                            json!({ "tags": tags }),
                        );
                        self.api.send(&label, &call, deadline).await.map(|answer| answer.body)
                    }
                    Err(why) => return no_request(&label, &why),
                }
            }
            _ => return unknown_action("zendesk", action, &ACTIONS),
        };
        match result {
            Ok(value) => CallOutcome::Ok(value),
            Err(failure) => failure.outcome(),
        }
    }

    async fn add_note(
        &self,
        label: &str,
        ticket: &str,
        body: &str,
        marker: &str,
        deadline: Instant,
    ) -> Result<Value, Failure> {
        if self.has_marker(label, ticket, marker, deadline).await? {
            tracing::info!(ticket, marker, "zendesk: the note is already on the ticket");
            return Ok(json!({ "written": false, "marker": marker }));
        }
        let comment =
            json!({ "ticket": { "comment": { "body": format!("{body}\n\n{marker}"), "public": false } } });
        let call =
            Call::send_json(Method::PUT, &["api", "v2", "tickets", &format!("{ticket}.json")], comment);
        self.api.send(label, &call, deadline).await?;
        Ok(json!({ "written": true, "marker": marker }))
    }

    /// Whether any comment of the ticket holds `marker`, reading every page (`next_page`, on the same host only:
    /// the credentials go nowhere else).
    async fn has_marker(
        &self,
        label: &str,
        ticket: &str,
        marker: &str,
        deadline: Instant,
    ) -> Result<bool, Failure> {
        let mut call = Call::get(&["api", "v2", "tickets", ticket, "comments.json"]);
        for _ in 0..MAX_COMMENT_PAGES {
            let answer = self.api.send(label, &call, deadline).await?;
            let Some(comments) = answer.body.get("comments").and_then(Value::as_array) else {
                return Err(Failure::retryable(
                    ErrorKind::ServerError,
                    format!("{label}: Zendesk's comment list has no `comments`"),
                ));
            };
            if comments.iter().any(|comment| contains_text(comment, marker)) {
                return Ok(true);
            }
            match answer.body.get("next_page").and_then(Value::as_str).and_then(|next| self.same_site(next)) {
                Some(next) => call = next,
                None => return Ok(false),
            }
        }
        Err(Failure::request(format!(
            "{label}: ticket {ticket} has more than {MAX_COMMENT_PAGES} pages of comments; the note was not \
             written, as it could not be checked for"
        )))
    }

    /// A `next_page` URL as a call, if it is on the configured host (and under its path).
    fn same_site(&self, next: &str) -> Option<Call> {
        let base = self.api.base_url()?;
        let next = Url::parse(next).ok()?;
        if next.scheme() != base.scheme() || next.host_str() != base.host_str() || next.port() != base.port()
        {
            tracing::warn!(next = %short(next.as_str(), 100), "zendesk: a next_page on another host was not followed");
            return None;
        }
        let prefix = base.path().trim_end_matches('/');
        let rest = next.path().strip_prefix(prefix)?;
        let segments: Vec<String> = rest.split('/').filter(|s| !s.is_empty()).map(percent_decode).collect();
        let mut call = Call::get(&segments);
        for (name, value) in next.query_pairs() {
            call = call.with_query(&name, value.into_owned());
        }
        Some(call)
    }
}

#[async_trait::async_trait]
impl crate::Connector for ZendeskConnector {
    /// `action` is the part after `zendesk.`: one of [`ACTIONS`]. `add_note` marks its note with the run-step part
    /// of `idempotency_key`.
    async fn call(&self, action: &str, args: &Value, idempotency_key: &str) -> CallOutcome {
        self.run(action, args, idempotency_key).await
    }
}

/// 409 (a concurrent update of the same ticket) is worth retrying; the rest as every HTTP call.
fn classify(status: u16) -> ErrorClass {
    if status == 409 {
        return ErrorClass::Retryable(ErrorKind::RateLimited);
    }
    classify_status(status).unwrap_or(ErrorClass::Fatal(ErrorKind::Request))
}

fn no_request(label: &str, why: &str) -> CallOutcome {
    fatal_request(format!("{label}: {why}; no request was made"))
}

/// Undoes `%XX` escapes in a path segment (the URL type escapes segments again when the call is made).
fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = segment.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
