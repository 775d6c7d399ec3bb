//! Zendesk's face: the Support API under `/api/v2/…`, Basic `{email}/token:{api token}` when configured.
//!
//! `GET /api/v2/users/{id}.json`, `GET /api/v2/tickets/{id}.json`, `GET /api/v2/tickets/{id}/comments.json`,
//! `PUT /api/v2/tickets/{id}.json` (`comment` with `public: false` is an internal note; `status`, `tags`,
//! `additional_tags`, `remove_tags`), `PUT /api/v2/tickets/{id}/tags.json` (adds). Errors are Zendesk's
//! `{"error": ..., "description": ...}`; a ticket created through the admin endpoint emits
//! `zen:event-type:ticket.created`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use serde_json::{Value as Json, json};

use crate::SandboxHandle;
use crate::config::Vendor;
use crate::world::ids::utc;
use crate::world::{Kind, World, ZendeskComment, ZendeskTicket, ZendeskUser, split_name};

/// The sandbox's Zendesk account (`https://seam-sandbox.zendesk.com`).
const SUBDOMAIN_URL: &str = "https://seam-sandbox.zendesk.com";
const ACCOUNT_ID: u64 = 21_845_017;

pub(crate) fn routes() -> Router<SandboxHandle> {
    Router::new()
        .route("/api/v2/users/{file}", get(get_user))
        .route("/api/v2/tickets/{file}", get(get_ticket).put(update_ticket))
        .route("/api/v2/tickets/{id}/comments.json", get(comments))
        .route("/api/v2/tickets/{id}/tags.json", get(get_tags).put(add_tags))
}

fn respond(status: u16, body: &Json) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    response
}

fn not_found() -> Response {
    respond(404, &json!({ "error": "RecordNotFound", "description": "Not found" }))
}

fn invalid(description: &str) -> Response {
    respond(
        422,
        &json!({ "error": "RecordInvalid", "description": "Record validation errors",
            "details": { "base": [{ "description": description, "error": "InvalidValue" }] } }),
    )
}

fn refusal(h: &SandboxHandle, headers: &HeaderMap) -> Option<Response> {
    let expected = h.shared.config.zendesk_credentials.as_ref()?;
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b.trim()).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned());
    (given.as_deref() != Some(&format!("{}/token:{}", expected.user, expected.password)))
        .then(|| respond(401, &json!({ "error": "Couldn't authenticate you" })))
}

/// `123.json` → 123.
fn json_id(file: &str) -> Option<u64> {
    file.strip_suffix(".json")?.parse().ok()
}

/// Zendesk's tags are lower case, without spaces.
fn normalize_tag(tag: &str) -> String {
    tag.trim().to_lowercase().replace(' ', "_")
}

impl World {
    fn zendesk_user_json(&self, u: &ZendeskUser) -> Json {
        json!({
            "id": u.id,
            "url": format!("{SUBDOMAIN_URL}/api/v2/users/{}.json", u.id),
            "name": u.name,
            "email": u.email,
            "role": u.role,
            "created_at": utc(u.created),
            "updated_at": utc(u.created),
            "time_zone": "Eastern Time (US & Canada)",
            "iana_time_zone": "America/New_York",
            "locale": "en-US",
            "phone": null,
            "verified": true,
            "active": true,
            "suspended": false,
            "organization_id": null,
            "tags": [],
            "user_fields": {},
        })
    }

    fn zendesk_comment_json(&self, c: &ZendeskComment) -> Json {
        let paragraphs: String = c
            .body
            .split("\n\n")
            .map(|p| format!("<p>{}</p>", html_escape(p).replace('\n', "<br>")))
            .collect();
        json!({
            "id": c.id,
            "type": "Comment",
            "author_id": c.author_id,
            "body": c.body,
            "html_body": format!("<div class=\"zd-comment\" dir=\"auto\">{paragraphs}</div>"),
            "plain_body": c.body,
            "public": c.public,
            "attachments": [],
            "audit_id": c.id + 1,
            "via": { "channel": c.channel, "source": { "from": {}, "to": {}, "rel": null } },
            "created_at": utc(c.created),
            "metadata": { "system": {}, "custom": {} },
        })
    }

