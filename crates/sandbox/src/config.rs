//! What a sandbox is started with: the seed, where webhooks go and what they are signed with, the credentials
//! each vendor face asks for, and the knobs tests turn (retry pauses, Shopify's bucket).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::scenario::Scenario;

/// The default pauses between webhook attempts, in milliseconds: 10 tries in about two minutes.
pub const DEFAULT_RETRY_DELAYS_MS: &[u64] = &[200, 500, 1_000, 2_000, 4_000, 8_000, 15_000, 30_000, 60_000];

/// The Shopify API version named in `X-Shopify-API-Version` on webhooks (requests may use any version).
pub const SHOPIFY_API_VERSION: &str = "2026-10";

/// A vendor the sandbox plays, and the `{source}` of its webhooks (`/webhooks/shipbob`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Vendor {
    Stripe,
    Shopify,
    Shipbob,
    Zendesk,
    Gorgias,
}

impl Vendor {
    pub const ALL: [Vendor; 5] =
        [Vendor::Stripe, Vendor::Shopify, Vendor::Shipbob, Vendor::Zendesk, Vendor::Gorgias];

    /// `stripe`, `shopify`, `shipbob`, `zendesk`, `gorgias`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Vendor::Stripe => "stripe",
            Vendor::Shopify => "shopify",
            Vendor::Shipbob => "shipbob",
            Vendor::Zendesk => "zendesk",
            Vendor::Gorgias => "gorgias",
        }
    }
}

impl fmt::Display for Vendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Vendor {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Vendor::ALL.into_iter().find(|v| v.as_str() == s.trim().to_ascii_lowercase()).ok_or_else(|| {
            format!("unknown vendor `{s}`; expected one of stripe, shopify, shipbob, zendesk, gorgias")
        })
    }
}

/// How events go out to the webhook URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeliveryOrder {
    /// Each event is delivered (and retried) on its own, so they may arrive out of order, as vendors' do.
    #[default]
    Concurrent,
    /// One event at a time in the order they were emitted; an event waits until the one before it is delivered
    /// or given up.
    Ordered,
}

/// HTTP Basic credentials a helpdesk face requires: Zendesk's `{email}/token:{api token}`, Gorgias'
/// `{email}:{api key}`.
#[derive(Clone, PartialEq, Eq)]
pub struct BasicCredentials {
    pub user: String,
    pub password: String,
}

impl fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicCredentials").field("user", &self.user).field("password", &"(set)").finish()
    }
}

/// What a sandbox is started with.
#[derive(Clone)]
pub struct SandboxConfig {
    /// Decides every invoice's outcome and the whole seeded world (catalogue, stock, customers, orders, tickets).
    pub seed: u64,
    /// Where Stripe events are POSTed (`http://127.0.0.1:8717/webhooks/stripe`). When unset, Stripe's events go to
    /// `webhook_base` + `/webhooks/stripe` if that is set; else they are only listed.
    pub webhook_url: Option<String>,
    /// The endpoint secret Stripe events are signed with (`whsec_…`), unless `webhook_secrets` names Stripe.
    pub webhook_secret: String,
    /// Where every vendor's webhooks go: `{webhook_base}/webhooks/{source}` (`http://127.0.0.1:8717`). None: only
    /// Stripe's, and only to `webhook_url`.
    pub webhook_base: Option<String>,
    /// Each source's signing secret: Shopify's app client secret, ShipBob's `whsec_…` (base64 after the prefix),
    /// Zendesk's webhook signing secret, the token Gorgias sends in `X-Seam-Token`. A source without one is not
    /// delivered (its webhooks are listed as `not_configured`).
    pub webhook_secrets: BTreeMap<Vendor, String>,
    pub scenario: Scenario,
    /// When set, Stripe's `/v1` requests need `Authorization: Bearer <key>` (or Basic with the key as user name).
    pub api_key: Option<String>,
    /// When set, Shopify's GraphQL requests need `X-Shopify-Access-Token: <token>`.
    pub shopify_access_token: Option<String>,
    /// When set, ShipBob's requests need `Authorization: Bearer <token>`.
    pub shipbob_token: Option<String>,
    /// When set, Zendesk's requests need Basic `{email}/token:{api token}`; `user` is the e-mail.
    pub zendesk_credentials: Option<BasicCredentials>,
    /// When set, Gorgias' requests need Basic `{email}:{api key}`.
    pub gorgias_credentials: Option<BasicCredentials>,
    /// The ShipBob channel writes must name in `shipbob_channel_id` (listed by `GET /{version}/channel`).
    pub shipbob_channel_id: i64,
    /// The shop's `*.myshopify.com` domain (`X-Shopify-Shop-Domain`).
    pub shopify_shop_domain: String,
    /// Shopify's leaky bucket: (maximum available, restore rate per second). Default (2000, 100), a Standard plan.
    pub shopify_bucket: (f64, f64),
    /// The most one GraphQL request may cost before Shopify refuses it with `MAX_COST_EXCEEDED` (1000).
    pub shopify_max_query_cost: u64,
    /// Fixes the salt that ids created while running are drawn with (tests); None draws one at start, so a
    /// restarted sandbox never repeats an id.
    pub world_salt: Option<u64>,
    /// How long a `timeout` fault holds a request before answering (longer than any client's timeout).
    pub fault_hang: Duration,
    pub delivery: DeliveryOrder,
    /// Pauses between webhook attempts; attempts = pauses + 1.
    pub webhook_retry_delays: Vec<Duration>,
    /// How long one webhook attempt may take.
    pub webhook_timeout: Duration,
}

