//! Gorgias' face: the REST API under `/api/…`, Basic `{email}:{api key}` when configured.
//!
//! `GET /api/tickets/{id}`, `GET /api/tickets/{id}/messages`, `POST /api/tickets/{id}/messages` (an
//! `internal-note` channel message is an internal note), `POST /api/tickets/{id}/tags` (`{"names": [...]}` or
//! `{"ids": [...]}`, added to the ticket's). Gorgias signs no webhooks: a ticket created through the admin
//! endpoint calls Seam the way an HTTP integration configured for `ticket-created` does, with the secret token in
//! `X-Seam-Token`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde_json::{Value as Json, json};

use crate::SandboxHandle;
use crate::config::Vendor;
use crate::world::ids::utc;
use crate::world::{GorgiasCustomer, GorgiasMessage, GorgiasTicket, Kind, World};

pub(crate) fn routes() -> Router<SandboxHandle> {
    Router::new()
        .route("/api/tickets/{id}", get(get_ticket))
        .route("/api/tickets/{id}/messages", get(messages).post(add_message))
        .route("/api/tickets/{id}/tags", post(add_tags))
}

fn respond(status: u16, body: &Json) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn error(status: u16, message: &str) -> Response {
    respond(status, &json!({ "error": { "msg": message } }))
}

fn refusal(h: &SandboxHandle, headers: &HeaderMap) -> Option<Response> {
    let expected = h.shared.config.gorgias_credentials.as_ref()?;
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b.trim()).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned());
    (given.as_deref() != Some(&format!("{}:{}", expected.user, expected.password)))
        .then(|| error(401, "Authentication failed: invalid credentials."))
}

fn html(text: &str) -> String {
    let escaped = text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    escaped.split("\n\n").map(|p| format!("<div>{}</div>", p.replace('\n', "<br>"))).collect()
}

impl World {
    fn gorgias_customer_json(&self, at: usize) -> Json {
        let c = &self.gorgias_customers[at];
        let (first, last) = crate::world::split_name(&c.name, &c.email);
        json!({ "id": c.id, "email": c.email, "name": c.name, "firstname": first, "lastname": last,
            "created_datetime": utc(c.created) })
    }

    fn gorgias_message_json(&self, ticket: &GorgiasTicket, m: &GorgiasMessage) -> Json {
        let customer = &self.gorgias_customers[ticket.customer];
        let sender_id = if m.from_agent { None } else { Some(customer.id) };
        json!({
            "id": m.id,
            "uri": format!("/api/tickets/{}/messages/{}/", ticket.id, m.id),
            "ticket_id": ticket.id,
            "channel": m.channel,
            "via": m.via,
            "source": {
                "type": if m.channel == "internal-note" { "internal-note" } else { "email" },
                "from": { "name": m.sender_name, "address": m.sender_email },
                "to": [{ "name": customer.name, "address": customer.email }],
            },
            "sender": { "id": sender_id, "email": m.sender_email, "name": m.sender_name },
            "receiver": if m.from_agent { json!({ "id": customer.id, "email": customer.email, "name": customer.name }) } else { Json::Null },
            "integration_id": null,
            "rule_id": null,
            "external_id": null,
            "from_agent": m.from_agent,
            "public": m.channel != "internal-note",
            "subject": m.subject,
            "body_text": m.body_text,
            "body_html": m.body_html,
            "stripped_text": m.body_text,
            "stripped_html": m.body_html,
            "attachments": [],
            "macros": [],
            "actions": [],
            "meta": null,
            "created_datetime": utc(m.created),
            "sent_datetime": utc(m.created),
            "opened_datetime": null,
            "failed_datetime": null,
        })
    }

    pub(crate) fn gorgias_ticket_json(&self, t: &GorgiasTicket) -> Json {
        let last = t.messages.last().map_or(t.created, |m| m.created);
        json!({
            "id": t.id,
            "uri": format!("/api/tickets/{}/", t.id),
            "external_id": null,
            "language": "en",
            "status": t.status,
            "priority": "normal",
            "channel": t.channel,
            "via": t.channel,
            "from_agent": false,
            "customer": self.gorgias_customer_json(t.customer),
            "assignee_user": null,
            "assignee_team": null,
            "subject": t.subject,
            "excerpt": t.messages.first().map(|m| m.body_text.chars().take(100).collect::<String>()),
            "tags": t.tags.iter().map(|(id, name)| json!({ "id": id, "name": name, "uri": format!("/api/tags/{id}/"), "decoration": null })).collect::<Vec<_>>(),
            "messages_count": t.messages.len(),
            "is_unread": true,
            "spam": false,
            "created_datetime": utc(t.created),
            "opened_datetime": null,
            "updated_datetime": utc(t.updated),
            "last_message_datetime": utc(last),
            "last_received_message_datetime": t.messages.iter().rev().find(|m| !m.from_agent).map(|m| utc(m.created)),
        })
    }

