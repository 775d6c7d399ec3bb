//! `seam demo`: the three playbooks (failed-payment recovery, checkout stock validation, ticket context) against
//! the built-in sandbox playing Stripe, Shopify, ShipBob, Zendesk and Gorgias; a month of failed renewals, orders
//! and tickets replayed on the demo's clock ([`story`] for the orders and tickets); and a summary with a section per
//! playbook, computed from the ledger files and the database the engine wrote ([`summary`]).
//!
//! The same `--seed` tells the same story, figure for figure, however fast or loaded the machine is. Three things
//! make it so. The clock does not run by itself while the month is replayed: the demo moves it to the next instant
//! something is due (a renewal, a customer paying, an order, a ticket, a person deciding, a run's wake-up), waits
//! until the engine has done everything due by then, and only then moves on ([`ReplayClock`]); `--seconds-per-day`
//! only paces those steps for the eye. The demo delivers every vendor's webhooks itself (the sandbox is given no
//! address to deliver to), signed as each vendor signs, in the order the sandbox emitted them and only once the
//! engine has recorded the answer of the call that caused them, so Stripe's `invoice.paid` never races Seam's own
//! record of the payment. And every event the demo causes happens at a fixed instant of the month, far from any
//! instant a run's jittered schedule could pick, one at a time. Once the month is replayed the clock runs at real
//! speed from the replayed instant, so what a person does while looking around is stamped as far apart as it
//! really is.

mod story;
mod summary;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use seam_flow::{Clock, SystemClock, Timestamp};
use seam_runtime::{Config, Engine, InboxRoute, LedgerConfig, ReplayClock, SourceConfig};
use seam_sandbox::{BasicCredentials, RenewalRequest, SandboxHandle, Vendor};
use seam_store::{RunFilter, Store};
use serde_json::Value;

use crate::InputError;
use crate::cli::{DemoArgs, SandboxArgs};
use crate::engine_cmd::{install_tls_provider, shutdown_signal};

/// The playbooks the demo runs, as shipped in `playbooks/`: (file name, text).
pub const PLAYBOOKS: [(&str, &str); 3] = [
    ("failed-payment-recovery.toml", include_str!("../../../playbooks/failed-payment-recovery.toml")),
    ("checkout-stock-validation.toml", include_str!("../../../playbooks/checkout-stock-validation.toml")),
    ("ticket-context.toml", include_str!("../../../playbooks/ticket-context.toml")),
];
/// The failed-payment playbook's name, as its runs and inbox items carry it.
const PAYMENTS_WORKFLOW: &str = "failed-payment-recovery";

/// The demo's month starts on Monday 2 March 2026, 09:00 UTC.
const MONTH_START: i64 = 1_772_442_000;
const DAY: i64 = 86_400;
const MONTH: i64 = 30 * DAY;
/// After the last renewal, the time runs on long enough for every schedule to finish (1 + 3 + 5 days of retries,
/// weekends, payday nudges, the 7-day card-update wait).
const TAIL_DAYS: i64 = 16;
/// Every seventh customer pays by themselves this long after their renewal failed: before Seam's first retry,
/// which comes a day later at the earliest (1 day less 5% jitter), so the two can never race.
const PAYS_BY_THEMSELVES_AFTER: i64 = DAY / 2;
/// The progress line comes every this many days of the month.
const REPORT_EVERY_DAYS: i64 = 5;
// The sandbox's credentials, which the engine's connectors are configured with.
const API_KEY: &str = "sk_test_seam_demo";
const SHOPIFY_TOKEN: &str = "shpat_seam_demo";
const SHIPBOB_TOKEN: &str = "pat_seam_demo";
const SHIPBOB_CHANNEL: i64 = 100_102;
const HELPDESK_USER: &str = "agent@yourbrand.example";
const ZENDESK_TOKEN: &str = "zd_seam_demo";
const GORGIAS_KEY: &str = "gg_seam_demo";

/// The files of one demo run.
struct DemoFiles {
    dir: PathBuf,
    db: PathBuf,
    /// The finance ledger (failed payments).
    ledger: PathBuf,
    /// One line per order the stock-validation playbook finished.
    fulfillment: PathBuf,
    /// One line per order that saw Shopify's count and the 3PL's differ.
    inventory: PathBuf,
    /// One line per ticket the ticket-context playbook finished.
    support: PathBuf,
}