impl SandboxConfig {
    /// A configuration with this seed and Stripe secret, no webhook URL or base, no credentials, and the defaults
    /// otherwise.
    pub fn new(seed: u64, webhook_secret: impl Into<String>) -> Self {
        SandboxConfig {
            seed,
            webhook_url: None,
            webhook_secret: webhook_secret.into(),
            webhook_base: None,
            webhook_secrets: BTreeMap::new(),
            scenario: Scenario::default(),
            api_key: None,
            shopify_access_token: None,
            shipbob_token: None,
            zendesk_credentials: None,
            gorgias_credentials: None,
            shipbob_channel_id: 100_102,
            shopify_shop_domain: "seam-sandbox.myshopify.com".to_owned(),
            shopify_bucket: (2_000.0, 100.0),
            shopify_max_query_cost: 1_000,
            world_salt: None,
            fault_hang: Duration::from_secs(60),
            delivery: DeliveryOrder::default(),
            webhook_retry_delays: DEFAULT_RETRY_DELAYS_MS
                .iter()
                .map(|&ms| Duration::from_millis(ms))
                .collect(),
            webhook_timeout: Duration::from_secs(10),
        }
    }

    /// The secret `vendor`'s webhooks are signed with, if any.
    pub fn secret_for(&self, vendor: Vendor) -> Option<&str> {
        let secret = match (vendor, self.webhook_secrets.get(&vendor)) {
            (_, Some(secret)) => secret.as_str(),
            (Vendor::Stripe, None) => self.webhook_secret.as_str(),
            (_, None) => return None,
        };
        (!secret.trim().is_empty()).then_some(secret)
    }

    /// Where `vendor`'s webhooks are POSTed, if anywhere.
    pub fn webhook_target(&self, vendor: Vendor) -> Option<String> {
        if vendor == Vendor::Stripe
            && let Some(url) = &self.webhook_url
        {
            return Some(url.clone());
        }
        let base = self.webhook_base.as_deref()?.trim_end_matches('/');
        Some(format!("{base}/webhooks/{vendor}"))
    }

    /// Whether `vendor`'s webhooks are delivered: it has a target and a secret.
    pub fn delivers(&self, vendor: Vendor) -> bool {
        self.webhook_target(vendor).is_some() && self.secret_for(vendor).is_some()
    }
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig::new(0, "whsec_sandbox")
    }
}

/// Shows whether secrets and credentials are set, never their values.
impl fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |present: bool| if present { "(set)" } else { "(none)" };
        let secrets: Vec<&str> = self.webhook_secrets.keys().map(|v| v.as_str()).collect();
        f.debug_struct("SandboxConfig")
            .field("seed", &self.seed)
            .field("webhook_url", &self.webhook_url)
            .field("webhook_secret", &if self.webhook_secret.is_empty() { "(empty)" } else { "(set)" })
            .field("webhook_base", &self.webhook_base)
            .field("webhook_secrets", &secrets)
            .field("scenario", &self.scenario)
            .field("api_key", &set(self.api_key.is_some()))
            .field("shopify_access_token", &set(self.shopify_access_token.is_some()))
            .field("shipbob_token", &set(self.shipbob_token.is_some()))
            .field("zendesk_credentials", &self.zendesk_credentials)
            .field("gorgias_credentials", &self.gorgias_credentials)
            .field("shipbob_channel_id", &self.shipbob_channel_id)
            .field("shopify_shop_domain", &self.shopify_shop_domain)
            .field("shopify_bucket", &self.shopify_bucket)
            .field("shopify_max_query_cost", &self.shopify_max_query_cost)
            .field("world_salt", &self.world_salt)
            .field("fault_hang", &self.fault_hang)
            .field("delivery", &self.delivery)
            .field("webhook_retry_delays", &self.webhook_retry_delays)
            .field("webhook_timeout", &self.webhook_timeout)
            .finish()
    }
}
