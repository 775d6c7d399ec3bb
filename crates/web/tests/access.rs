//! Accounts and access through the real server (issue 10, item 1): the JSON API takes bearer tokens only, roles
//! decide what a token sees and may do, `/metrics` is open to loopback and an allow-list, sessions and CSRF for
//! the pages, and the sign-in limit. Each test runs on SQLite and PostgreSQL.

mod support;

use reqwest::header::{SET_COOKIE, WWW_AUTHENTICATE};
use seam_runtime::Role;
use serde_json::{Value, json};
use support::{Backend, START, World};

/// A finance escalation: zone order-to-cash, team finance.
const DUNNING: &str = r#"
name = "dunning"
zone = "order_to_cash"
version = 1

[trigger]
source = "test"
event = "charge.failed"
key = "{{ event.data.id }}"

[[steps]]
id = "ask"
next = "end"

[steps.escalate]
team = "finance"
title = "Charge {{ trigger.data.id }} needs a decision"
"#;

/// A support escalation: zone customer service, team customer_service.
const TICKETS: &str = r#"
name = "tickets"
zone = "customer_service"
version = 1

[trigger]
source = "test"
event = "ticket.created"
key = "{{ event.data.id }}"

[[steps]]
id = "ask"
next = "end"

[steps.escalate]
team = "customer_service"
title = "Ticket {{ trigger.data.id }} needs an answer"
"#;

fn event(id: &str, kind: &str, object: &str) -> Value {
    json!({ "id": id, "type": kind, "data": { "id": object, "amount": 4900 } })
}

/// One finance item (charge `ch_1`) and one support item (ticket `t_1`), open; their ids.
async fn one_item_each(world: &World) -> (String, String) {
    world.send(&event("evt_c1", "charge.failed", "ch_1")).await;
    world.send(&event("evt_t1", "ticket.created", "t_1")).await;
    world.settle().await;
    let items = world.inbox("open").await;
    assert_eq!(items.len(), 2, "{items:?}");
    let id_of = |team: &str| {
        items.iter().find(|item| item["team"] == team).unwrap()["id"].as_str().unwrap().to_owned()
    };
    (id_of("finance"), id_of("customer_service"))
}

fn run_of(runs: &[Value], workflow: &str) -> String {
    runs.iter().find(|run| run["workflow"] == workflow).unwrap()["id"].as_str().unwrap().to_owned()
}