impl DemoFiles {
    /// Each ledger and its file: finance's `ledger.csv`, the others `ledger-NAME.csv` beside it, as `seam serve`
    /// names them by default.
    fn ledgers(&self) -> [(&'static str, &Path); 4] {
        [
            ("finance", &self.ledger),
            ("fulfillment", &self.fulfillment),
            ("inventory", &self.inventory),
            ("support", &self.support),
        ]
    }
}

fn prepare(dir: &Path) -> anyhow::Result<DemoFiles> {
    std::fs::create_dir_all(dir.join("playbooks"))
        .with_context(|| format!("cannot create the demo folder {}", dir.display()))?;
    let db = dir.join("seam.db");
    let ledger = dir.join("ledger.csv");
    let named = |name: &str| seam_runtime::default_file_for(&ledger, name);
    let files = DemoFiles {
        dir: dir.to_owned(),
        db: db.clone(),
        fulfillment: named("fulfillment"),
        inventory: named("inventory"),
        support: named("support"),
        ledger: ledger.clone(),
    };
    // A fresh start each time: the demo owns these files and nothing else in the folder.
    let mut owned = vec![db, dir.join("seam.db-wal"), dir.join("seam.db-shm")];
    owned.extend(files.ledgers().iter().map(|(_, path)| path.to_path_buf()));
    for file in owned {
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(error).with_context(|| format!("cannot remove {}", file.display())),
        }
    }
    for (name, text) in PLAYBOOKS {
        std::fs::write(dir.join("playbooks").join(name), text)?;
    }
    Ok(files)
}

pub fn demo(args: DemoArgs) -> anyhow::Result<()> {
    if !(args.seconds_per_day > 0.0 && args.seconds_per_day <= 60.0) {
        return Err(InputError("--seconds-per-day: give a number above 0 and at most 60".to_owned()).into());
    }
    if args.invoices == 0 || args.invoices > 1000 {
        return Err(InputError("--invoices: give a number from 1 to 1000".to_owned()).into());
    }
    crate::engine_cmd::init_logs(crate::cli::LogFormat::Text, "warn,sqlx=error");
    install_tls_provider();
    let files = prepare(&args.data_dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(args, files))
}

async fn run(args: DemoArgs, files: DemoFiles) -> anyhow::Result<()> {
    // Each source's webhook secret, fresh for every demo. ShipBob's is a Standard Webhooks secret: `whsec_` and
    // base64 (the hex of a UUID is base64 too).
    let fresh = || uuid::Uuid::new_v4().simple().to_string();
    let secrets: BTreeMap<Vendor, String> = BTreeMap::from([
        (Vendor::Stripe, format!("whsec_demo_{}", fresh())),
        (Vendor::Shopify, format!("shpss_demo_{}", fresh())),
        (Vendor::Shipbob, format!("whsec_{}", fresh())),
        (Vendor::Zendesk, format!("zendesk_demo_{}", fresh())),
        (Vendor::Gorgias, format!("gorgias-demo-{}", fresh())),
    ]);
    let listener = match tokio::net::TcpListener::bind(&args.listen).await {
        Ok(listener) => listener,
        Err(error) if args.listen == crate::engine_cmd::DEFAULT_LISTEN => {
            eprintln!("seam demo: {} is taken ({error}); using another port", args.listen);
            tokio::net::TcpListener::bind("127.0.0.1:0").await?
        }
        Err(error) => {
            return Err(error).with_context(|| format!("cannot listen on {} (--listen)", args.listen));
        }
    };
    let engine_url = format!("http://{}", listener.local_addr()?);

    // No webhook URL or base: the demo delivers the sandbox's webhooks itself (see the module docs).
    let sandbox_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let helpdesk =
        |password: &str| BasicCredentials { user: HELPDESK_USER.to_owned(), password: password.to_owned() };
    let sandbox = seam_sandbox::start(
        seam_sandbox::SandboxConfig {
            seed: args.seed,
            webhook_url: None,
            webhook_secret: secrets[&Vendor::Stripe].clone(),
            webhook_base: None,
            webhook_secrets: secrets.clone(),
            api_key: Some(API_KEY.to_owned()),
            shopify_access_token: Some(SHOPIFY_TOKEN.to_owned()),
            shipbob_token: Some(SHIPBOB_TOKEN.to_owned()),
            shipbob_channel_id: SHIPBOB_CHANNEL,
            zendesk_credentials: Some(helpdesk(ZENDESK_TOKEN)),
            gorgias_credentials: Some(helpdesk(GORGIAS_KEY)),
            ..seam_sandbox::SandboxConfig::default()
        },
        sandbox_listener,
    )
    .await?;
    let config = demo_config(&files, &sandbox.url(), &secrets);

    let clock = Arc::new(ReplayClock::new(Timestamp::from_unix_seconds(MONTH_START), Arc::new(SystemClock)));
    let store = seam_store::open(&format!("sqlite:{}", files.db.display())).await?;
    let server = seam_web::start(
        &config,
        seam_web::ServerOptions {
            store: store.clone(),
            clock: clock.clone(),
            listener,
            default_ledger: None,
            connectors: BTreeMap::new(),
        },
    )
    .await?;

    println!(
        "seam demo: replaying a month against the sandbox (Stripe, Shopify, ShipBob, Zendesk, Gorgias) with three \
         playbooks:"
    );
    println!(
        "           {} failed subscription renewals, {} Shopify orders and 2 Stripe Checkout purchases, {} tickets;",
        args.invoices,
        story::ORDERS,
        story::TICKETS
    );
    if args.once {
        println!("           one day every {} s at most; the summary follows", args.seconds_per_day);
    } else {
        println!(
            "           one day every {} s at most; the engine is at {engine_url}",
            args.seconds_per_day
        );
    }
    let mut world = World {
        engine: server.engine.clone(),
        store: store.clone(),
        sandbox: sandbox.state(),
        clock: clock.clone(),
        client: reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?,
        engine_url: engine_url.clone(),
        secrets,
        delivered: 0,
        delivered_vendor: 0,
        tokens: Default::default(),
    };
    let invoices = replay(&mut world, &args).await?;
    // The month is over: from here on time runs at real speed, from the instant the replay reached.
    clock.go_live();
    // The ledger sink writes shortly after each commit; wait until it holds every recorded entry.
    server.engine.ship_ledger().await?;

    let running = world.busy_runs().await?;
    let mut summary = summarize(&files, store.as_ref(), &invoices, running).await?;
    summary.push_str(&summary::orders(&files, store.as_ref()).await?);
    summary.push_str(&summary::tickets(&files, store.as_ref()).await?);
    print!("{summary}");
    if args.once {
        server.stop().await;
        sandbox.stop().await;
        print!("{}", where_to_look_after(&files));
        return Ok(());
    }
    let stop = shutdown_signal();
    // Someone to look around as: an admin with a password (for the pages to come) and an API token.
    let now = seam_flow::SystemClock.now().unix_seconds();
    let password =
        seam_web::auth::random_secret(12).map_err(|error| anyhow::anyhow!("a demo password: {error}"))?;
    seam_web::create_user(store.as_ref(), DEMO_ADMIN, seam_runtime::Role::Admin, &password, now)
        .await
        .map_err(|error| anyhow::anyhow!("the demo admin: {error}"))?;
    let token = seam_web::create_token(store.as_ref(), "demo-admin", seam_runtime::Role::Admin, now)
        .await
        .map_err(|error| anyhow::anyhow!("the demo admin's token: {error}"))?;
    print!("{}", where_to_look_live(&files, &engine_url));
    println!(
        "\nSigned in as the demo admin: {engine_url}/login with {DEMO_ADMIN} and the password {password}\n\
         API token (admin): {token}\n  \
         curl -H \"Authorization: Bearer {token}\" {engine_url}/api/inbox"
    );
    println!("\nSeam and the sandbox keep running so you can look around; press ctrl-c to stop.");
    // Events caused by what people do now (a retry from the inbox that pays) still reach the engine.
    let (stop_delivering, mut stopped) = tokio::sync::watch::channel(false);
    let deliverer = tokio::spawn(async move {
        loop {
            if let Err(error) = world.deliver().await {
                tracing::warn!("seam demo: delivering the sandbox's events: {error:#}");
            }
            tokio::select! {
                _ = stopped.changed() => return,
                () = tokio::time::sleep(Duration::from_millis(200)) => {}
            }
        }
    });
    stop.await;
    let _ = stop_delivering.send(true);
    let _ = deliverer.await;
    server.stop().await;
    sandbox.stop().await;
    println!("seam demo: stopped");
    Ok(())
}