    pub(crate) fn zendesk_ticket_json(&self, t: &ZendeskTicket) -> Json {
        json!({
            "id": t.id,
            "url": format!("{SUBDOMAIN_URL}/api/v2/tickets/{}.json", t.id),
            "external_id": null,
            "type": null,
            "subject": t.subject,
            "raw_subject": t.subject,
            "description": t.comments.first().map(|c| c.body.clone()),
            "priority": null,
            "status": t.status,
            "recipient": null,
            "requester_id": t.requester_id,
            "submitter_id": t.requester_id,
            "assignee_id": null,
            "organization_id": null,
            "group_id": null,
            "collaborator_ids": [],
            "follower_ids": [],
            "email_cc_ids": [],
            "has_incidents": false,
            "is_public": true,
            "tags": t.tags,
            "custom_fields": [],
            "via": { "channel": t.comments.first().map_or("web", |c| c.channel) },
            "allow_attachments": true,
            "created_at": utc(t.created),
            "updated_at": utc(t.updated),
        })
    }

    /// Customer `at`'s Zendesk user, created (as an end user) when they have none.
    pub(crate) fn zendesk_user_for(&mut self, at: usize, now: i64) -> usize {
        if let Some(id) = self.customers[at].zendesk_user_id
            && let Some(u) = self.zendesk_users.iter().position(|u| u.id == id)
        {
            return u;
        }
        let (email, name) = (self.customers[at].email.clone(), self.customers[at].name());
        let u = self.zendesk_user_by_email(&email, Some(&name), now);
        self.customers[at].zendesk_user_id = Some(self.zendesk_users[u].id);
        u
    }

    /// The Zendesk user with this e-mail, created when there is none.
    pub(crate) fn zendesk_user_by_email(&mut self, email: &str, name: Option<&str>, now: i64) -> usize {
        if let Some(u) = self.zendesk_users.iter().position(|u| u.email.eq_ignore_ascii_case(email.trim())) {
            return u;
        }
        let (first, last) = split_name(name.unwrap_or(""), email);
        let id = self.ids.next(Kind::ZendeskUser);
        self.zendesk_users.push(ZendeskUser {
            id,
            name: format!("{first} {last}").trim().to_owned(),
            email: email.trim().to_owned(),
            role: "end-user",
            created: now,
        });
        if let Some(c) = self.customer_by_email(email) {
            self.customers[c].zendesk_user_id.get_or_insert(id);
        }
        self.zendesk_users.len() - 1
    }

    /// A new ticket from user `requester` with its first (public) comment.
    pub(crate) fn open_zendesk_ticket(
        &mut self,
        requester: usize,
        subject: &str,
        body: &str,
        now: i64,
    ) -> usize {
        let id = self.ids.next(Kind::ZendeskTicket);
        self.zendesk_tickets.push(ZendeskTicket {
            id,
            subject: subject.to_owned(),
            requester_id: self.zendesk_users[requester].id,
            status: "new",
            tags: Vec::new(),
            comments: Vec::new(),
            created: now,
            updated: now,
        });
        let at = self.zendesk_tickets.len() - 1;
        self.add_zendesk_comment(at, requester, body, true, "web", now);
        at
    }

    pub(crate) fn add_zendesk_comment(
        &mut self,
        ticket: usize,
        author: usize,
        body: &str,
        public: bool,
        channel: &'static str,
        now: i64,
    ) {
        let id = self.ids.next(Kind::ZendeskComment) * 2;
        let author_id = self.zendesk_users[author].id;
        let t = &mut self.zendesk_tickets[ticket];
        t.comments.push(ZendeskComment {
            id,
            author_id,
            body: body.to_owned(),
            public,
            created: now,
            channel,
        });
        t.updated = now;
        if t.status == "new" && author_id != t.requester_id {
            t.status = "open";
        }
    }

