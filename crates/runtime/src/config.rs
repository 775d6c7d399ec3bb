//! `seam.toml`: what the server listens to, where it stores, which workflows it runs, and how it routes
//! escalations. Secrets may come from the environment instead (`SEAM_<SOURCE>_WEBHOOK_SECRET`, comma-separated
//! for rotation); `SEAM_STRIPE_WEBHOOK_SECRET` alone enables the Stripe source with no file at all.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use seam_connectors::verify::SourceKind;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on; `--listen` wins.
    pub listen: Option<String>,
    /// Database URL; `--db` wins.
    pub db: Option<String>,
    /// Workflow files or folders of `*.toml` workflow files (relative to the config file).
    #[serde(default)]
    pub workflows: Vec<PathBuf>,
    /// Webhook sources by name: `POST /webhooks/{name}`.
    #[serde(default)]
    pub sources: BTreeMap<String, SourceConfig>,
    #[serde(default)]
    pub intake: IntakeConfig,
    #[serde(default)]
    pub http: HttpConfig,
    /// The sink of every ledger without its own `[ledgers.NAME]`.
    pub ledger: Option<LedgerConfig>,
    /// A ledger's own sink, by the name its workflows' `record` steps give (`[ledgers.inventory]`).
    #[serde(default)]
    pub ledgers: BTreeMap<String, LedgerConfig>,
    #[serde(default)]
    pub inbox: InboxConfig,
    #[serde(default)]
    pub engine: EngineConfig,
    /// The Stripe connector (`stripe.*` actions). Enabled when an API key is set here or in `SEAM_STRIPE_API_KEY`.
    #[serde(default)]
    pub stripe: StripeConfig,
    /// The `shopify.*` actions. Enabled when a shop URL and credentials are set (here or `SEAM_SHOPIFY_*`).
    #[serde(default)]
    pub shopify: ShopifyConfig,
    /// The `shipbob.*` actions. Enabled when a token is set (here or `SEAM_SHIPBOB_TOKEN`).
    #[serde(default)]
    pub shipbob: ShipbobConfig,
    /// The `zendesk.*` actions. Enabled when a base URL, e-mail and API token are set.
    #[serde(default)]
    pub zendesk: HelpdeskConfig,
    /// The `gorgias.*` actions. Enabled when a base URL, e-mail and API key are set (`api_token` here).
    #[serde(default)]
    pub gorgias: HelpdeskConfig,
    /// Who may see what: the teams and zones each role sees (`[roles.finance]`, ...); admin sees everything.
    #[serde(default)]
    pub roles: RolesConfig,
    /// The HTTP face: who may read `/metrics` without a token, and which proxies are believed.
    #[serde(default)]
    pub web: WebConfig,
}

/// What a signed-in person or an API token may do. `admin` sees and does everything; the others see the inbox
/// items of their teams and the runs of the workflows in their zones (`[roles]`), and decide those items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Finance,
    Fulfillment,
    Support,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Finance, Role::Fulfillment, Role::Support];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Finance => "finance",
            Role::Fulfillment => "fulfillment",
            Role::Support => "support",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(text: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == text.trim())
            .ok_or_else(|| format!("unknown role {text:?}; use admin, finance, fulfillment or support"))
    }
}

/// One role's view: the inbox items of `teams` (an item's `team`) and the runs of the workflows whose `zone` is
/// in `zones`. A key left out keeps the role's default.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleScopeConfig {
    pub teams: Option<Vec<String>>,
    pub zones: Option<Vec<String>>,
}

/// `[roles.finance]`, `[roles.fulfillment]`, `[roles.support]`: each replaces that role's default teams or zones
/// (see [`RolesConfig::scope`]). There is no `[roles.admin]`: admin sees everything.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct RolesConfig(pub BTreeMap<Role, RoleScopeConfig>);

/// The teams and zones a role sees, defaults applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleScope {
    /// Admin: every item and run.
    Everything,
    Some {
        teams: Vec<String>,
        zones: Vec<String>,
    },
}

impl RoleScope {
    /// Whether an inbox item of this team is visible.
    pub fn sees_team(&self, team: &str) -> bool {
        match self {
            RoleScope::Everything => true,
            RoleScope::Some { teams, .. } => teams.iter().any(|t| t == team),
        }
    }