/// A request with an optional bearer token and extra headers: status, headers and JSON (or text) body.
async fn send(
    world: &World,
    method: &str,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = world.client.request(method, world.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    (status, headers, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// "The JSON API without a token is 401", on every route; a made-up or revoked token too. The issue's story: a
/// cancel with no credentials and a made-up name cancelled the run; now it is refused and the run goes on.
async fn the_json_api_without_a_token_is_401(backend: Backend) {
    let Some(world) = World::start(backend, &[DUNNING, TICKETS], "").await else { return };
    let (item, _) = one_item_each(&world).await;
    let run = run_of(&world.runs().await, "dunning");
    let routes = [
        ("GET", "/api/inbox".to_owned()),
        ("GET", format!("/api/inbox/{item}")),
        ("POST", format!("/api/inbox/{item}/resolve")),
        ("POST", format!("/api/inbox/{item}/dismiss")),
        ("GET", "/api/runs".to_owned()),
        ("GET", format!("/api/runs/{run}")),
        ("POST", format!("/api/runs/{run}/cancel")),
        ("GET", "/api/dead-letters".to_owned()),
        ("GET", "/api/ledger".to_owned()),
    ];
    for (method, path) in &routes {
        let body = (*method == "POST").then(|| json!({ "by": "made-up name" }));
        let (status, headers, reply) = send(&world, method, path, None, &[], body.clone()).await;
        assert_eq!(status, 401, "{method} {path} without a token: {reply}");
        let challenge = headers[WWW_AUTHENTICATE].to_str().unwrap();
        assert!(challenge.starts_with("Bearer"), "{method} {path}: {challenge}");
        let made_up = "seam_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let (status, headers, _) = send(&world, method, path, Some(made_up), &[], body.clone()).await;
        assert_eq!(status, 401, "{method} {path} with a made-up token");
        assert!(headers[WWW_AUTHENTICATE].to_str().unwrap().contains("invalid_token"));
        let (status, _, _) =
            send(&world, method, path, None, &[("authorization", "Basic YWRtaW46YWRtaW4=")], body).await;
        assert_eq!(status, 401, "{method} {path} with a password instead of a token");
    }
    let (_, _, after) = send(&world, "GET", &format!("/api/runs/{run}"), Some(&world.admin), &[], None).await;
    assert_eq!(after["status"], "running", "nothing was cancelled: {after}");
    assert_eq!(world.inbox("open").await.len(), 2, "nothing was decided");

    // A revoked token is refused from then on.
    let ops = world.token("ops", Role::Admin).await;
    assert_eq!(world.get_as(Some(&ops), "/api/runs").await.0, 200);
    let store = world.server.as_ref().unwrap().engine.store().clone();
    seam_web::auth::revoke_token(store.as_ref(), "ops", START).await.unwrap();
    let (status, headers, _) = send(&world, "GET", "/api/runs", Some(&ops), &[], None).await;
    assert_eq!(status, 401);
    assert!(headers[WWW_AUTHENTICATE].to_str().unwrap().contains("invalid_token"));
    // Open routes stay open.
    assert_eq!(world.get_as(None, "/healthz").await.0, 200);
    assert_eq!(world.get_as(None, "/metrics").await.0, 200, "from loopback");
    world.stop().await;
}

/// "Support never sees finance's items": a support token cannot read or decide a finance item (404, as if it
/// did not exist) and its list does not show it; a finance token can. Runs follow the workflow's zone.
async fn a_role_sees_and_decides_only_its_teams_items(backend: Backend) {
    let Some(world) = World::start(backend, &[DUNNING, TICKETS], "").await else { return };
    let (finance_item, support_item) = one_item_each(&world).await;
    let runs = world.runs().await;
    let (dunning, tickets) = (run_of(&runs, "dunning"), run_of(&runs, "tickets"));
    let support = world.token("support-desk", Role::Support).await;
    let finance = world.token("finance-desk", Role::Finance).await;
    let fulfillment = world.token("warehouse", Role::Fulfillment).await;

    let (status, list) = world.get_as(Some(&support), "/api/inbox").await;
    assert_eq!(status, 200);
    let ids: Vec<&str> =
        list["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [support_item.as_str()], "support's list shows only its item");
    let (status, all) = world.get_as(Some(&support), "/api/inbox?status=all").await;
    assert_eq!(status, 200);
    assert_eq!(all["items"].as_array().unwrap().len(), 1);
    let (status, hidden) = world.get_as(Some(&support), &format!("/api/inbox/{finance_item}")).await;
    assert_eq!(status, 404, "{hidden}");
    let (_, missing) = world.get_as(Some(&support), "/api/inbox/no_such_item").await;
    assert_eq!(
        hidden["error"].as_str().unwrap().replace(&finance_item, "ID"),
        missing["error"].as_str().unwrap().replace("no_such_item", "ID"),
        "a hidden item is answered as a missing one"
    );
    for decision in ["resolve", "dismiss", "retry"] {
        let path = format!("/api/inbox/{finance_item}/{decision}");
        let (status, body) = world.post_json_as(Some(&support), &path, json!({ "by": "someone" })).await;
        assert_eq!(status, 404, "support {decision}s a finance item: {body}");
    }
    let (_, item) = world.get(&format!("/api/inbox/{finance_item}")).await;
    assert_eq!(item["status"], "open", "the refusals changed nothing: {item}");
    // Runs: the role's zone only.
    let (_, runs) = world.get_as(Some(&support), "/api/runs").await;
    let workflows: Vec<&str> =
        runs["runs"].as_array().unwrap().iter().map(|r| r["workflow"].as_str().unwrap()).collect();
    assert_eq!(workflows, ["tickets"]);
    assert_eq!(world.get_as(Some(&support), &format!("/api/runs/{dunning}")).await.0, 404);
    assert_eq!(world.get_as(Some(&support), &format!("/api/runs/{tickets}")).await.0, 200);
    let (_, filtered) = world.get_as(Some(&support), "/api/runs?workflow=dunning").await;
    assert_eq!(filtered["runs"].as_array().unwrap().len(), 0, "a filter cannot widen the view");
    // Fulfillment sees neither.
    let (_, list) = world.get_as(Some(&fulfillment), "/api/inbox").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
    let (_, runs) = world.get_as(Some(&fulfillment), "/api/runs").await;
    assert_eq!(runs["runs"].as_array().unwrap().len(), 0);

    // Finance sees and decides its item, and not support's.
    let (_, list) = world.get_as(Some(&finance), "/api/inbox").await;
    let ids: Vec<&str> =
        list["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [finance_item.as_str()]);
    assert_eq!(world.get_as(Some(&finance), &format!("/api/inbox/{finance_item}")).await.0, 200);
    assert_eq!(world.get_as(Some(&finance), &format!("/api/inbox/{support_item}")).await.0, 404);
    assert_eq!(world.get_as(Some(&finance), &format!("/api/runs/{dunning}")).await.0, 200);
    let path = format!("/api/inbox/{finance_item}/resolve");
    let (status, body) = world.post_json_as(Some(&finance), &path, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["decided_by"], "finance-desk");
    // Support decides its own.
    let path = format!("/api/inbox/{support_item}/resolve");
    let (status, body) = world.post_json_as(Some(&support), &path, json!({})).await;
    assert_eq!(status, 200, "{body}");
    world.settle().await;
    let (_, runs) = world.get("/api/runs").await;
    assert!(runs["runs"].as_array().unwrap().iter().all(|run| run["status"] == "succeeded"), "{runs}");
    world.stop().await;
}

/// `[roles]` replaces a role's default teams: here support also handles the finance team's items.
async fn roles_follow_the_configuration(backend: Backend) {
    let extra = "\n[roles.support]\nteams = [\"customer_service\", \"finance\"]\n";
    let Some(world) = World::start(backend, &[DUNNING, TICKETS], extra).await else { return };
    let (finance_item, _) = one_item_each(&world).await;
    let support = world.token("support-desk", Role::Support).await;
    let (_, list) = world.get_as(Some(&support), "/api/inbox").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    assert_eq!(world.get_as(Some(&support), &format!("/api/inbox/{finance_item}")).await.0, 200);
    // Zones kept their default: support still sees only customer-service runs.
    let (_, runs) = world.get_as(Some(&support), "/api/runs").await;
    assert_eq!(runs["runs"].as_array().unwrap().len(), 1);
    world.stop().await;
}

/// "Cancel with a non-admin token is 403 and changes nothing"; an admin's cancel is audited under its name.
async fn cancel_is_for_admins_and_a_refusal_changes_nothing(backend: Backend) {
    let Some(world) = World::start(backend, &[DUNNING, TICKETS], "").await else { return };
    one_item_each(&world).await;
    let run = run_of(&world.runs().await, "dunning");
    let path = format!("/api/runs/{run}/cancel");
    for (name, role) in [("finance-desk", Role::Finance), ("support-desk", Role::Support)] {
        let token = world.token(name, role).await;
        let (status, body) = world.post_json_as(Some(&token), &path, json!({ "reason": "try" })).await;
        assert_eq!(status, 403, "{name}: {body}");
        assert!(body["error"].as_str().unwrap().contains("admin"), "{body}");
    }
    let (_, after) = world.get(&format!("/api/runs/{run}")).await;
    assert_eq!(after["status"], "running");
    assert!(after["audit"].as_array().unwrap().iter().all(|a| a["kind"] != "cancelled"), "{after}");
    assert_eq!(world.inbox("open").await.len(), 2);

    let ops = world.token("ops-admin", Role::Admin).await;
    let (status, body) = world.post_json_as(Some(&ops), &path, json!({ "reason": "duplicate charge" })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "cancelled");
    let (_, after) = world.get(&format!("/api/runs/{run}")).await;
    let cancelled =
        after["audit"].as_array().unwrap().iter().find(|a| a["kind"] == "cancelled").unwrap().clone();
    assert_eq!(cancelled["actor"], "ops-admin", "{cancelled}");
    world.stop().await;
}

/// "A decision made with a token is audited under the token's name (`by` becomes optional; if given it is
/// recorded as a note of who)".
async fn a_decision_is_audited_under_the_tokens_name(backend: Backend) {
    let Some(world) = World::start(backend, &[DUNNING], "").await else { return };
    world.send(&event("evt_c1", "charge.failed", "ch_1")).await;
    world.send(&event("evt_c2", "charge.failed", "ch_2")).await;
    world.settle().await;
    let items = world.inbox("open").await;
    let bot = world.token("finance-bot", Role::Finance).await;
    let path = format!("/api/inbox/{}/resolve", items[0]["id"].as_str().unwrap());
    let body = json!({ "by": "jane@brand.example", "note": "paid by wire" });
    let (status, decided) = world.post_json_as(Some(&bot), &path, body).await;
    assert_eq!(status, 200, "{decided}");
    assert_eq!(decided["decided_by"], "finance-bot");
    assert_eq!(decided["note"], "by jane@brand.example: paid by wire");
    // Without `by`: fine, the token is who decided.
    let path = format!("/api/inbox/{}/dismiss", items[1]["id"].as_str().unwrap());
    let (status, decided) = world.post_json_as(Some(&bot), &path, json!({ "note": "written off" })).await;
    assert_eq!(status, 200, "{decided}");
    assert_eq!(
        (decided["decided_by"].as_str(), decided["note"].as_str()),
        (Some("finance-bot"), Some("written off"))
    );
    world.settle().await;
    let store = world.server.as_ref().unwrap().engine.store().clone();
    let audit = store.audit(None, 0, 1000).await.unwrap();
    let actors: Vec<Option<&str>> =
        audit.iter().filter(|entry| entry.kind == "decision").map(|entry| entry.actor.as_deref()).collect();
    assert_eq!(actors, [Some("finance-bot"), Some("finance-bot")]);
    // The token's last use is recorded; its secret is not anywhere in the database's token list.
    let tokens = store.tokens().await.unwrap();
    let row = tokens.iter().find(|token| token.name == "finance-bot").unwrap();
    assert!(row.last_used_at.is_some());
    assert!(!format!("{tokens:?}").contains(&bot));
    world.stop().await;
}

/// Dead letters (raw bodies from any source) are for admins; the ledger for admins and finance.
async fn dead_letters_and_the_ledger_by_role(backend: Backend) {
    let Some(world) = World::start(backend, &[DUNNING], "").await else { return };
    let finance = world.token("finance-desk", Role::Finance).await;
    let support = world.token("support-desk", Role::Support).await;
    assert_eq!(world.get("/api/dead-letters").await.0, 200);
    assert_eq!(world.get("/api/ledger").await.0, 200);
    assert_eq!(world.get_as(Some(&finance), "/api/ledger").await.0, 200);
    assert_eq!(world.get_as(Some(&finance), "/api/dead-letters").await.0, 403);
    assert_eq!(world.get_as(Some(&support), "/api/ledger").await.0, 403);
    assert_eq!(world.get_as(Some(&support), "/api/dead-letters").await.0, 403);
    world.stop().await;
}

/// "`/metrics` from loopback works, and (via a trusted-proxy `X-Forwarded-For` from a non-allowed address) is
/// 401 without a token"; an allowed range needs none; a client's own `X-Forwarded-For` counts for nothing.
async fn metrics_are_for_loopback_the_allow_list_or_a_token(backend: Backend) {
    let extra = "\n[web]\ntrusted_proxies = [\"127.0.0.1/32\"]\nmetrics_allow = [\"198.51.100.0/24\"]\n";
    let Some(world) = World::start(backend, &[DUNNING], extra).await else { return };
    let (status, _, text) = send(&world, "GET", "/metrics", None, &[], None).await;
    assert_eq!(status, 200, "loopback: {text}");
    assert!(text.as_str().unwrap().contains("seam_inbox_open"));
    let outside = [("x-forwarded-for", "203.0.113.9")];
    let (status, headers, _) = send(&world, "GET", "/metrics", None, &outside, None).await;
    assert_eq!(status, 401, "through the proxy from outside, no token");
    assert!(headers[WWW_AUTHENTICATE].to_str().unwrap().starts_with("Bearer"));
    let support = world.token("scraper", Role::Support).await;
    let (status, _, _) = send(&world, "GET", "/metrics", Some(&support), &outside, None).await;
    assert_eq!(status, 200, "any role's token");
    let (status, _, _) = send(&world, "GET", "/metrics", Some("seam_nope"), &outside, None).await;
    assert_eq!(status, 401);
    let allowed = [("x-forwarded-for", "198.51.100.7")];
    assert_eq!(send(&world, "GET", "/metrics", None, &allowed, None).await.0, 200, "the allow-list");
    // A client cannot say it is loopback from behind the proxy either: the proxy's own entry is the last one.
    let spoofed = [("x-forwarded-for", "127.0.0.1, 203.0.113.9")];
    assert_eq!(send(&world, "GET", "/metrics", None, &spoofed, None).await.0, 401);
    world.stop().await;

    // Without trusted proxies, the header is the client's say-so and ignored: the peer (loopback) counts.
    let Some(world) = World::start(backend, &[DUNNING], "").await else { return };
    assert_eq!(send(&world, "GET", "/metrics", None, &outside, None).await.0, 200);
    world.stop().await;
}

fn cookie_of(headers: &reqwest::header::HeaderMap) -> String {
    headers[SET_COOKIE].to_str().unwrap().to_owned()
}

/// Sessions for the pages: `POST /login` makes a server-side session and an `HttpOnly; SameSite=Lax; Path=/`
/// cookie (`Secure` behind a trusted proxy that says HTTPS); `POST /logout` needs the session's CSRF token; a
/// session is not a token for the API.
async fn sessions_cookies_and_csrf(backend: Backend) {
    let extra = "\n[web]\ntrusted_proxies = [\"127.0.0.1/32\"]\n";
    let Some(world) = World::start(backend, &[DUNNING], extra).await else { return };
    let store = world.server.as_ref().unwrap().engine.store().clone();
    let password = "a long enough password";
    seam_web::create_user(store.as_ref(), "Ana@Brand.example", Role::Finance, password, START).await.unwrap();

    let wrong = json!({ "email": "ana@brand.example", "password": "not the password" });
    let (status, headers, _) = send(&world, "POST", "/login", None, &[], Some(wrong)).await;
    assert_eq!(status, 401);
    assert!(headers.get(SET_COOKIE).is_none());
    let unknown = json!({ "email": "nobody@brand.example", "password": password });
    let (status, _, reply) = send(&world, "POST", "/login", None, &[], Some(unknown)).await;
    assert_eq!(status, 401, "an unknown address is answered as a wrong password: {reply}");

    let right = json!({ "email": "ANA@brand.example", "password": password });
    let (status, headers, session) = send(&world, "POST", "/login", None, &[], Some(right.clone())).await;
    assert_eq!(status, 200, "{session}");
    assert_eq!(
        (session["email"].as_str(), session["role"].as_str()),
        (Some("ana@brand.example"), Some("finance"))
    );
    let cookie = cookie_of(&headers);
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP, no proxy said HTTPS: {cookie}");
    let pair = cookie.split(';').next().unwrap().to_owned();
    let csrf = session["csrf_token"].as_str().unwrap().to_owned();
    // The database keeps the id's hash, not the id.
    let id = pair.split_once('=').unwrap().1.to_owned();
    assert!(store.session(&id, START).await.unwrap().is_none());
    assert!(store.session(&seam_web::auth::secret_hash(&id), START).await.unwrap().is_some());

    // Read back with the cookie.
    let with_cookie = [("cookie", pair.as_str())];
    let (status, _, current) = send(&world, "GET", "/session", None, &with_cookie, None).await;
    assert_eq!(status, 200);
    assert_eq!(current["csrf_token"], csrf.as_str());
    // A session is not a token: the JSON API refuses it.
    assert_eq!(send(&world, "GET", "/api/inbox", None, &with_cookie, None).await.0, 401);

    // Behind a trusted proxy that says HTTPS, the cookie is Secure.
    let https = [("x-forwarded-proto", "https"), ("x-forwarded-for", "203.0.113.5")];
    let (status, headers, _) = send(&world, "POST", "/login", None, &https, Some(right.clone())).await;
    assert_eq!(status, 200);
    assert!(cookie_of(&headers).contains("; Secure"), "{}", cookie_of(&headers));

    // Logout needs the CSRF token: without it, or with a wrong one, 403 and the session lives on.
    let (status, _, _) = send(&world, "POST", "/logout", None, &with_cookie, None).await;
    assert_eq!(status, 403);
    let wrong_token = [("cookie", pair.as_str()), ("x-csrf-token", "not-the-token")];
    assert_eq!(send(&world, "POST", "/logout", None, &wrong_token, None).await.0, 403);
    assert_eq!(send(&world, "GET", "/session", None, &with_cookie, None).await.0, 200);
    // As a form field (what a page's form sends), it works; the cookie is removed and the session is gone.
    let response = world
        .client
        .post(world.url("/logout"))
        .header("cookie", &pair)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf_token={csrf}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(cookie_of(response.headers()).contains("Max-Age=0"));
    assert_eq!(send(&world, "GET", "/session", None, &with_cookie, None).await.0, 401);
    assert_eq!(send(&world, "POST", "/logout", None, &with_cookie, None).await.0, 401);

    // A form sign-in works too; a password reset ends every session.
    let response = world
        .client
        .post(world.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("email=ana%40brand.example&password={}", password.replace(' ', "+")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let pair = cookie_of(response.headers()).split(';').next().unwrap().to_owned();
    let with_cookie = [("cookie", pair.as_str())];
    assert_eq!(send(&world, "GET", "/session", None, &with_cookie, None).await.0, 200);
    seam_web::auth::reset_password(store.as_ref(), "ana@brand.example", "another long password", START)
        .await
        .unwrap();
    assert_eq!(send(&world, "GET", "/session", None, &with_cookie, None).await.0, 401);
    world.stop().await;
}

/// "Login attempts rate-limited": 5 failures per e-mail and client address within 15 minutes, then 429 with
/// `Retry-After`, even with the right password; another address (through the trusted proxy) is not held up.
async fn sign_ins_are_limited_per_email_and_address(backend: Backend) {
    let extra = "\n[web]\ntrusted_proxies = [\"127.0.0.1/32\"]\n";
    let Some(world) = World::start(backend, &[DUNNING], extra).await else { return };
    let store = world.server.as_ref().unwrap().engine.store().clone();
    let password = "a long enough password";
    seam_web::create_user(store.as_ref(), "bo@brand.example", Role::Support, password, START).await.unwrap();
    let from = |address: &'static str| [("x-forwarded-for", address)];
    let attempt = |password: &str| json!({ "email": "bo@brand.example", "password": password });
    for n in 0..5 {
        let (status, _, _) =
            send(&world, "POST", "/login", None, &from("203.0.113.1"), Some(attempt("wrong"))).await;
        assert_eq!(status, 401, "failure {n}");
    }
    let (status, headers, reply) =
        send(&world, "POST", "/login", None, &from("203.0.113.1"), Some(attempt(password))).await;
    assert_eq!(status, 429, "{reply}");
    let wait: i64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&wait), "{wait}");
    assert!(headers.get(SET_COOKIE).is_none());
    let (status, _, _) =
        send(&world, "POST", "/login", None, &from("203.0.113.2"), Some(attempt(password))).await;
    assert_eq!(status, 200, "another address is not held up");
    world.stop().await;
}

on_both_databases!(
    the_json_api_without_a_token_is_401,
    a_role_sees_and_decides_only_its_teams_items,
    roles_follow_the_configuration,
    cancel_is_for_admins_and_a_refusal_changes_nothing,
    a_decision_is_audited_under_the_tokens_name,
    dead_letters_and_the_ledger_by_role,
    metrics_are_for_loopback_the_allow_list_or_a_token,
    sessions_cookies_and_csrf,
    sign_ins_are_limited_per_email_and_address,
);
