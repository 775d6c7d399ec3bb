//! The ids and texts the world hands out: Shopify's 64-bit ids, ShipBob's and the helpdesks' integers, webhook
//! ids, timestamps and money.
//!
//! Every id is a pure function of the seed, an epoch and a counter, drawn with the same splitmix mixer as the
//! Stripe scenario. The seeded history uses the seed's own epoch, so the same seed names the same orders and
//! customers; whatever is created while the sandbox runs uses an epoch drawn from the start's salt, so a sandbox
//! restarted against the same Seam database never hands out an order id (or a webhook id) that Seam saw before.

use crate::scenario::{draw, mix};

/// What an id names; each kind has its own range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Order,
    LineItem,
    Customer,
    Product,
    Variant,
    InventoryItem,
    Location,
    Fulfillment,
    FulfillmentOrder,
    Refund,
    ShopifyReturn,
    Metafield,
    ShipbobOrder,
    Shipment,
    ShipbobReturn,
    ShipbobInventory,
    ZendeskTicket,
    ZendeskUser,
    ZendeskComment,
    GorgiasTicket,
    GorgiasCustomer,
    GorgiasMessage,
    GorgiasTag,
}

const KINDS: usize = 23;

impl Kind {
    /// (base, ids per epoch, epochs): an id is `base + (epoch % epochs) * per_epoch + n`. Shopify's ranges all
    /// lie above 2^53, so a client that reads them as doubles gets them wrong and a test sees it.
    const fn range(self) -> (u64, u64, u64) {
        const SHOPIFY: (u64, u64) = (1_000_000, 1_000_000_000);
        match self {
            Kind::Order => (5_000_000_000_000_000_000, SHOPIFY.0, SHOPIFY.1),
            Kind::LineItem => (9_000_000_000_000_000_000, SHOPIFY.0, SHOPIFY.1),
            Kind::Customer => (7_000_000_000_000_000_000, SHOPIFY.0, SHOPIFY.1),
            Kind::Product => (8_000_000_000_000_000_000, SHOPIFY.0, SHOPIFY.1),
            Kind::Variant => (4_000_000_000_000_000_000, SHOPIFY.0, SHOPIFY.1),
            Kind::InventoryItem => (6_000_000_000_000_000_000, SHOPIFY.0, SHOPIFY.1),
            Kind::Location => (3_000_000_000_000_000_000, SHOPIFY.0, SHOPIFY.1),
            Kind::Fulfillment => (2_100_000_000_000_000_000, SHOPIFY.0, SHOPIFY.1),
            Kind::FulfillmentOrder => (2_200_000_000_000_000_000, SHOPIFY.0, SHOPIFY.1),
            Kind::Refund => (2_300_000_000_000_000_000, SHOPIFY.0, SHOPIFY.1),
            Kind::ShopifyReturn => (2_400_000_000_000_000_000, SHOPIFY.0, SHOPIFY.1),
            Kind::Metafield => (2_500_000_000_000_000_000, SHOPIFY.0, SHOPIFY.1),
            // ShipBob's ids are 32-bit integers.
            Kind::ShipbobOrder => (300_000_000, 100_000, 1_000),
            Kind::Shipment => (200_000_000, 100_000, 1_000),
            Kind::ShipbobReturn => (100_000_000, 100_000, 1_000),
            Kind::ShipbobInventory => (20_000_000, 10_000, 1_000),
            // Zendesk's ticket ids are small and its user and comment ids large (but below 2^53).
            Kind::ZendeskTicket => (1_000, 1_000, 1_000),
            Kind::ZendeskUser => (360_000_000_000, 100_000, 1_000_000),
            Kind::ZendeskComment => (240_000_000_000, 100_000, 1_000_000),
            Kind::GorgiasTicket => (30_000_000, 10_000, 1_000),
            Kind::GorgiasCustomer => (400_000_000, 10_000, 1_000),
            Kind::GorgiasMessage => (500_000_000, 100_000, 1_000),
            Kind::GorgiasTag => (1_000_000, 1_000, 1_000),
        }
    }
}

/// Hands out ids: one counter per kind, and a counter for webhook ids.
#[derive(Debug, Clone)]
pub(crate) struct Ids {
    seed: u64,
    epoch: u64,
    /// Whether the seeded history is over: ids then come from the upper half of each kind's epochs, so they are
    /// larger than every seeded id, as a vendor's ids grow with time.
    running: bool,
    next: [u64; KINDS],
    tokens: u64,
}

const TOKEN_STREAM: u64 = 0x7d;

impl Ids {
    /// Ids for the seeded history: the epoch is the seed's own.
    pub(crate) fn new(seed: u64) -> Ids {
        Ids { seed, epoch: mix(seed ^ 0x5eed), running: false, next: [0; KINDS], tokens: 0 }
    }

    /// From now on, ids come from the start's salt (see the module docs).
    pub(crate) fn start_epoch(&mut self, salt: u64) {
        self.epoch = mix(mix(self.seed) ^ mix(salt ^ 0x5a17));
        self.running = true;
        self.next = [0; KINDS];
        self.tokens = 0;
    }