    /// Whether a run of a workflow in this zone is visible.
    pub fn sees_zone(&self, zone: &str) -> bool {
        match self {
            RoleScope::Everything => true,
            RoleScope::Some { zones, .. } => zones.iter().any(|z| z == zone),
        }
    }
}

/// The default teams and zones of each role (docs/web.md, "Roles and tokens").
pub fn default_scope(role: Role) -> RoleScope {
    let list = |items: &[&str]| items.iter().map(|item| (*item).to_owned()).collect::<Vec<_>>();
    match role {
        Role::Admin => RoleScope::Everything,
        Role::Finance => RoleScope::Some {
            teams: list(&["finance", "order_to_cash", "billing", "accounts_receivable"]),
            zones: list(&["order_to_cash"]),
        },
        Role::Fulfillment => RoleScope::Some { teams: list(&["fulfillment"]), zones: list(&["fulfillment"]) },
        Role::Support => RoleScope::Some {
            teams: list(&["customer_service", "support"]),
            zones: list(&["customer_service"]),
        },
    }
}

impl RolesConfig {
    /// What `role` sees: admin everything; another role its `[roles.ROLE]` teams and zones, each defaulting to
    /// [`default_scope`]'s.
    pub fn scope(&self, role: Role) -> RoleScope {
        let RoleScope::Some { teams, zones } = default_scope(role) else { return RoleScope::Everything };
        let given = self.0.get(&role);
        RoleScope::Some {
            teams: given.and_then(|g| g.teams.clone()).unwrap_or(teams),
            zones: given.and_then(|g| g.zones.clone()).unwrap_or(zones),
        }
    }
}

/// `[web]`: addresses in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`, or one address).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebConfig {
    /// Clients that may read `/metrics` without a token, besides loopback.
    #[serde(default)]
    pub metrics_allow: Vec<Cidr>,
    /// Reverse proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed (default: none).
    #[serde(default)]
    pub trusted_proxies: Vec<Cidr>,
}

/// An address range: a network address and a prefix length (`10.0.0.0/8`); a bare address is the range of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: std::net::IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Whether `address` is in the range (an IPv4 address written as IPv6, `::ffff:10.0.0.1`, counts as IPv4).
    pub fn contains(&self, address: std::net::IpAddr) -> bool {
        use std::net::IpAddr;
        match (self.network, address.to_canonical()) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(network) & mask == u32::from(address) & mask
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(network) & mask == u128::from(address) & mask
            }
            _ => false,
        }
    }
}