    /// `zen:event-type:ticket.created` for ticket `at`, shaped like Zendesk's event-subscription body.
    pub(crate) fn emit_zendesk_created(&mut self, at: usize, now: i64) {
        let t = &self.zendesk_tickets[at];
        let detail = json!({
            "actor_id": t.requester_id.to_string(),
            "assignee_id": null,
            "brand_id": "360000000001",
            "created_at": utc(t.created),
            "custom_status": "1",
            "description": t.comments.first().map(|c| c.body.clone()),
            "external_id": null,
            "form_id": "360000000002",
            "group_id": null,
            "id": t.id.to_string(),
            "is_public": true,
            "organization_id": null,
            "priority": null,
            "requester_id": t.requester_id.to_string(),
            "status": t.status.to_ascii_uppercase(),
            "subject": t.subject,
            "submitter_id": t.requester_id.to_string(),
            "tags": t.tags,
            "type": null,
            "updated_at": utc(t.updated),
            "via": { "channel": "web_form" },
        });
        let (ticket_id, id) = (t.id, self.ids.uuid());
        let body = json!({
            "account_id": ACCOUNT_ID,
            "detail": detail,
            "event": {},
            "id": id,
            "subject": format!("zen:ticket:{ticket_id}"),
            "time": utc(now),
            "type": "zen:event-type:ticket.created",
            "zendesk_event_version": "2022-11-06",
        });
        let headers = vec![
            ("x-zendesk-account-id".to_owned(), ACCOUNT_ID.to_string()),
            ("x-zendesk-webhook-id".to_owned(), "01HSEAMSANDBOXZENDESKHOOK1".to_owned()),
            ("x-zendesk-webhook-invocation-id".to_owned(), self.ids.uuid()),
        ];
        self.emit(
            Vendor::Zendesk,
            (id, "zen:event-type:ticket.created"),
            ticket_id.to_string(),
            headers,
            body,
            now,
        );
    }