/// The engine's configuration: the three playbooks, every vendor's webhook source and connector pointed at the
/// sandbox, each ledger in its own file, and the inbox routes the people of the story work by.
fn demo_config(files: &DemoFiles, sandbox_url: &str, secrets: &BTreeMap<Vendor, String>) -> Config {
    let mut config = Config::default();
    for (name, _) in PLAYBOOKS {
        config.workflows.push(files.dir.join("playbooks").join(name));
    }
    for (vendor, secret) in secrets {
        config.sources.insert(
            vendor.to_string(),
            SourceConfig { kind: None, secrets: vec![secret.clone()], tolerance_secs: 300, header: None },
        );
    }
    config.stripe.api_key = Some(API_KEY.to_owned());
    config.stripe.base_url = Some(sandbox_url.to_owned());
    config.shopify.shop_url = Some(sandbox_url.to_owned());
    config.shopify.access_token = Some(SHOPIFY_TOKEN.to_owned());
    config.shipbob.base_url = Some(sandbox_url.to_owned());
    config.shipbob.token = Some(SHIPBOB_TOKEN.to_owned());
    config.shipbob.channel_id = Some(SHIPBOB_CHANNEL.to_string());
    for (helpdesk, key) in [(&mut config.zendesk, ZENDESK_TOKEN), (&mut config.gorgias, GORGIAS_KEY)] {
        helpdesk.base_url = Some(sandbox_url.to_owned());
        helpdesk.email = Some(HELPDESK_USER.to_owned());
        helpdesk.api_token = Some(key.to_owned());
    }
    for (name, path) in files.ledgers() {
        config.ledgers.insert(
            name.to_owned(),
            LedgerConfig { path: Some(path.to_path_buf()), format: Some("csv".to_owned()), url: None },
        );
    }
    let route = |team: &str, tag: Option<&str>, min_amount_minor: Option<i64>, assignee: &str| InboxRoute {
        team: Some(team.to_owned()),
        tag: tag.map(str::to_owned),
        min_amount_minor,
        assignee: assignee.to_owned(),
        ..InboxRoute::default()
    };
    config.inbox.routes = vec![
        route("finance", None, Some(20_000), "controller@yourbrand.example"),
        route("finance", None, None, "finance@yourbrand.example"),
        route("fulfillment", Some("vip"), None, "vip-desk@yourbrand.example"),
        route("fulfillment", None, None, "warehouse-lead@yourbrand.example"),
        route("customer_service", None, None, "support-lead@yourbrand.example"),
    ];
    config.engine.poll_ms = 10;
    config.engine.reconcile_secs = 5;
    config
}