impl std::str::FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Cidr, String> {
        let bad = || format!("{text:?} is not an address range; write one as 10.0.0.0/8 or 192.168.1.20");
        let (address, prefix) = match text.trim().split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text.trim(), None),
        };
        let network: std::net::IpAddr = address.parse().map_err(|_| bad())?;
        let network = network.to_canonical();
        let most = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(prefix) => prefix.parse::<u8>().ok().filter(|p| *p <= most).ok_or_else(bad)?,
            None => most,
        };
        Ok(Cidr { network, prefix })
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Cidr, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShopifyConfig {
    /// `https://<shop>.myshopify.com`; `base_url` is the same setting.
    #[serde(alias = "base_url")]
    pub shop_url: Option<String>,
    pub access_token: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    #[serde(default = "default_shopify_version")]
    pub api_version: String,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShipbobConfig {
    /// Default `https://api.shipbob.com`.
    pub base_url: Option<String>,
    pub token: Option<String>,
    pub channel_id: Option<String>,
    #[serde(default = "default_shipbob_version")]
    pub api_version: String,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

/// Zendesk (`api_token`) and Gorgias (`api_key`, also accepted as `api_token`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelpdeskConfig {
    pub base_url: Option<String>,
    pub email: Option<String>,
    #[serde(alias = "api_key")]
    pub api_token: Option<String>,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StripeConfig {
    /// A secret or restricted key (`sk_...`/`rk_...`); better given as `SEAM_STRIPE_API_KEY`.
    pub api_key: Option<String>,
    /// Default `https://api.stripe.com`; point it at `seam sandbox` to try things out.
    pub base_url: Option<String>,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// `stripe`, `shopify`, `zendesk` or `generic`; defaults to the source's name when that is a known vendor.
    pub kind: Option<SourceKind>,
    #[serde(default)]
    pub secrets: Vec<String>,
    /// Accepted clock difference for timestamped signatures, both directions.
    #[serde(default = "default_tolerance")]
    pub tolerance_secs: i64,
    /// For `generic` sources: the signature header (default `X-Seam-Signature`).
    pub header: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntakeConfig {
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Hosts the generic `http` action may call (`api.example.com`, `127.0.0.1:9000`, `*.example.com`).
    #[serde(default)]
    pub allow_hosts: Vec<String>,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerConfig {
    /// A file sink: CSV or JSON lines (by `format`, or the extension: `.csv`, `.jsonl`).
    pub path: Option<PathBuf>,
    pub format: Option<String>,
    /// An HTTP sink: entries are POSTed as JSON with an `Idempotency-Key`.
    pub url: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct InboxConfig {
    /// First match wins; an item no route matches goes to its workflow's team.
    #[serde(default)]
    pub routes: Vec<InboxRoute>,
}

/// Routes an escalation to an assignee by zone, team, amount, tag or SKU (every given condition must hold).
#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InboxRoute {
    pub zone: Option<String>,
    pub team: Option<String>,
    /// Compared with the item's context `amount_minor` (or `amount`).
    pub min_amount_minor: Option<i64>,
    pub max_amount_minor: Option<i64>,
    /// Matches when the context's `tags` (list or comma-separated text) or `tag` holds it.
    pub tag: Option<String>,
    /// Matches when the context's `sku`, or any of `skus`, equals it.
    pub sku: Option<String>,
    pub assignee: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineConfig {
    /// How long a claimed call belongs to its worker before another may redo it.
    #[serde(default = "default_lease")]
    pub lease_secs: i64,
    /// How often idle loops look for due work (they are also woken directly).
    #[serde(default = "default_poll")]
    pub poll_ms: u64,
    #[serde(default = "default_reconcile")]
    pub reconcile_secs: u64,
    /// Calls carried out at once.
    #[serde(default = "default_concurrency")]
    pub call_concurrency: usize,
}

fn default_shopify_version() -> String {
    "2026-10".to_owned()
}
fn default_shipbob_version() -> String {
    "2026-07".to_owned()
}
fn default_tolerance() -> i64 {
    300
}
fn default_max_body() -> usize {
    1024 * 1024
}
fn default_timeout() -> u64 {
    10
}
fn default_lease() -> i64 {
    30
}
fn default_poll() -> u64 {
    200
}
fn default_reconcile() -> u64 {
    30
}
fn default_concurrency() -> usize {
    16
}

// Each section's defaults live in its `Default` (serde's per-field defaults call the same functions), so a setting
// has one default however the section is given: absent, empty, or partly filled in.
impl Default for StripeConfig {
    fn default() -> Self {
        StripeConfig { api_key: None, base_url: None, timeout_secs: default_timeout() }
    }
}
impl Default for ShopifyConfig {
    fn default() -> Self {
        ShopifyConfig {
            shop_url: None,
            access_token: None,
            client_id: None,
            client_secret: None,
            api_version: default_shopify_version(),
            timeout_secs: default_timeout(),
        }
    }
}
impl Default for ShipbobConfig {
    fn default() -> Self {
        ShipbobConfig {
            base_url: None,
            token: None,
            channel_id: None,
            api_version: default_shipbob_version(),
            timeout_secs: default_timeout(),
        }
    }
}
impl Default for HelpdeskConfig {
    fn default() -> Self {
        HelpdeskConfig { base_url: None, email: None, api_token: None, timeout_secs: default_timeout() }
    }
}
impl Default for IntakeConfig {
    fn default() -> Self {
        IntakeConfig { max_body_bytes: default_max_body() }
    }
}
impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig { allow_hosts: Vec::new(), timeout_secs: default_timeout() }
    }
}
impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            lease_secs: default_lease(),
            poll_ms: default_poll(),
            reconcile_secs: default_reconcile(),
            call_concurrency: default_concurrency(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read: {error}")]
    Read { path: String, error: std::io::Error },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

impl Config {
    /// Reads `path`, resolving relative workflow and ledger paths against its folder.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|error| ConfigError::Read { path: shown.clone(), error })?;
        let mut config = Config::parse(&text, &shown)?;
        let base = path.parent().unwrap_or(Path::new("."));
        for workflow in &mut config.workflows {
            if workflow.is_relative() {
                *workflow = base.join(&*workflow);
            }
        }
        let sinks = config.ledger.iter_mut().chain(config.ledgers.values_mut());
        for file in sinks.filter_map(|ledger| ledger.path.as_mut()) {
            if file.is_relative() {
                *file = base.join(&*file);
            }
        }
        Ok(config)
    }

    /// Parses config text; `shown` names it in errors (toml's messages carry line and column).
    pub fn parse(text: &str, shown: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text)
            .map_err(|error| ConfigError::Invalid { path: shown.to_owned(), message: error.to_string() })?;
        config.validate(shown)?;
        Ok(config)
    }

    fn validate(&self, shown: &str) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid { path: shown.to_owned(), message };
        for (name, source) in &self.sources {
            if source.kind.is_none() && vendor_kind(name).is_none() {
                return Err(invalid(format!(
                    "sources.{name}.kind: missing; use one of stripe, shopify, shipbob, zendesk, gorgias, generic"
                )));
            }
            if source.tolerance_secs <= 0 {
                return Err(invalid(format!(
                    "sources.{name}.tolerance_secs: must be a positive number of seconds"
                )));
            }
        }
        let named = self.ledgers.iter().map(|(name, ledger)| (format!("ledgers.{name}"), ledger));
        for (at, ledger) in self.ledger.iter().map(|ledger| ("ledger".to_owned(), ledger)).chain(named) {
            if ledger.path.is_some() == ledger.url.is_some() {
                return Err(invalid(format!(
                    "{at}: give exactly one of `path` (a file sink) or `url` (an HTTP sink)"
                )));
            }
            if let Some(format) = &ledger.format
                && !matches!(format.as_str(), "csv" | "jsonl" | "json")
            {
                return Err(invalid(format!("{at}.format: {format:?}; use csv or jsonl")));
            }
        }
        for (section, timeout) in [
            ("stripe", self.stripe.timeout_secs),
            ("shopify", self.shopify.timeout_secs),
            ("shipbob", self.shipbob.timeout_secs),
            ("zendesk", self.zendesk.timeout_secs),
            ("gorgias", self.gorgias.timeout_secs),
        ] {
            if timeout == 0 {
                return Err(invalid(format!("{section}.timeout_secs: must be a positive number of seconds")));
            }
        }
        if self.http.timeout_secs == 0 {
            return Err(invalid("http.timeout_secs: must be a positive number of seconds".into()));
        }
        if self.intake.max_body_bytes == 0 {
            return Err(invalid("intake.max_body_bytes: must be positive".into()));
        }
        for (role, scope) in &self.roles.0 {
            if *role == Role::Admin {
                return Err(invalid(
                    "roles.admin: admin sees everything and has no teams or zones; remove [roles.admin]"
                        .into(),
                ));
            }
            let zones: Vec<&str> = seam_flow::Zone::ALL.iter().map(|zone| zone.key()).collect();
            for zone in scope.zones.iter().flatten() {
                if !zones.contains(&zone.as_str()) {
                    return Err(invalid(format!("roles.{role}.zones: {zone:?}; use {}", zones.join(", "))));
                }
            }
        }
        Ok(())
    }

    /// Applies `SEAM_<SOURCE>_WEBHOOK_SECRET` variables (comma-separated lists). A variable for stripe, shopify or
    /// zendesk enables that source even if the file does not name it.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) {
        for vendor in ["stripe", "shopify", "zendesk", "shipbob", "gorgias"] {
            self.sources.entry(vendor.to_owned()).or_insert_with(|| SourceConfig {
                kind: vendor_kind(vendor),
                secrets: Vec::new(),
                tolerance_secs: default_tolerance(),
                header: None,
            });
        }
        for (name, source) in &mut self.sources {
            let variable = format!("SEAM_{}_WEBHOOK_SECRET", name.to_uppercase().replace('-', "_"));
            if let Some(value) = get(&variable) {
                let secrets: Vec<String> =
                    value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
                if !secrets.is_empty() {
                    source.secrets = secrets;
                }
            }
        }
        if let Some(key) = get("SEAM_STRIPE_API_KEY").filter(|key| !key.trim().is_empty()) {
            self.stripe.api_key = Some(key.trim().to_owned());
        }
        if let Some(url) = get("SEAM_STRIPE_BASE_URL").filter(|url| !url.trim().is_empty()) {
            self.stripe.base_url = Some(url.trim().to_owned());
        }
        let value = |name: &str| get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let set = |slot: &mut Option<String>, name: &str| {
            if let Some(found) = value(name) {
                *slot = Some(found);
            }
        };
        set(&mut self.shopify.shop_url, "SEAM_SHOPIFY_SHOP_URL");
        set(&mut self.shopify.shop_url, "SEAM_SHOPIFY_BASE_URL");
        set(&mut self.shopify.access_token, "SEAM_SHOPIFY_ACCESS_TOKEN");
        set(&mut self.shopify.client_id, "SEAM_SHOPIFY_CLIENT_ID");
        set(&mut self.shopify.client_secret, "SEAM_SHOPIFY_CLIENT_SECRET");
        if let Some(version) = value("SEAM_SHOPIFY_API_VERSION") {
            self.shopify.api_version = version;
        }
        set(&mut self.shipbob.base_url, "SEAM_SHIPBOB_BASE_URL");
        set(&mut self.shipbob.token, "SEAM_SHIPBOB_TOKEN");
        set(&mut self.shipbob.channel_id, "SEAM_SHIPBOB_CHANNEL_ID");
        if let Some(version) = value("SEAM_SHIPBOB_API_VERSION") {
            self.shipbob.api_version = version;
        }
        set(&mut self.zendesk.base_url, "SEAM_ZENDESK_BASE_URL");
        set(&mut self.zendesk.email, "SEAM_ZENDESK_EMAIL");
        set(&mut self.zendesk.api_token, "SEAM_ZENDESK_API_TOKEN");
        set(&mut self.gorgias.base_url, "SEAM_GORGIAS_BASE_URL");
        set(&mut self.gorgias.email, "SEAM_GORGIAS_EMAIL");
        set(&mut self.gorgias.api_token, "SEAM_GORGIAS_API_KEY");
        // A vendor source with no secret from anywhere is not enabled.
        self.sources.retain(|_, source| !source.secrets.is_empty());
    }
}