    pub(crate) fn next(&mut self, kind: Kind) -> u64 {
        let (base, per_epoch, epochs) = kind.range();
        let half = epochs / 2;
        let epoch = self.epoch % half + if self.running { half } else { 0 };
        let n = &mut self.next[kind as usize];
        let id = base + epoch * per_epoch + *n;
        *n += 1;
        id
    }

    fn token(&mut self) -> u64 {
        self.tokens += 1;
        draw(self.seed, TOKEN_STREAM, self.epoch, self.tokens)
    }

    /// A version-4-shaped UUID (Shopify's webhook ids, Zendesk's event ids).
    pub(crate) fn uuid(&mut self) -> String {
        let (a, b) = (self.token(), self.token());
        let a = (a & !0xF000) | 0x4000;
        let b = (b & !(0xC << 60)) | (0x8 << 60);
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xFFFF,
            a & 0xFFFF,
            b >> 48,
            b & 0xFFFF_FFFF_FFFF
        )
    }

    /// `prefix` then `len` base-62 characters (`msg_…` for ShipBob, `cs_test_…` for Stripe).
    pub(crate) fn token_id(&mut self, prefix: &str, len: usize) -> String {
        const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut out = String::with_capacity(prefix.len() + len);
        out.push_str(prefix);
        let mut bits = 0u64;
        for i in 0..len {
            if i % 10 == 0 {
                bits = self.token();
            }
            out.push(char::from(ALPHABET[(bits % 62) as usize]));
            bits /= 62;
        }
        out
    }

    /// A draw for a seeded choice that is not an id (tracking numbers).
    pub(crate) fn number(&mut self) -> u64 {
        self.token()
    }
}

/// `gid://shopify/{type}/{id}`.
pub(crate) fn gid(kind: &str, id: u64) -> String {
    format!("gid://shopify/{kind}/{id}")
}

/// The numeric tail of a gid (or a bare number): `gid://shopify/Order/5000…` → 5000….
pub(crate) fn gid_number(text: &str) -> Option<u64> {
    let tail = text.rsplit('/').next()?;
    let tail = tail.split('?').next()?;
    tail.parse().ok()
}

/// Days since 1970-01-01 to (year, month, day), in the proleptic Gregorian calendar.
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn parts(unix: i64) -> (i64, u32, u32, i64, i64, i64) {
    let (year, month, day) = civil(unix.div_euclid(86_400));
    let secs = unix.rem_euclid(86_400);
    (year, month, day, secs / 3_600, secs % 3_600 / 60, secs % 60)
}

/// `2026-01-31T09:05:00Z`: GraphQL's `DateTime`, ShipBob's and the helpdesks' timestamps.
pub(crate) fn utc(unix: i64) -> String {
    let (y, mo, d, h, mi, s) = parts(unix);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// `2026-01-31T09:05:00-00:00`... with the shop's offset, as Shopify's REST bodies write times (the sandbox's shop
/// keeps UTC, so the offset is `+00:00`).
pub(crate) fn shop_time(unix: i64) -> String {
    let (y, mo, d, h, mi, s) = parts(unix);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}+00:00")
}

/// `2026-01-31T09:05:00.123Z`, from milliseconds.
pub(crate) fn utc_millis(unix_ms: i64) -> String {
    let (y, mo, d, h, mi, s) = parts(unix_ms.div_euclid(1_000));
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}Z", unix_ms.rem_euclid(1_000))
}

/// Shopify's `Decimal` and `Money` scalars in GraphQL: `"32.0"`, `"89.99"`, `"12.5"`.
pub(crate) fn decimal(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    match cents % 100 {
        0 => format!("{sign}{}.0", cents / 100),
        c if c % 10 == 0 => format!("{sign}{}.{}", cents / 100, c / 10),
        c => format!("{sign}{}.{c:02}", cents / 100),
    }
}

/// Shopify's REST money strings: `"32.00"`.
pub(crate) fn rest_money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    format!("{sign}{}.{:02}", cents / 100, cents % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shopify_ids_lie_above_2_pow_53_and_never_repeat() {
        let mut ids = Ids::new(7);
        let a = ids.next(Kind::Order);
        let b = ids.next(Kind::Order);
        assert!(a > 1 << 53 && b == a + 1);
        ids.start_epoch(99);
        let c = ids.next(Kind::Order);
        assert!(c > b, "ids made while running are larger than seeded ones");
        assert!(ids.next(Kind::ShipbobOrder) < i32::MAX as u64);
        assert_eq!(gid_number(&gid("Order", c)), Some(c));
        assert_eq!(gid_number("gid://shopify/InventoryLevel/12?inventory_item_id=3"), Some(12));
    }

    #[test]
    fn texts() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(utc_millis(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(shop_time(951_782_400), "2000-02-29T00:00:00+00:00");
        assert_eq!(
            (decimal(3200), decimal(8999), decimal(1250)),
            ("32.0".into(), "89.99".into(), "12.5".into())
        );
        assert_eq!(rest_money(3200), "32.00");
        let mut ids = Ids::new(1);
        let uuid = ids.uuid();
        assert_eq!(uuid.len(), 36);
        assert_eq!(&uuid[14..15], "4");
        assert_ne!(uuid, ids.uuid());
        assert!(ids.token_id("msg_", 27).starts_with("msg_"));
    }
}