/// What the replay drives: the engine, the sandbox, and the clock between them.
struct World {
    engine: Arc<Engine>,
    store: Arc<dyn Store>,
    sandbox: SandboxHandle,
    clock: Arc<ReplayClock>,
    client: reqwest::Client,
    /// The engine's address: webhooks go to `/webhooks/{source}`, people's decisions to `/api/inbox/…`.
    engine_url: String,
    /// Each source's webhook secret, which the engine verifies with.
    secrets: BTreeMap<Vendor, String>,
    /// How many of the sandbox's Stripe events have been delivered to the engine.
    delivered: usize,
    /// How many of the other vendors' webhooks have been delivered.
    delivered_vendor: usize,
    /// Each person's API token (made the first time they decide), so their decisions are audited as theirs.
    tokens: tokio::sync::Mutex<BTreeMap<String, String>>,
}

impl World {
    /// `person`'s token: a fulfillment token named after them, made the first time they decide.
    async fn token_for(&self, person: &str) -> anyhow::Result<String> {
        let mut tokens = self.tokens.lock().await;
        if let Some(token) = tokens.get(person) {
            return Ok(token.clone());
        }
        let now = seam_flow::SystemClock.now().unix_seconds();
        let token = seam_web::create_token(self.store.as_ref(), person, seam_runtime::Role::Fulfillment, now)
            .await
            .map_err(|error| anyhow::anyhow!("a token for {person}: {error}"))?;
        tokens.insert(person.to_owned(), token.clone());
        Ok(token)
    }
}

/// One failed renewal, in the order the demo made them.
#[derive(Debug, Clone)]
struct Renewal {
    id: String,
    number: String,
}

impl World {
    /// POSTs the sandbox's new webhooks to the engine, signed as each vendor signs them, one at a time and in the
    /// order they were emitted: Stripe's events, then the other vendors'. (Nothing the engine does makes both at
    /// once: its calls make Stripe events only, and the story's acts are done one by one.)
    async fn deliver(&mut self) -> anyhow::Result<usize> {
        let events = self.sandbox.events_after(self.delivered);
        for event in &events {
            let headers = self.signature(Vendor::Stripe, &event.id, &event.body);
            self.post(Vendor::Stripe, &event.id, &event.event_type, &headers, &event.body).await?;
            self.delivered += 1;
        }
        let webhooks = self.sandbox.vendor_webhooks_after(self.delivered_vendor);
        for webhook in &webhooks {
            let mut headers = webhook.headers.clone();
            headers.extend(self.signature(webhook.source, &webhook.id, &webhook.body));
            self.post(webhook.source, &webhook.id, &webhook.topic, &headers, &webhook.body).await?;
            self.delivered_vendor += 1;
        }
        Ok(events.len() + webhooks.len())
    }

    /// The headers that sign `body` as `vendor` signs its webhooks, made now.
    fn signature(&self, vendor: Vendor, id: &str, body: &str) -> Vec<(String, String)> {
        use seam_connectors::verify;
        let secret = &self.secrets[&vendor];
        let now = SystemClock.now().unix_seconds();
        match vendor {
            Vendor::Stripe => {
                vec![(
                    "Stripe-Signature".to_owned(),
                    verify::stripe_signature_header(body.as_bytes(), secret, now),
                )]
            }
            Vendor::Shopify => {
                vec![("X-Shopify-Hmac-Sha256".to_owned(), verify::shopify_signature(body.as_bytes(), secret))]
            }
            Vendor::Shipbob => vec![
                ("webhook-timestamp".to_owned(), now.to_string()),
                (
                    "webhook-signature".to_owned(),
                    verify::shipbob_signature(id, now, body.as_bytes(), secret).unwrap_or_default(),
                ),
            ],
            Vendor::Zendesk => {
                let stamp = Timestamp::from_unix_seconds(now).to_string();
                let signature = verify::zendesk_signature(&stamp, body.as_bytes(), secret);
                vec![
                    ("X-Zendesk-Webhook-Signature-Timestamp".to_owned(), stamp),
                    ("X-Zendesk-Webhook-Signature".to_owned(), signature),
                ]
            }
            Vendor::Gorgias => vec![(verify::DEFAULT_TOKEN_HEADER.to_owned(), secret.clone())],
        }
    }