impl Config {
    /// What the `connector.*` actions still need, as the settings to give (`None` when they are ready): a
    /// workflow calling a connector that is not ready is left out (without a config file) or refused.
    pub fn connector_missing(&self, connector: &str) -> Option<&'static str> {
        let set = |value: &Option<String>| value.as_deref().is_some_and(|v| !v.trim().is_empty());
        match connector {
            "http" => None,
            "stripe" if set(&self.stripe.api_key) => None,
            "stripe" => {
                Some("a Stripe key: set SEAM_STRIPE_API_KEY, and SEAM_STRIPE_BASE_URL to use `seam sandbox`")
            }
            "shopify"
                if set(&self.shopify.shop_url)
                    && (set(&self.shopify.access_token)
                        || (set(&self.shopify.client_id) && set(&self.shopify.client_secret))) =>
            {
                None
            }
            "shopify" => {
                Some("a shop and its credentials: set SEAM_SHOPIFY_SHOP_URL and SEAM_SHOPIFY_ACCESS_TOKEN")
            }
            "shipbob" if set(&self.shipbob.token) => None,
            "shipbob" => Some("a ShipBob token: set SEAM_SHIPBOB_TOKEN (and SEAM_SHIPBOB_CHANNEL_ID)"),
            "zendesk"
                if set(&self.zendesk.base_url)
                    && set(&self.zendesk.email)
                    && set(&self.zendesk.api_token) =>
            {
                None
            }
            "zendesk" => Some(
                "Zendesk credentials: set SEAM_ZENDESK_BASE_URL, SEAM_ZENDESK_EMAIL and SEAM_ZENDESK_API_TOKEN",
            ),
            "gorgias"
                if set(&self.gorgias.base_url)
                    && set(&self.gorgias.email)
                    && set(&self.gorgias.api_token) =>
            {
                None
            }
            "gorgias" => Some(
                "Gorgias credentials: set SEAM_GORGIAS_BASE_URL, SEAM_GORGIAS_EMAIL and SEAM_GORGIAS_API_KEY",
            ),
            _ => Some("a connector Seam does not have"),
        }
    }
}