    fn zendesk_ticket_index(&self, id: u64) -> Option<usize> {
        self.zendesk_tickets.iter().position(|t| t.id == id)
    }
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

async fn get_user(State(h): State<SandboxHandle>, Path(file): Path<String>, headers: HeaderMap) -> Response {
    if let Some(r) = refusal(&h, &headers) {
        return r;
    }
    let Some(id) = json_id(&file) else { return not_found() };
    match h.shared.read_world(|w| w.zendesk_users.iter().find(|u| u.id == id).map(|u| w.zendesk_user_json(u)))
    {
        Some(user) => respond(200, &json!({ "user": user })),
        None => not_found(),
    }
}

async fn get_ticket(
    State(h): State<SandboxHandle>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = refusal(&h, &headers) {
        return r;
    }
    let Some(id) = json_id(&file) else { return not_found() };
    match h
        .shared
        .read_world(|w| w.zendesk_ticket_index(id).map(|t| w.zendesk_ticket_json(&w.zendesk_tickets[t])))
    {
        Some(ticket) => respond(200, &json!({ "ticket": ticket })),
        None => not_found(),
    }
}

async fn comments(State(h): State<SandboxHandle>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if let Some(r) = refusal(&h, &headers) {
        return r;
    }
    let Ok(id) = id.parse::<u64>() else { return not_found() };
    let found = h.shared.read_world(|w| {
        w.zendesk_ticket_index(id).map(|t| {
            w.zendesk_tickets[t].comments.iter().map(|c| w.zendesk_comment_json(c)).collect::<Vec<_>>()
        })
    });
    match found {
        Some(comments) => respond(
            200,
            &json!({ "count": comments.len(), "comments": comments, "next_page": null, "previous_page": null }),
        ),
        None => not_found(),
    }
}

async fn update_ticket(
    State(h): State<SandboxHandle>,
    Path(file): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(r) = refusal(&h, &headers) {
        return r;
    }
    let Some(id) = json_id(&file) else { return not_found() };
    let Ok(body) = serde_json::from_slice::<Json>(&body) else {
        return respond(
            400,
            &json!({ "error": "Unprocessable Entity", "description": "The request body is not valid JSON" }),
        );
    };
    let Some(update) = body.get("ticket").filter(|t| t.is_object()) else {
        return invalid("The request needs a `ticket` object");
    };
    let comment = update.get("comment");
    let comment_body =
        comment.and_then(|c| c.get("body").or_else(|| c.get("html_body"))).and_then(Json::as_str);
    if comment.is_some() && comment_body.is_none_or(|b| b.trim().is_empty()) {
        return invalid("Comment: cannot be blank");
    }
    let status = update.get("status").and_then(Json::as_str).map(str::to_owned);
    if let Some(s) = &status
        && !["new", "open", "pending", "hold", "solved", "closed"].contains(&s.as_str())
    {
        return invalid(&format!("Status: {s} is not valid"));
    }
    let tags = |name: &str| -> Option<Vec<String>> {
        update
            .get(name)
            .and_then(Json::as_array)
            .map(|a| a.iter().filter_map(Json::as_str).map(normalize_tag).collect())
    };
    let (set_tags, add, remove) = (tags("tags"), tags("additional_tags"), tags("remove_tags"));
    let public = comment.and_then(|c| c.get("public")).and_then(Json::as_bool).unwrap_or(true);
    let now = crate::now_unix();
    let answer = h.shared.with_world(|w| {
        let t = w.zendesk_ticket_index(id)?;
        let mut events = Vec::new();
        if let Some(text) = comment_body {
            let author = w.zendesk_agent;
            w.add_zendesk_comment(t, author, text, public, "api", now);
            let added = w.zendesk_tickets[t].comments.last().map(|c| w.zendesk_comment_json(c));
            events.extend(added);
        }
        let ticket = &mut w.zendesk_tickets[t];
        if let Some(tags) = set_tags {
            ticket.tags = tags;
        }
        for tag in add.into_iter().flatten() {
            if !ticket.tags.contains(&tag) {
                ticket.tags.push(tag);
            }
        }
        ticket.tags.retain(|tag| remove.as_ref().is_none_or(|r| !r.contains(tag)));
        if let Some(s) = status {
            ticket.status = match s.as_str() {
                "new" => "new",
                "open" => "open",
                "pending" => "pending",
                "hold" => "hold",
                "solved" => "solved",
                _ => "closed",
            };
        }
        ticket.updated = now;
        let author = w.zendesk_users[w.zendesk_agent].id;
        let audit = json!({ "id": w.ids.next(Kind::ZendeskComment) * 2 + 1, "ticket_id": id, "author_id": author,
            "created_at": utc(now), "events": events, "metadata": { "system": {}, "custom": {} } });
        Some(json!({ "ticket": w.zendesk_ticket_json(&w.zendesk_tickets[t]), "audit": audit }))
    });
    match answer {
        Some(answer) => respond(200, &answer),
        None => not_found(),
    }
}

async fn get_tags(State(h): State<SandboxHandle>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if let Some(r) = refusal(&h, &headers) {
        return r;
    }
    let Ok(id) = id.parse::<u64>() else { return not_found() };
    match h.shared.read_world(|w| w.zendesk_ticket_index(id).map(|t| w.zendesk_tickets[t].tags.clone())) {
        Some(tags) => respond(200, &json!({ "tags": tags })),
        None => not_found(),
    }
}

async fn add_tags(
    State(h): State<SandboxHandle>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(r) = refusal(&h, &headers) {
        return r;
    }
    let Ok(id) = id.parse::<u64>() else { return not_found() };
    let tags: Option<Vec<String>> = serde_json::from_slice::<Json>(&body).ok().and_then(|b| {
        b.get("tags")
            .and_then(Json::as_array)
            .map(|a| a.iter().filter_map(Json::as_str).map(normalize_tag).collect())
    });
    let Some(tags) = tags else { return invalid("Tags: a `tags` list is required") };
    let now = crate::now_unix();
    let answer = h.shared.with_world(|w| {
        let t = w.zendesk_ticket_index(id)?;
        let ticket = &mut w.zendesk_tickets[t];
        for tag in tags.into_iter().filter(|t| !t.is_empty()) {
            if !ticket.tags.contains(&tag) {
                ticket.tags.push(tag);
            }
        }
        ticket.updated = now;
        Some(ticket.tags.clone())
    });
    match answer {
        Some(tags) => respond(200, &json!({ "tags": tags })),
        None => not_found(),
    }
}