    /// One webhook, to `/webhooks/{source}`; an answer other than 2xx is an error.
    async fn post(
        &self,
        vendor: Vendor,
        id: &str,
        topic: &str,
        headers: &[(String, String)],
        body: &str,
    ) -> anyhow::Result<()> {
        let mut request = self
            .client
            .post(format!("{}/webhooks/{vendor}", self.engine_url))
            .header("Content-Type", "application/json; charset=utf-8");
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let response = request
            .body(body.to_owned())
            .send()
            .await
            .with_context(|| format!("delivering {vendor} {id} ({topic}) to the engine"))?;
        let status = response.status();
        anyhow::ensure!(
            status.is_success(),
            "the engine answered {status} to {vendor} {id} ({topic}): {}",
            response.text().await.unwrap_or_default()
        );
        Ok(())
    }

    /// Waits until the engine has done everything due at `now`: every event delivered and routed, every call
    /// answered and recorded, every wake-up due by then fired.
    async fn settle(&mut self, now: i64) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let delivered = self.deliver().await?;
            if let Err(error) = self.engine.run_until_idle().await {
                // The engine's own loops work alongside; a conflict with them is retried here.
                tracing::debug!(%error, "seam demo: engine step failed; trying again");
            }
            if delivered == 0 && self.quiet(now).await? {
                return Ok(());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "the engine did not finish the work due at {} within two minutes",
                Timestamp::from_unix_seconds(now)
            );
            if delivered == 0 {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
    }

    /// Nothing left to do at `now`. The calls are counted before the events are looked at: a call is recorded
    /// only after the sandbox answered it, and the sandbox emits the call's events before it answers.
    async fn quiet(&self, now: i64) -> anyhow::Result<bool> {
        let counts = self.store.counts().await?;
        let routing = counts.events_by_status.iter().any(|(status, n)| status == "pending" && *n > 0);
        if routing || counts.calls_pending > 0 {
            return Ok(false);
        }
        if self.store.next_wake().await?.is_some_and(|at| at <= now) {
            return Ok(false);
        }
        Ok(self.sandbox.events_after(self.delivered).is_empty()
            && self.sandbox.vendor_webhooks_after(self.delivered_vendor).is_empty())
    }

    /// Runs that are live and not waiting for a person.
    async fn busy_runs(&self) -> anyhow::Result<usize> {
        let filter = RunFilter { status: Some("running".to_owned()), limit: 100_000, ..RunFilter::default() };
        let runs = self.store.runs(&filter).await?;
        Ok(runs
            .iter()
            .filter(|run| {
                let state: Value = serde_json::from_str(&run.state).unwrap_or(Value::Null);
                state["waiting"]["for"] != "decision"
            })
            .count())
    }
}