impl SourceConfig {
    pub fn kind_for(&self, name: &str) -> SourceKind {
        self.kind.or_else(|| vendor_kind(name)).unwrap_or(SourceKind::Generic)
    }
}

fn vendor_kind(name: &str) -> Option<SourceKind> {
    SourceKind::from_name(name).filter(|kind| *kind != SourceKind::Generic)
}

impl InboxRoute {
    /// Whether this route takes an item of `zone` and `team` with this context.
    pub fn matches(&self, zone: &str, team: &str, context: &Value) -> bool {
        let text = |value: &Value| match value {
            Value::String(text) => Some(text.clone()),
            Value::Number(number) => Some(number.to_string()),
            _ => None,
        };
        if self.zone.as_deref().is_some_and(|want| want != zone) {
            return false;
        }
        if self.team.as_deref().is_some_and(|want| want != team) {
            return false;
        }
        if self.min_amount_minor.is_some() || self.max_amount_minor.is_some() {
            let amount = context
                .get("amount_minor")
                .or_else(|| context.get("amount"))
                .and_then(|value| value.as_i64().or_else(|| value.as_str().and_then(|s| s.parse().ok())));
            let Some(amount) = amount else { return false };
            if self.min_amount_minor.is_some_and(|min| amount < min)
                || self.max_amount_minor.is_some_and(|max| amount > max)
            {
                return false;
            }
        }
        if let Some(tag) = &self.tag {
            let mut tags: Vec<String> = Vec::new();
            for field in ["tags", "tag"] {
                match context.get(field) {
                    Some(Value::Array(items)) => tags.extend(items.iter().filter_map(text)),
                    Some(Value::String(list)) => tags.extend(list.split(',').map(|t| t.trim().to_owned())),
                    _ => {}
                }
            }
            if !tags.iter().any(|t| t == tag) {
                return false;
            }
        }
        if let Some(sku) = &self.sku {
            let mut skus: Vec<String> = context.get("sku").and_then(text).into_iter().collect();
            if let Some(Value::Array(items)) = context.get("skus") {
                skus.extend(items.iter().filter_map(text));
            }
            if !skus.iter().any(|s| s == sku) {
                return false;
            }
        }
        true
    }
}

