//! The Zendesk and Gorgias connectors against scripted helpdesks on 127.0.0.1 that keep their tickets' comments:
//! each action's request, a note written once however often it is retried (the marker), and the classification of
//! failures without the credentials in any message.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use common::{Mock, Reply, Seen, err, ok};
use seam_connectors::Connector;
use seam_connectors::gorgias::GorgiasConnector;
use seam_connectors::zendesk::{ACTIONS, ZendeskConnector};
use seam_flow::{ErrorClass, ErrorKind};
use serde_json::{Value, json};

const EMAIL: &str = "agent@acme.example";
const ZENDESK_TOKEN: &str = "zdtok_SECRET_0123456789";
const GORGIAS_KEY: &str = "gorgias_SECRET_abcdef0123";
const KEY_1: &str = "seam-run_0f0f-note-1";
const KEY_2: &str = "seam-run_0f0f-note-2";
const MARKER: &str = "[seam:seam-run_0f0f-note]";
const REQUEST: ErrorClass = ErrorClass::Fatal(ErrorKind::Request);

fn basic(user: &str, password: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

fn zendesk_secrets() -> Vec<String> {
    vec![ZENDESK_TOKEN.to_owned(), basic(&format!("{EMAIL}/token"), ZENDESK_TOKEN)]
}

fn gorgias_secrets() -> Vec<String> {
    vec![GORGIAS_KEY.to_owned(), basic(EMAIL, GORGIAS_KEY)]
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// A Zendesk that keeps each ticket's comments; a PUT with a comment adds it. `slow_puts` answers the first PUT after
/// 3 s (the comment is stored first), as a request whose answer is lost to a timeout.
async fn zendesk(slow_first_put: bool) -> (Mock, Arc<Mutex<Vec<Value>>>) {
    let comments: Arc<Mutex<Vec<Value>>> =
        Arc::new(Mutex::new(vec![json!({ "id": 1, "body": "My tee never came.",
        "html_body": "<p>My tee never came.</p>", "plain_body": "My tee never came.", "public": true })]));
    let store = Arc::clone(&comments);
    let puts = Arc::new(Mutex::new(0));
    let mock = Mock::start(move |seen: &Seen, _| match (seen.method.as_str(), seen.path.as_str()) {
        ("GET", "/api/v2/users/1234.json") => Reply::ok(json!({ "user": { "id": 1234, "email": "jon@example.com",
                                                                         "name": "Jon Snow", "role": "end-user" } })),
        ("GET", "/api/v2/tickets/24/comments.json") => {
            Reply::ok(json!({ "comments": store.lock().unwrap().clone(), "next_page": null, "count": 1 }))
        }
        ("PUT", "/api/v2/tickets/24.json") => {
            let comment = seen.json()["ticket"]["comment"].clone();
            store.lock().unwrap().push(json!({ "id": 2, "body": comment["body"], "public": comment["public"] }));
            let mut count = puts.lock().unwrap();
            *count += 1;
            let reply = Reply::ok(json!({ "ticket": { "id": 24 }, "audit": { "id": 99 } }));
            if slow_first_put && *count == 1 { reply.after(Duration::from_secs(3)) } else { reply }
        }
        ("PUT", "/api/v2/tickets/24/tags.json") => {
            Reply::ok(json!({ "tags": ["existing", "seam-context"] }))
        }
        _ => Reply::json(404, json!({ "error": "RecordNotFound", "description": "Not found" })),
    })
    .await;
    (mock, comments)
}

fn zendesk_connector(mock: &Mock) -> ZendeskConnector {
    ZendeskConnector::new(mock.url(), EMAIL, ZENDESK_TOKEN, Duration::from_secs(2))
}

#[tokio::test]
async fn zendesk_get_user_with_the_api_token() {
    let (mock, _) = zendesk(false).await;
    let user = ok(zendesk_connector(&mock).call("get_user", &json!({ "id": 1234 }), KEY_1).await);
    assert_eq!(user["user"]["email"], "jon@example.com");
    let seen = mock.seen();
    assert_eq!(seen[0].line(), "GET /api/v2/users/1234.json");
    assert_eq!(
        seen[0].header("authorization"),
        Some(format!("Basic {}", basic(&format!("{EMAIL}/token"), ZENDESK_TOKEN)))
    );
    // The id may come as text from a webhook's detail.
    ok(zendesk_connector(&mock).call("get_user", &json!({ "id": "1234" }), KEY_1).await);
}

#[tokio::test]
async fn zendesk_note_is_private_marked_and_written_once_across_attempts() {
    let (mock, comments) = zendesk(false).await;
    let connector = zendesk_connector(&mock);
    let args = json!({ "ticket_id": 24, "body": "Orders:\n#1002 shipped (USPS 9400)" });
    let first = ok(connector.call("add_note", &args, KEY_1).await);
    assert_eq!(first, json!({ "written": true, "marker": MARKER }));
    // The next attempt of the same step (new attempt number), and a third call: nothing more is written.
    for key in [KEY_2, KEY_1] {
        let again = ok(connector.call("add_note", &args, key).await);
        assert_eq!(again, json!({ "written": false, "marker": MARKER }));
    }
    assert_eq!(comments.lock().unwrap().len(), 2);
    assert_eq!(
        mock.lines(),
        [
            "GET /api/v2/tickets/24/comments.json",
            "PUT /api/v2/tickets/24.json",
            "GET /api/v2/tickets/24/comments.json",
            "GET /api/v2/tickets/24/comments.json",
        ]
    );
    assert_eq!(
        mock.seen()[1].json(),
        json!({ "ticket": { "comment": { "body": format!("Orders:\n#1002 shipped (USPS 9400)\n\n{MARKER}"), "public": false } } })
    );
    // Another step's note is written.
    let other = ok(connector.call("add_note", &args, "seam-run_0f0f-summary-1").await);
    assert_eq!(other["written"], true);
}

#[tokio::test]
async fn zendesk_note_whose_answer_timed_out_is_not_written_again() {
    let (mock, comments) = zendesk(true).await;
    let connector = zendesk_connector(&mock);
    let args = json!({ "ticket_id": "24", "body": "Context" });
    let (class, message) = err(connector.call("add_note", &args, KEY_1).await, &strs(&zendesk_secrets()));
    assert_eq!(class, ErrorClass::Retryable(ErrorKind::Timeout), "{message}");
    // The engine retries with the next attempt's key; the note landed, so nothing is written.
    let retried = ok(connector.call("add_note", &args, KEY_2).await);
    assert_eq!(retried["written"], false);
    assert_eq!(comments.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn zendesk_reads_every_page_of_comments_on_its_own_host_only() {
    let mock = Mock::start(|seen: &Seen, _| {
        let page = seen.query_value("page");
        match page.as_deref() {
            None => Reply::ok(json!({ "comments": [{ "id": 1, "body": "first" }],
                "next_page": format!("http://{}/api/v2/tickets/24/comments.json?page=2", seen.header("host").unwrap()) })),
            Some("2") => Reply::ok(json!({ "comments": [{ "id": 2, "body": format!("old note\n\n{MARKER}") }],
                "next_page": "https://evil.example/api/v2/tickets/24/comments.json?page=3" })),
            _ => Reply::empty(500),
        }
    })
    .await;
    let result =
        ok(zendesk_connector(&mock).call("add_note", &json!({ "ticket_id": 24, "body": "x" }), KEY_2).await);
    assert_eq!(result["written"], false);
    assert_eq!(mock.seen()[1].query_value("page").as_deref(), Some("2"));

    // A next page elsewhere is not followed: the note is written after the pages on this host.
    let elsewhere = Mock::start(|seen: &Seen, _| match seen.method.as_str() {
        "GET" => Reply::ok(json!({ "comments": [], "next_page": "https://evil.example/api/v2/tickets/24/comments.json?page=2" })),
        _ => Reply::ok(json!({ "ticket": { "id": 24 } })),
    })
    .await;
    let result = ok(zendesk_connector(&elsewhere)
        .call("add_note", &json!({ "ticket_id": 24, "body": "x" }), KEY_1)
        .await);
    assert_eq!(result["written"], true);
    assert_eq!(elsewhere.lines(), ["GET /api/v2/tickets/24/comments.json", "PUT /api/v2/tickets/24.json"]);
}

#[tokio::test]
async fn zendesk_tags_are_added_not_replaced() {
    let (mock, _) = zendesk(false).await;
    let result = ok(zendesk_connector(&mock)
        .call("add_tags", &json!({ "ticket_id": 24, "tags": ["seam-context"] }), KEY_1)
        .await);
    assert_eq!(result["tags"], json!(["existing", "seam-context"]));
    let seen = mock.seen();
    assert_eq!(seen[0].line(), "PUT /api/v2/tickets/24/tags.json");
    assert_eq!(seen[0].json(), json!({ "tags": ["seam-context"] }));
}

#[tokio::test]
async fn zendesk_failures_are_classified_without_credentials() {
    let mock = Mock::start(|seen: &Seen, _| match seen.path.as_str() {
        "/api/v2/users/1.json" => Reply::json(401, json!({ "error": "Couldn't authenticate you" })),
        "/api/v2/users/2.json" => Reply::json(404, json!({ "error": "RecordNotFound", "description": "Not found" })),
        "/api/v2/users/3.json" => Reply::json(429, json!({})).header("Retry-After", "60"),
        "/api/v2/users/4.json" => Reply::json(409, json!({ "error": "Conflict" })),
        "/api/v2/users/5.json" => Reply::empty(503),
        "/api/v2/users/6.json" => Reply::json(422, json!({ "error": "RecordInvalid", "description": format!("bad {}", seen.header("authorization").unwrap()) })),
        _ => Reply::ok(json!({})).after(Duration::from_secs(3)),
    })
    .await;
    let connector = zendesk_connector(&mock);
    let secrets = zendesk_secrets();
    for (id, class, part) in [
        (1, REQUEST, "HTTP 401 error: Couldn't authenticate you"),
        (2, REQUEST, "HTTP 404 error: RecordNotFound; description: Not found"),
        (3, ErrorClass::Retryable(ErrorKind::RateLimited), "Retry-After 60 s would pass"),
        (4, ErrorClass::Retryable(ErrorKind::RateLimited), "HTTP 409"),
        (5, ErrorClass::Retryable(ErrorKind::ServerError), "HTTP 503"),
        (6, REQUEST, "bad Basic [redacted]"),
        (7, ErrorClass::Retryable(ErrorKind::Timeout), "the limit is 2s"),
    ] {
        let (got, message) =
            err(connector.call("get_user", &json!({ "id": id }), KEY_1).await, &strs(&secrets));
        assert_eq!(got, class, "{id}: {message}");
        assert!(message.contains(part), "{id}: {part} missing from {message}");
    }
    for (action, args) in [
        ("get_user", json!({ "id": "1/../2" })),
        ("add_note", json!({ "ticket_id": 24 })),
        ("add_note", json!({ "ticket_id": 24, "body": "" })),
        ("add_tags", json!({ "ticket_id": 24, "tags": [] })),
        ("add_tags", json!({ "ticket_id": 24, "tags": [1.5, {}] })),
    ] {
        let (class, message) = err(connector.call(action, &args, KEY_1).await, &strs(&secrets));
        assert_eq!(class, REQUEST, "{action} {args}: {message}");
        assert!(message.contains("no request was made"), "{message}");
    }
    let (_, message) = err(connector.call("delete_ticket", &json!({}), KEY_1).await, &[]);
    for known in ACTIONS {
        assert!(message.contains(&format!("zendesk.{known}")), "{message}");
    }
    let unconfigured = ZendeskConnector::new("", EMAIL, ZENDESK_TOKEN, Duration::from_secs(2));
    let (_, message) = err(unconfigured.call("get_user", &json!({ "id": 1 }), KEY_1).await, &strs(&secrets));
    assert!(message.contains("zendesk.base_url"), "{message}");
    let no_token = ZendeskConnector::new(mock.url(), EMAIL, "", Duration::from_secs(2));
    let (_, message) = err(no_token.call("get_user", &json!({ "id": 1 }), KEY_1).await, &[]);
    assert!(message.contains("zendesk.api_token"), "{message}");
    assert!(!format!("{connector:?}").contains(ZENDESK_TOKEN));
}

/// A Gorgias that keeps each ticket's messages, two to a page, by cursor.
async fn gorgias() -> (Mock, Arc<Mutex<Vec<Value>>>) {
    let messages: Arc<Mutex<Vec<Value>>> = Arc::new(Mutex::new(
        (1..=3).map(|n| json!({ "id": n, "channel": "email", "body_text": format!("message {n}"), "body_html": null })).collect(),
    ));
    let store = Arc::clone(&messages);
    let mock = Mock::start(move |seen: &Seen, _| match (seen.method.as_str(), seen.path.as_str()) {
        ("GET", "/api/tickets/7/messages") => {
            let all = store.lock().unwrap().clone();
            let start: usize = seen.query_value("cursor").map_or(0, |c| c.parse().unwrap());
            let page: Vec<Value> = all.iter().skip(start).take(2).cloned().collect();
            let next = (start + 2 < all.len()).then(|| (start + 2).to_string());
            Reply::ok(json!({ "data": page, "meta": { "next_cursor": next, "prev_cursor": null }, "object": "list" }))
        }
        ("POST", "/api/tickets/7/messages") => {
            let mut message = seen.json();
            message["id"] = json!(100);
            store.lock().unwrap().push(message.clone());
            Reply::json(201, message)
        }
        ("POST", "/api/tickets/7/tags") => Reply::empty(201),
        _ => Reply::json(404, json!({ "error": { "msg": "Resource not found." } })),
    })
    .await;
    (mock, messages)
}

fn gorgias_connector(mock: &Mock) -> GorgiasConnector {
    GorgiasConnector::new(mock.url(), EMAIL, GORGIAS_KEY, Duration::from_secs(2))
}

#[tokio::test]
async fn gorgias_note_is_internal_marked_and_written_once() {
    let (mock, messages) = gorgias().await;
    let connector = gorgias_connector(&mock);
    let args = json!({ "ticket_id": 7, "body": "Orders:\n#1002 <shipped> & tracked" });
    assert_eq!(
        ok(connector.call("add_note", &args, KEY_1).await),
        json!({ "written": true, "marker": MARKER })
    );
    assert_eq!(
        ok(connector.call("add_note", &args, KEY_2).await),
        json!({ "written": false, "marker": MARKER })
    );
    assert_eq!(messages.lock().unwrap().len(), 4);

    let seen = mock.seen();
    let lines: Vec<String> =
        seen.iter().map(|s| format!("{} {}", s.line(), s.query.clone().unwrap_or_default())).collect();
    assert_eq!(
        lines,
        [
            "GET /api/tickets/7/messages limit=100",
            "GET /api/tickets/7/messages limit=100&cursor=2",
            "POST /api/tickets/7/messages ",
            "GET /api/tickets/7/messages limit=100",
            "GET /api/tickets/7/messages limit=100&cursor=2",
        ]
    );
    assert_eq!(seen[0].header("authorization"), Some(format!("Basic {}", basic(EMAIL, GORGIAS_KEY))));
    assert_eq!(
        seen[2].json(),
        json!({
            "channel": "internal-note", "via": "api", "from_agent": true, "sender": { "email": EMAIL },
            "body_text": format!("Orders:\n#1002 <shipped> & tracked\n\n{MARKER}"),
            "body_html": format!("<p>Orders:<br>#1002 &lt;shipped&gt; &amp; tracked</p><p>{MARKER}</p>"),
        })
    );
}

#[tokio::test]
async fn gorgias_tags_by_name() {
    let (mock, _) = gorgias().await;
    let result = ok(gorgias_connector(&mock)
        .call("add_tags", &json!({ "ticket_id": "7", "tags": ["seam-context"] }), KEY_1)
        .await);
    assert_eq!(result, json!({ "tags": ["seam-context"] }));
    let seen = mock.seen();
    assert_eq!(seen[0].line(), "POST /api/tickets/7/tags");
    assert_eq!(seen[0].json(), json!({ "names": ["seam-context"] }));
}

#[tokio::test]
async fn gorgias_failures_are_classified_without_credentials() {
    let mock = Mock::start(|seen: &Seen, n| match seen.path.as_str() {
        "/api/tickets/1/tags" => Reply::json(401, json!({ "error": { "msg": "Unauthorized" } })),
        "/api/tickets/2/tags" => Reply::json(404, json!({ "error": { "msg": "Resource not found." } })),
        "/api/tickets/3/tags" if n == 3 => Reply::json(429, json!({})).header("Retry-After", "1"),
        "/api/tickets/3/tags" => Reply::empty(201),
        "/api/tickets/4/tags" => Reply::empty(500),
        _ => Reply::ok(json!("odd")),
    })
    .await;
    let connector = gorgias_connector(&mock);
    let secrets = gorgias_secrets();
    for (ticket, class, part) in [
        (1, REQUEST, "HTTP 401 error: {\"msg\":\"Unauthorized\"}"),
        (2, REQUEST, "HTTP 404"),
        (4, ErrorClass::Retryable(ErrorKind::ServerError), "HTTP 500"),
    ] {
        let args = json!({ "ticket_id": ticket, "tags": ["x"] });
        let (got, message) = err(connector.call("add_tags", &args, KEY_1).await, &strs(&secrets));
        assert_eq!(got, class, "{ticket}: {message}");
        assert!(message.contains(part), "{ticket}: {part} missing from {message}");
        assert!(
            message.starts_with(&format!("gorgias.add_tags POST /api/tickets/{ticket}/tags")),
            "{message}"
        );
    }
    // 429 with Retry-After 1 s: waited, then done.
    ok(connector.call("add_tags", &json!({ "ticket_id": 3, "tags": ["x"] }), KEY_1).await);
    assert_eq!(mock.lines().iter().filter(|l| *l == "POST /api/tickets/3/tags").count(), 2);
    // A message list that is not one is a server error, and nothing is written.
    let (class, message) = err(
        connector.call("add_note", &json!({ "ticket_id": 9, "body": "x" }), KEY_1).await,
        &strs(&secrets),
    );
    assert_eq!(class, ErrorClass::Retryable(ErrorKind::ServerError), "{message}");
    assert!(mock.seen().iter().all(|s| s.line() != "POST /api/tickets/9/messages"));

    let no_email = GorgiasConnector::new(mock.url(), "", GORGIAS_KEY, Duration::from_secs(2));
    let (_, message) = err(
        no_email.call("add_tags", &json!({ "ticket_id": 1, "tags": ["x"] }), KEY_1).await,
        &strs(&secrets),
    );
    assert!(message.contains("gorgias.email"), "{message}");
    assert!(!format!("{connector:?}").contains(GORGIAS_KEY));
}