/// Replays the month: renewals fail at even intervals, every seventh customer pays by themselves, orders and
/// tickets come in as the [`story::Story`] plans them, and the clock steps from one due instant to the next until
/// every schedule has run out. Returns the renewals in order.
async fn replay(world: &mut World, args: &DemoArgs) -> anyhow::Result<Vec<Renewal>> {
    let seeded_3pl = world.sandbox.world().shipbob_orders.iter().map(|order| order.id).collect::<Vec<_>>();
    let mut story = story::Story::new(args.seed, seeded_3pl);
    let count = i64::try_from(args.invoices).unwrap_or(1);
    let renewal_at = |n: usize| MONTH_START + MONTH * i64::try_from(n).unwrap_or(0) / count;
    let end = MONTH_START + MONTH + TAIL_DAYS * DAY;
    let real_start = Instant::now();
    let mut renewals: Vec<Renewal> = Vec::new();
    // (when, invoice id), in the order they fall due.
    let mut pays_by_themselves: std::collections::VecDeque<(i64, String)> = Default::default();
    let mut now = MONTH_START;
    loop {
        // First whatever was due by `now` (a run's wake-up), so nothing the demo does below races it.
        world.settle(now).await?;
        // What the demo itself does at `now`, always in this order: renewals fail, customers pay, then the
        // story's acts, one at a time.
        while renewals.len() < args.invoices && renewal_at(renewals.len()) <= now {
            let request = RenewalRequest { count: Some(1), ..RenewalRequest::default() };
            let created = world
                .sandbox
                .create_renewals(&request)
                .map_err(|error| anyhow::anyhow!("the sandbox made no renewal: {error}"))?;
            let invoice = created.first().context("the sandbox made no invoice")?;
            let id = invoice["id"].as_str().context("the sandbox's invoice has no id")?.to_owned();
            let number = invoice["number"].as_str().unwrap_or_default().to_owned();
            // Every seventh customer pays by themselves (a new card on the hosted page, or a bank transfer):
            // Stripe sends invoice.paid, which cancels whatever the run was doing.
            if renewals.len() % 7 == 3 {
                pays_by_themselves.push_back((now + PAYS_BY_THEMSELVES_AFTER, id.clone()));
            }
            renewals.push(Renewal { id, number });
        }
        while pays_by_themselves.front().is_some_and(|(at, _)| *at <= now) {
            if let Some((_, id)) = pays_by_themselves.pop_front() {
                // The story makes sure the invoice is still open; a refusal would only mean it was paid already.
                let _ = world.sandbox.pay_out_of_band(&id);
            }
        }
        world.settle(now).await?;
        story.act(now, world).await?;
        let day = (now - MONTH_START) / DAY;
        if (now - MONTH_START) % (REPORT_EVERY_DAYS * DAY) == 0 && day > 0 && day <= MONTH / DAY {
            println!(
                "  day {day:>2}: so far {} failed renewals, {} orders, {} tickets",
                renewals.len(),
                story.orders,
                story.tickets
            );
        }

        let next_renewal = (renewals.len() < args.invoices).then(|| renewal_at(renewals.len()));
        let next_payment = pays_by_themselves.front().map(|(at, _)| *at);
        let next_report = Some(
            MONTH_START + ((now - MONTH_START) / (REPORT_EVERY_DAYS * DAY) + 1) * REPORT_EVERY_DAYS * DAY,
        )
        .filter(|at| *at <= MONTH_START + MONTH);
        let next_wake = world.store.next_wake().await?;
        let next_act = story.next_at();
        let next = [next_renewal, next_payment, next_report, next_wake, next_act].into_iter().flatten().min();
        let to = match next {
            Some(at) if at <= end => at,
            _ if now < end => end,
            // The month and its tail are replayed; anything still busy runs on until its schedule is done.
            _ => match (world.busy_runs().await?, next_wake.into_iter().chain(next_act).min()) {
                (0, _) if story.is_done() => return Ok(renewals),
                (_, Some(at)) if at <= end + MONTH => at,
                (busy, _) => {
                    eprintln!(
                        "seam demo: {busy} runs were still busy after the replay; the summary shows them"
                    );
                    return Ok(renewals);
                }
            },
        };
        // Pace the steps for the eye: at most one simulated day per `--seconds-per-day` of real time.
        let due = real_start
            + Duration::from_secs_f64((to - MONTH_START) as f64 / DAY as f64 * args.seconds_per_day);
        tokio::time::sleep_until(due.into()).await;
        world.clock.advance_to(Timestamp::from_unix_seconds(to));
        now = to;
    }
}

fn dollars(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let minor = minor.abs();
    let whole = (minor / 100).to_string();
    let mut grouped = String::new();
    for (n, digit) in whole.chars().enumerate() {
        if n > 0 && (whole.len() - n).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{sign}${grouped}.{:02}", minor % 100)
}

/// One ledger line, as the summary reads it back from the CSV file.
#[derive(Debug, Clone)]
struct LedgerLine {
    invoice: String,
    outcome: String,
    attempts: String,
    recovered_minor: i64,
    written_off_minor: i64,
}

fn read_ledger(path: &Path) -> anyhow::Result<Vec<LedgerLine>> {
    let mut reader = csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let headers = reader.headers()?.clone();
    let column = |name: &str| headers.iter().position(|h| h == name);
    let (invoice, outcome, attempts, recovered, written_off) = (
        column("invoice"),
        column("outcome"),
        column("attempts"),
        column("recovered_minor"),
        column("written_off_minor"),
    );
    let mut lines = Vec::new();
    for record in reader.records() {
        let record = record?;
        let get = |index: Option<usize>| index.and_then(|i| record.get(i)).unwrap_or_default().to_owned();
        lines.push(LedgerLine {
            invoice: get(invoice),
            outcome: get(outcome),
            attempts: get(attempts),
            recovered_minor: get(recovered).parse().unwrap_or_default(),
            written_off_minor: get(written_off).parse().unwrap_or_default(),
        });
    }
    Ok(lines)
}

/// What a ledger outcome means, for the summary. The money comes from each line's `recovered_minor` and
/// `written_off_minor`, never from the outcome's name, so an outcome missing here is still counted right.
fn outcome_meaning(outcome: &str) -> &'static str {
    match outcome {
        "recovered" => "a Seam retry paid the invoice",
        "paid_elsewhere" => "the invoice was paid outside Seam's retries",
        "voided" => "the invoice was voided",
        "written_off" => "marked uncollectible, or dismissed by finance",
        "cancelled" => "the run was cancelled before it finished",
        "resolved" => "finance said it is settled",
        "dismissed" => "finance dismissed the inbox item",
        _ => "",
    }
}