/// The assignee for an escalation: the first matching route's, else the team.
pub fn route_escalation(routes: &[InboxRoute], zone: &str, team: &str, context: &Value) -> String {
    routes
        .iter()
        .find(|route| route.matches(zone, team, context))
        .map_or_else(|| team.to_owned(), |route| route.assignee.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Config {
        Config::parse(text, "seam.toml").unwrap()
    }

    /// A setting has its documented default however its section is given: left out, empty, or partly filled in,
    /// with or without the environment. (A `[stripe]` section left out once gave a timeout of zero.)
    #[test]
    fn every_default_is_the_same_however_the_section_is_given() {
        let absent = format!("{:?}", parsed(""));
        assert_eq!(absent, format!("{:?}", Config::default()));
        let empty = parsed(
            "[stripe]\n[intake]\n[http]\n[inbox]\n[engine]\n[shopify]\n[shipbob]\n[zendesk]\n[gorgias]\n[roles]\n[web]\n",
        );
        assert_eq!(format!("{empty:?}"), absent);
        for config in [parsed(""), Config::default(), parsed("[stripe]\nbase_url = \"http://127.0.0.1:1\"\n")]
        {
            assert_eq!(config.stripe.timeout_secs, 10);
            assert_eq!(config.http.timeout_secs, 10);
            assert_eq!(config.intake.max_body_bytes, 1024 * 1024);
            assert_eq!(config.engine.lease_secs, 30);
            assert_eq!(config.engine.poll_ms, 200);
            assert_eq!(config.engine.reconcile_secs, 30);
            assert_eq!(config.engine.call_concurrency, 16);
            assert_eq!(config.shopify.timeout_secs, 10);
            assert_eq!(config.shopify.api_version, "2026-10");
            assert_eq!(config.shipbob.timeout_secs, 10);
            assert_eq!(config.shipbob.api_version, "2026-07");
            assert_eq!(config.zendesk.timeout_secs, 10);
            assert_eq!(config.gorgias.timeout_secs, 10);
        }
        let mut from_env = Config::default();
        from_env.apply_env(|name| match name {
            "SEAM_STRIPE_API_KEY" => Some("sk_test_1".into()),
            "SEAM_STRIPE_BASE_URL" => Some("http://127.0.0.1:12111".into()),
            _ => None,
        });
        assert_eq!(from_env.stripe.timeout_secs, 10);
        assert_eq!(from_env.stripe.api_key.as_deref(), Some("sk_test_1"));
        let mut vendors = Config::default();
        vendors.apply_env(|name| match name {
            "SEAM_SHOPIFY_SHOP_URL" => Some("https://acme.myshopify.com".into()),
            "SEAM_SHOPIFY_ACCESS_TOKEN" => Some("shpat_1".into()),
            "SEAM_SHIPBOB_TOKEN" => Some("pat_1".into()),
            "SEAM_GORGIAS_API_KEY" => Some("key_1".into()),
            "SEAM_SHIPBOB_WEBHOOK_SECRET" => Some("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into()),
            _ => None,
        });
        assert_eq!(vendors.shopify.timeout_secs, 10);
        assert_eq!(vendors.shopify.access_token.as_deref(), Some("shpat_1"));
        assert_eq!(vendors.shipbob.token.as_deref(), Some("pat_1"));
        assert_eq!(vendors.gorgias.api_token.as_deref(), Some("key_1"));
        assert_eq!(vendors.sources["shipbob"].kind_for("shipbob"), SourceKind::Shipbob);
    }

    /// "default: finance sees team finance and order-to-cash teams, fulfillment sees fulfillment, support sees
    /// customer_service/support; admin sees everything"; a `[roles.ROLE]` key replaces that key's default only.
    #[test]
    fn roles_see_their_default_teams_and_zones_unless_configured() {
        let config = parsed("");
        let finance = config.roles.scope(Role::Finance);
        assert!(finance.sees_team("finance") && finance.sees_team("order_to_cash"));
        assert!(!finance.sees_team("customer_service") && !finance.sees_team("fulfillment"));
        assert!(finance.sees_zone("order_to_cash") && !finance.sees_zone("customer_service"));
        let support = config.roles.scope(Role::Support);
        assert!(support.sees_team("customer_service") && support.sees_team("support"));
        assert!(!support.sees_team("finance") && support.sees_zone("customer_service"));
        let fulfillment = config.roles.scope(Role::Fulfillment);
        assert!(fulfillment.sees_team("fulfillment") && !fulfillment.sees_team("finance"));
        assert_eq!(config.roles.scope(Role::Admin), RoleScope::Everything);

        let config = parsed("[roles.support]\nteams = [\"cx\"]\n");
        let support = config.roles.scope(Role::Support);
        assert!(support.sees_team("cx") && !support.sees_team("customer_service"));
        assert!(support.sees_zone("customer_service"), "zones keep their default");
        for (text, problem) in [
            ("[roles.admin]\nteams = [\"x\"]\n", "roles.admin"),
            ("[roles.support]\nzones = [\"returns\"]\n", "roles.support.zones"),
            ("[roles.ops]\nteams = []\n", "ops"),
            ("[web]\nmetrics_allow = [\"10.0.0.0/33\"]\n", "10.0.0.0/33"),
            ("[web]\ntrusted_proxies = [\"proxy\"]\n", "proxy"),
        ] {
            let error = Config::parse(text, "seam.toml").unwrap_err().to_string();
            assert!(error.contains(problem), "{text}: {error}");
        }
    }

    #[test]
    fn address_ranges_hold_what_they_say() {
        let web =
            parsed("[web]\nmetrics_allow = [\"10.0.0.0/8\", \"192.168.1.20\", \"2001:db8::/32\"]\n").web;
        let allowed =
            |address: &str| web.metrics_allow.iter().any(|cidr| cidr.contains(address.parse().unwrap()));
        assert!(allowed("10.200.3.4") && allowed("::ffff:10.0.0.1") && allowed("192.168.1.20"));
        assert!(allowed("2001:db8::1"));
        assert!(!allowed("11.0.0.1") && !allowed("192.168.1.21") && !allowed("2001:db9::1"));
        let everything: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(everything.contains("203.0.113.9".parse().unwrap()));
    }

    #[test]
    fn a_zero_timeout_is_refused() {
        let error = Config::parse("[stripe]\ntimeout_secs = 0\n", "seam.toml").unwrap_err();
        assert!(error.to_string().contains("stripe.timeout_secs"), "{error}");
    }
}