    /// The Gorgias customer with this e-mail, created when there is none (and linked to the world's customer).
    pub(crate) fn gorgias_customer_for(&mut self, email: &str, name: Option<&str>, now: i64) -> usize {
        if let Some(at) =
            self.gorgias_customers.iter().position(|c| c.email.eq_ignore_ascii_case(email.trim()))
        {
            return at;
        }
        let id = self.ids.next(Kind::GorgiasCustomer);
        let name = name.map_or_else(|| email.split('@').next().unwrap_or(email).to_owned(), str::to_owned);
        self.gorgias_customers.push(GorgiasCustomer {
            id,
            email: email.trim().to_owned(),
            name,
            created: now,
        });
        if let Some(c) = self.customer_by_email(email) {
            self.customers[c].gorgias_id.get_or_insert(id);
        }
        self.gorgias_customers.len() - 1
    }

    /// A new e-mail ticket from customer `customer` with its first message.
    pub(crate) fn open_gorgias_ticket(
        &mut self,
        customer: usize,
        subject: &str,
        body: &str,
        now: i64,
    ) -> usize {
        let id = self.ids.next(Kind::GorgiasTicket);
        let message = GorgiasMessage {
            id: self.ids.next(Kind::GorgiasMessage),
            channel: "email".to_owned(),
            via: "email".to_owned(),
            from_agent: false,
            sender_email: self.gorgias_customers[customer].email.clone(),
            sender_name: Some(self.gorgias_customers[customer].name.clone()),
            subject: Some(subject.to_owned()),
            body_text: body.to_owned(),
            body_html: html(body),
            created: now,
        };
        self.gorgias_tickets.push(GorgiasTicket {
            id,
            customer,
            subject: subject.to_owned(),
            status: "open",
            channel: "email",
            tags: Vec::new(),
            messages: vec![message],
            created: now,
            updated: now,
        });
        self.gorgias_tickets.len() - 1
    }

    /// What an HTTP integration set up for `ticket-created` sends (see `docs/connectors.md`).
    pub(crate) fn emit_gorgias_created(&mut self, at: usize, now: i64) {
        let t = &self.gorgias_tickets[at];
        let customer = &self.gorgias_customers[t.customer];
        let id = format!("ticket-created-{}", t.id);
        let body = json!({
            "id": id,
            "type": "ticket-created",
            "ticket": {
                "id": t.id,
                "subject": t.subject,
                "status": t.status,
                "channel": t.channel,
                "created_datetime": utc(t.created),
                "customer": { "id": customer.id, "email": customer.email, "name": customer.name },
                "requester": { "email": customer.email, "name": customer.name },
                "body": t.messages.first().map(|m| m.body_text.clone()),
                "tags": t.tags.iter().map(|(_, n)| n.clone()).collect::<Vec<_>>(),
            },
        });
        let ticket_id = t.id.to_string();
        self.emit(Vendor::Gorgias, (id.clone(), "ticket-created"), ticket_id, Vec::new(), body, now);
    }

    fn gorgias_ticket_index(&self, id: &str) -> Option<usize> {
        let id: u64 = id.parse().ok()?;
        self.gorgias_tickets.iter().position(|t| t.id == id)
    }

    fn gorgias_tag(&mut self, name: &str) -> (u64, String) {
        if let Some(tag) = self.gorgias_tags.iter().find(|(_, n)| n.eq_ignore_ascii_case(name)) {
            return tag.clone();
        }
        let tag = (self.ids.next(Kind::GorgiasTag), name.to_owned());
        self.gorgias_tags.push(tag.clone());
        tag
    }
}

async fn get_ticket(State(h): State<SandboxHandle>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if let Some(r) = refusal(&h, &headers) {
        return r;
    }
    match h
        .shared
        .read_world(|w| w.gorgias_ticket_index(&id).map(|t| w.gorgias_ticket_json(&w.gorgias_tickets[t])))
    {
        Some(ticket) => respond(200, &ticket),
        None => error(404, "Resource not found"),
    }
}