/// The summary: figures from the ledger file and the open inbox items, in the order the renewals failed, with no
/// figure that depends on timing. Ids are shown only next to the invoice numbers, for finding lines in the file.
async fn summarize(
    files: &DemoFiles,
    store: &dyn Store,
    renewals: &[Renewal],
    running: usize,
) -> anyhow::Result<String> {
    use std::fmt::Write;
    let position: BTreeMap<&str, usize> =
        renewals.iter().enumerate().map(|(n, renewal)| (renewal.id.as_str(), n)).collect();
    let order = |invoice: &str| position.get(invoice).copied().unwrap_or(usize::MAX);
    let number = |invoice: &str| position.get(invoice).map_or("?", |&n| renewals[n].number.as_str());

    let mut lines = if files.ledger.exists() { read_ledger(&files.ledger)? } else { Vec::new() };
    lines.sort_by(|a, b| (order(&a.invoice), &a.invoice).cmp(&(order(&b.invoice), &b.invoice)));
    let mut items = store.inbox(Some("open"), 100_000).await?;
    items.retain(|item| item.workflow == PAYMENTS_WORKFLOW);
    let context =
        |item: &seam_store::InboxItem| serde_json::from_str::<Value>(&item.context).unwrap_or_default();
    items.sort_by_key(|item| {
        let invoice = context(item)["invoice"].as_str().map(str::to_owned).unwrap_or_default();
        (order(&invoice), invoice)
    });
    let escalated_minor: i64 = items.iter().filter_map(|item| context(item)["amount_minor"].as_i64()).sum();
    let recovered = lines.iter().filter(|l| l.recovered_minor > 0);
    let (recovered_count, recovered_minor) =
        (recovered.clone().count(), recovered.map(|l| l.recovered_minor).sum());
    let written_off = lines.iter().filter(|l| l.written_off_minor > 0);
    let (written_off_count, written_off_minor) =
        (written_off.clone().count(), written_off.map(|l| l.written_off_minor).sum());
    // Outcomes in the order they first appear in the (ordered) ledger.
    let mut outcomes: Vec<(&str, usize, i64, i64)> = Vec::new();
    for line in &lines {
        match outcomes.iter_mut().find(|(outcome, ..)| *outcome == line.outcome) {
            Some(entry) => {
                entry.1 += 1;
                entry.2 += line.recovered_minor;
                entry.3 += line.written_off_minor;
            }
            None => outcomes.push((&line.outcome, 1, line.recovered_minor, line.written_off_minor)),
        }
    }

    let mut out = String::new();
    let _ = writeln!(out, "\n=== Failed payments (playbook {PAYMENTS_WORKFLOW}) ===");
    let _ = writeln!(out, "Recovery summary (from {} and the inbox)", files.ledger.display());
    let _ = writeln!(out, "  failed invoices          {:>4}", renewals.len());
    let _ = writeln!(out, "  recovered                {recovered_count:>4}   {}", dollars(recovered_minor));
    let _ = writeln!(
        out,
        "  escalated to finance     {:>4}   {}   (open in the inbox, waiting for a decision)",
        items.len(),
        dollars(escalated_minor)
    );
    let _ =
        writeln!(out, "  written off              {written_off_count:>4}   {}", dollars(written_off_minor));
    if running > 0 {
        let _ = writeln!(out, "  still running            {running:>4}");
    }
    let _ = writeln!(out, "\nOutcomes in the ledger     lines     recovered   written off");
    for (outcome, count, recovered, written_off) in &outcomes {
        let _ = writeln!(
            out,
            "  {outcome:<24} {count:>5} {:>13} {:>13}   {}",
            dollars(*recovered),
            dollars(*written_off),
            outcome_meaning(outcome)
        );
    }
    let _ = writeln!(
        out,
        "\nLedger file: {} ({} lines, one per recorded outcome)",
        files.ledger.display(),
        lines.len()
    );
    let _ = writeln!(
        out,
        "  {:<10} {:<30} {:<15} {:>8} {:>12} {:>12}",
        "number", "invoice", "outcome", "attempts", "recovered", "written off"
    );
    for line in &lines {
        let _ = writeln!(
            out,
            "  {:<10} {:<30} {:<15} {:>8} {:>12} {:>12}",
            number(&line.invoice),
            line.invoice,
            line.outcome,
            line.attempts,
            dollars(line.recovered_minor),
            dollars(line.written_off_minor)
        );
    }
    let _ = writeln!(out, "\nEscalated, waiting for a decision:");
    for item in &items {
        let _ = writeln!(
            out,
            "  {}  {}  (assigned to {})",
            item.title,
            dollars(context(item)["amount_minor"].as_i64().unwrap_or_default()),
            item.assignee
        );
    }
    Ok(out)
}

/// The ledger files, one line each.
fn ledger_lines(files: &DemoFiles) -> String {
    files
        .ledgers()
        .iter()
        .map(|(name, path)| format!("  ledger     {name:<12} {}\n", path.display()))
        .collect()
}

