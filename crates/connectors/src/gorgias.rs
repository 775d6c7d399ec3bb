//! The Gorgias connector: write Seam's internal note into a ticket once, and tag it, over Gorgias' REST API
//! (`https://<domain>.gorgias.com/api/…`).
//!
//! # Actions
//!
//! The runtime passes the part after `gorgias.`; `args` is the step's rendered `with` table (unknown keys are
//! refused).
//!
//! | action | arguments | requests | result |
//! |---|---|---|---|
//! | `add_note` | `ticket_id`, `body` | `GET /api/tickets/{id}/messages?limit=100` (every page, by `meta.next_cursor`); unless a message holds the marker, `POST /api/tickets/{id}/messages` `{"channel": "internal-note", "via": "api", "from_agent": true, "sender": {"email": <configured email>}, "body_text": ..., "body_html": ...}` | `{written, marker}` |
//! | `add_tags` | `ticket_id`, `tags` (list) | `POST /api/tickets/{id}/tags` `{"names": [...]}` (adds, creating unknown tags; `PUT` would replace) | `{tags: [...]}` |
//!
//! Every request carries `Authorization: Basic base64(<email>:<api key>)` (Gorgias' REST API credentials, Settings
//! → REST API). The note is sent by the configured user (`sender.email`), an agent of the account.
//!
//! ## A note is written once
//!
//! Gorgias takes no idempotency key, so the note carries a marker, `[seam:<key>]`, where `<key>` is the run-step
//! part of the engine's idempotency key (`seam-<run>-<step>`, without the attempt number): every attempt of the
//! step writes the same marker. Before writing, the ticket's messages are read (all pages) and if one holds the
//! marker nothing is written and the result is `{written: false}`; an attempt retried after a timeout whose first
//! POST did land writes nothing more. The HTML body is the text, escaped, with line breaks as `<br>`.
//!
//! # Errors
//!
//! 429 with `Retry-After` (Gorgias' leaky bucket) is waited out once within the call's timeout, then retryable
//! `rate_limited`; 5xx retryable `server_error`; 408 and timeouts retryable `timeout`; connection failures retryable
//! `network`; 400, 401, 403, 404 and any other status fatal `request`. Messages never hold the API key or the Basic
//! credentials.

use std::time::Duration;

use reqwest::Method;
use seam_flow::{CallOutcome, ErrorKind};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::vendor::{
    Api, Call, Credentials, Failure, contains_text, fatal_request, note_args, tag_args, unknown_action,
};

/// The actions this connector serves (the part after `gorgias.`).
pub const ACTIONS: [&str; 2] = ["add_note", "add_tags"];

/// The most message pages read looking for a marker (100 messages a page).
const MAX_MESSAGE_PAGES: usize = 20;

/// The Gorgias connector. Cheap to clone. Its `Debug` never shows the key.
#[derive(Debug, Clone)]
pub struct GorgiasConnector {
    api: Api,
    email: String,
}

impl GorgiasConnector {
    /// A connector for the Gorgias account at `base_url` (`https://<domain>.gorgias.com`; required) with the REST
    /// API user `email` and its `api_key`, giving each call at most `timeout`. Never panics: a missing or unusable
    /// setting makes every call a fatal `request` error naming it, and no request is made.
    pub fn new(
        base_url: impl Into<String>,
        email: impl Into<String>,
        api_key: impl Into<String>,
        timeout: Duration,
    ) -> Self {
        let (email, api_key): (String, String) = (email.into(), api_key.into());
        let (email, api_key) = (email.trim().to_owned(), api_key.trim());
        let missing = if email.is_empty() {
            Some("no Gorgias user e-mail is configured (setting `gorgias.email`)".to_owned())
        } else if api_key.is_empty() {
            Some("no Gorgias API key is configured (setting `gorgias.api_key`)".to_owned())
        } else {
            None
        };
        let credentials = Credentials::basic(&email, api_key, missing);
        let api = Api::new("gorgias", &base_url.into(), None, "gorgias.base_url", credentials, timeout);
        GorgiasConnector { api, email }
    }

    /// The call timeout this connector was built with.
    pub fn timeout(&self) -> Duration {
        self.api.timeout()
    }

    async fn run(&self, action: &str, args: &Value, idempotency_key: &str) -> CallOutcome {
        let label = format!("gorgias.{action}");
        let deadline = self.api.deadline();
        let result = match action {
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
                            Method::POST,
                            &["api", "tickets", ticket.as_str(), "tags"],
                            json!({ "names": tags }),
                        );
                        self.api.send(&label, &call, deadline).await.map(|_| json!({ "tags": tags }))
                    }
                    Err(why) => return no_request(&label, &why),
                }
            }
            _ => return unknown_action("gorgias", action, &ACTIONS),
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
            tracing::info!(ticket, marker, "gorgias: the note is already on the ticket");
            return Ok(json!({ "written": false, "marker": marker }));
        }
        let text = format!("{body}\n\n{marker}");
        let html = format!("<p>{}</p><p>{marker}</p>", escape_html(body).replace('\n', "<br>"));
        let message = json!({
            "channel": "internal-note",
            "via": "api",
            "from_agent": true,
            "sender": { "email": self.email },
            "body_text": text,
            "body_html": html,
        });
        let call = Call::send_json(Method::POST, &["api", "tickets", ticket, "messages"], message);
        self.api.send(label, &call, deadline).await?;
        Ok(json!({ "written": true, "marker": marker }))
    }

    /// Whether any message of the ticket holds `marker`, reading every page (`meta.next_cursor`).
    async fn has_marker(
        &self,
        label: &str,
        ticket: &str,
        marker: &str,
        deadline: Instant,
    ) -> Result<bool, Failure> {
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_MESSAGE_PAGES {
            let mut call = Call::get(&["api", "tickets", ticket, "messages"]).with_query("limit", "100");
            if let Some(cursor) = &cursor {
                call = call.with_query("cursor", cursor.clone());
            }
            let answer = self.api.send(label, &call, deadline).await?;
            let Some(messages) = answer.body.get("data").and_then(Value::as_array) else {
                return Err(Failure::retryable(
                    ErrorKind::ServerError,
                    format!("{label}: Gorgias' message list has no `data`"),
                ));
            };
            if messages.iter().any(|message| contains_text(message, marker)) {
                return Ok(true);
            }
            match answer.body.pointer("/meta/next_cursor").and_then(Value::as_str).filter(|c| !c.is_empty()) {
                Some(next) => cursor = Some(next.to_owned()),
                None => return Ok(false),
            }
        }
        Err(Failure::request(format!(
            "{label}: ticket {ticket} has more than {MAX_MESSAGE_PAGES} pages of messages; the note was not \
             written, as it could not be checked for"
        )))
    }
}

#[async_trait::async_trait]
impl crate::Connector for GorgiasConnector {
    /// `action` is the part after `gorgias.`: one of [`ACTIONS`]. `add_note` marks its note with the run-step part
    /// of `idempotency_key`.
    async fn call(&self, action: &str, args: &Value, idempotency_key: &str) -> CallOutcome {
        self.run(action, args, idempotency_key).await
    }
}

fn no_request(label: &str, why: &str) -> CallOutcome {
    fatal_request(format!("{label}: {why}; no request was made"))
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