async fn messages(State(h): State<SandboxHandle>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if let Some(r) = refusal(&h, &headers) {
        return r;
    }
    let found = h.shared.read_world(|w| {
        w.gorgias_ticket_index(&id).map(|t| {
            let ticket = &w.gorgias_tickets[t];
            ticket.messages.iter().map(|m| w.gorgias_message_json(ticket, m)).collect::<Vec<_>>()
        })
    });
    match found {
        Some(data) => respond(
            200,
            &json!({ "data": data, "object": "list", "uri": format!("/api/tickets/{id}/messages"),
                "meta": { "prev_cursor": null, "next_cursor": null } }),
        ),
        None => error(404, "Resource not found"),
    }
}

async fn add_message(
    State(h): State<SandboxHandle>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(r) = refusal(&h, &headers) {
        return r;
    }
    let Ok(body) = serde_json::from_slice::<Json>(&body) else {
        return error(400, "The request body is not valid JSON.");
    };
    let text = |name: &str| body.get(name).and_then(Json::as_str).map(str::to_owned);
    let mut missing: Vec<&str> = ["channel", "via"].into_iter().filter(|f| text(f).is_none()).collect();
    if body.get("from_agent").and_then(Json::as_bool).is_none() {
        missing.push("from_agent");
    }
    let sender_email = body.pointer("/sender/email").and_then(Json::as_str).map(str::to_owned);
    if sender_email.is_none() && body.pointer("/sender/id").is_none() {
        missing.push("sender");
    }
    let (body_text, body_html) = (text("body_text"), text("body_html"));
    if body_text.as_deref().is_none_or(|b| b.trim().is_empty())
        && body_html.as_deref().is_none_or(|b| b.trim().is_empty())
    {
        missing.push("body_text");
    }
    if !missing.is_empty() {
        let data: serde_json::Map<String, Json> =
            missing.iter().map(|f| ((*f).to_owned(), json!(["Missing data for required field."]))).collect();
        return respond(400, &json!({ "error": { "msg": "Invalid request.", "data": data } }));
    }
    let now = crate::now_unix();
    let from_agent = body.get("from_agent").and_then(Json::as_bool).unwrap_or(true);
    let answer = h.shared.with_world(|w| {
        let t = w.gorgias_ticket_index(&id)?;
        let message = GorgiasMessage {
            id: w.ids.next(Kind::GorgiasMessage),
            channel: text("channel").unwrap_or_default(),
            via: text("via").unwrap_or_default(),
            from_agent,
            sender_email: sender_email.clone().unwrap_or_else(|| "agent@seam-sandbox.example".to_owned()),
            sender_name: body.pointer("/sender/name").and_then(Json::as_str).map(str::to_owned),
            subject: text("subject"),
            body_html: body_html.clone().unwrap_or_else(|| html(body_text.as_deref().unwrap_or(""))),
            body_text: body_text.clone().unwrap_or_else(|| body_html.clone().unwrap_or_default()),
            created: now,
        };
        let ticket = &mut w.gorgias_tickets[t];
        ticket.messages.push(message);
        ticket.updated = now;
        let ticket = &w.gorgias_tickets[t];
        ticket.messages.last().map(|m| w.gorgias_message_json(ticket, m))
    });
    match answer {
        Some(message) => respond(201, &message),
        None => error(404, "Resource not found"),
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
    let Ok(body) = serde_json::from_slice::<Json>(&body) else {
        return error(400, "The request body is not valid JSON.");
    };
    let strings = |name: &str| -> Vec<String> {
        body.get(name)
            .and_then(Json::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| {
                        v.as_str().map(str::to_owned).or_else(|| v.as_u64().map(|n| n.to_string()))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let (names, ids) = (strings("names"), strings("ids"));
    if names.is_empty() && ids.is_empty() {
        return respond(
            400,
            &json!({ "error": { "msg": "Invalid request.", "data": { "names": ["Provide `names` or `ids`."] } } }),
        );
    }
    let now = crate::now_unix();
    let answer = h.shared.with_world(|w| {
        let t = w.gorgias_ticket_index(&id)?;
        let mut tags: Vec<(u64, String)> = names.iter().map(|n| w.gorgias_tag(n.trim())).collect();
        tags.extend(
            ids.iter().filter_map(|id| w.gorgias_tags.iter().find(|(t, _)| t.to_string() == *id).cloned()),
        );
        let ticket = &mut w.gorgias_tickets[t];
        for tag in tags {
            if !ticket.tags.iter().any(|(id, _)| *id == tag.0) {
                ticket.tags.push(tag);
            }
        }
        ticket.updated = now;
        Some(ticket.tags.iter().map(|(id, name)| json!({ "id": id, "name": name })).collect::<Vec<_>>())
    });
    match answer {
        Some(tags) => respond(201, &json!({ "data": tags, "object": "list" })),
        None => error(404, "Resource not found"),
    }
}