/// After `--once`: the engine has stopped, so no links; what it left behind, and how to look at it.
fn where_to_look_after(files: &DemoFiles) -> String {
    let db = files.db.display();
    format!(
        "\nThe engine and the sandbox have stopped. What they left:\n{}  \
         database   {db}\n  \
         look       seam serve --db sqlite:{db}   (the inbox, runs and ledger under /api/; docs/engine.md)\n  \
         token      seam tokens create --name you --role admin --db sqlite:{db}   (the API takes one)\n  \
         audit log  seam audit export --db sqlite:{db} --format csv\n",
        ledger_lines(files)
    )
}

/// The demo's admin, made when the demo keeps serving.
const DEMO_ADMIN: &str = "admin@demo.example";

fn where_to_look_live(files: &DemoFiles, engine: &str) -> String {
    let db = files.db.display();
    format!(
        "\nWhere to look:\n  \
         inbox      {engine}/api/inbox   (POST .../{{id}}/DECISION with the token below: resolve, retry, dismiss, \
         or an item's own choices such as ship_partial)\n  \
         runs       {engine}/api/runs\n  \
         ledger     {engine}/api/ledger   and the files:\n{}  \
         metrics    {engine}/metrics\n  \
         database   {db}   (seam audit export --db sqlite:{db} --format csv)\n",
        ledger_lines(files)
    )
}

/// Each source's webhook secret: `--secret SOURCE=VALUE` (a bare VALUE is Stripe's), else the first of
/// `SEAM_{SOURCE}_WEBHOOK_SECRET`.
fn sandbox_secrets(
    given: &[String],
) -> anyhow::Result<std::collections::BTreeMap<seam_sandbox::Vendor, String>> {
    let mut secrets = std::collections::BTreeMap::new();
    for vendor in seam_sandbox::Vendor::ALL {
        if let Ok(secret) = crate::trigger::secret_for(&vendor.to_string(), None) {
            secrets.insert(vendor, secret);
        }
    }
    for item in given {
        let (vendor, value) = match item.split_once('=') {
            Some((name, value)) if name.parse::<seam_sandbox::Vendor>().is_ok() => {
                (name.parse::<seam_sandbox::Vendor>().map_err(|_| crate::InputError(String::new()))?, value)
            }
            Some((name, _)) if !name.contains('_') && name.chars().all(|c| c.is_ascii_lowercase()) => {
                return Err(crate::InputError(format!(
                    "--secret {name}=…: unknown source; use stripe, shopify, shipbob, zendesk or gorgias"
                ))
                .into());
            }
            _ => (seam_sandbox::Vendor::Stripe, item.as_str()),
        };
        secrets.insert(vendor, value.to_owned());
    }
    Ok(secrets)
}

/// `seam sandbox`: every vendor's stand-in on one port, until ctrl-c or SIGTERM.
pub fn sandbox(args: SandboxArgs) -> anyhow::Result<()> {
    crate::engine_cmd::init_logs(crate::cli::LogFormat::Text, "warn,sqlx=error");
    install_tls_provider();
    let secrets = sandbox_secrets(&args.secret)?;
    let Some(stripe_secret) = secrets.get(&seam_sandbox::Vendor::Stripe).cloned() else {
        return Err(crate::InputError(
            "no Stripe signing secret: pass --secret VALUE (or --secret stripe=VALUE) or set SEAM_STRIPE_WEBHOOK_SECRET"
                .to_owned(),
        )
        .into());
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("cannot listen on {} (--listen)", args.listen))?;
        let config = seam_sandbox::SandboxConfig {
            seed: args.seed,
            webhook_url: args.webhook_url.clone(),
            webhook_secret: stripe_secret,
            webhook_base: Some(args.webhook_base.clone()),
            webhook_secrets: secrets,
            api_key: args.api_key.clone(),
            ..seam_sandbox::SandboxConfig::default()
        };
        let delivered: Vec<String> = seam_sandbox::Vendor::ALL
            .iter()
            .filter(|vendor| config.delivers(**vendor))
            .map(|vendor| format!("{vendor} to {}", config.webhook_target(*vendor).unwrap_or_default()))
            .collect();
        let sandbox = seam_sandbox::start(config, listener).await?;
        let stop = shutdown_signal();
        let url = sandbox.url();
        println!("seam sandbox: Stripe, Shopify, ShipBob, Zendesk and Gorgias on {url}");
        println!(
            "  delivering: {}",
            if delivered.is_empty() { "nothing".to_owned() } else { delivered.join("; ") }
        );
        println!("  make failed renewals:  curl -X POST {url}/_sandbox/renewals -d '{{\"count\": 3}}'");
        println!(
            "  point Seam at it:      SEAM_STRIPE_API_KEY=sk_test_x SEAM_STRIPE_BASE_URL={url} seam serve"
        );
        println!("  the world:             curl {url}/_sandbox/world");
        println!("  calls per key:         curl {url}/_sandbox/calls");
        stop.await;
        sandbox.stop().await;
        println!("seam sandbox: stopped");
        Ok(())
    })
}
