//! Money: amounts in minor units of their own currency, read from an export's text, and converted only at a rate
//! the user gives.
//!
//! Amounts are whole numbers of the currency's smallest unit (cents, pence, paise; yen), so sums are exact. A
//! conversion happens once, on a month's sum per currency, and the figure it makes carries the rate it used.

use serde::Serialize;

/// An ISO 4217 code, upper case (`USD`, `GBP`). Stripe writes them in lower case; both are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    pub const USD: Currency = Currency(*b"USD");

    /// Three ASCII letters, any case.
    pub fn parse(text: &str) -> Option<Currency> {
        let bytes = text.trim().as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_alphabetic) {
            return None;
        }
        Some(Currency([
            bytes[0].to_ascii_uppercase(),
            bytes[1].to_ascii_uppercase(),
            bytes[2].to_ascii_uppercase(),
        ]))
    }

    pub fn code(&self) -> &str {
        // Always three ASCII letters, by construction.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }

    /// Digits after the decimal point in the currency's minor unit: 0 for Stripe's zero-decimal currencies (yen,
    /// won, ...), 3 for the dinars that have fils, 2 otherwise.
    pub fn exponent(&self) -> u32 {
        match self.code() {
            "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "MGA" | "PYG" | "RWF" | "UGX"
            | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
            "BHD" | "JOD" | "KWD" | "OMR" | "TND" | "IQD" | "LYD" => 3,
            _ => 2,
        }
    }
}

impl std::fmt::Display for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

/// Reads an amount as exports write it (`42.11`, `1299.00`, `-5`, `1,299.00`) into minor units of `currency`.
/// More decimals than the currency has are accepted only when they are zeros (`1000.00` yen).
pub fn parse_amount(text: &str, currency: Currency) -> Option<i64> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    // Thousands separators only between groups of three digits.
    let whole_digits: String = if whole.contains(',') {
        let groups: Vec<&str> = whole.split(',').collect();
        let ok = groups.iter().enumerate().all(|(n, group)| {
            let size_ok = if n == 0 { (1..=3).contains(&group.len()) } else { group.len() == 3 };
            size_ok && group.bytes().all(|b| b.is_ascii_digit())
        });
        if !ok {
            return None;
        }
        groups.concat()
    } else if whole.bytes().all(|b| b.is_ascii_digit()) {
        whole.to_owned()
    } else {
        return None;
    };
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let exponent = currency.exponent() as usize;
    let (kept, dropped) = fraction.split_at(fraction.len().min(exponent));
    if dropped.bytes().any(|b| b != b'0') {
        return None;
    }
    let mut minor: i64 = if whole_digits.is_empty() { 0 } else { whole_digits.parse().ok()? };
    for _ in 0..exponent {
        minor = minor.checked_mul(10)?;
    }
    let mut fraction_minor: i64 = if kept.is_empty() { 0 } else { kept.parse().ok()? };
    for _ in kept.len()..exponent {
        fraction_minor *= 10;
    }
    let minor = minor.checked_add(fraction_minor)?;
    Some(if negative { -minor } else { minor })
}

/// `amount` minor units of `currency` as text with its decimals: `4211` GBP is `42.11`.
pub fn format_minor(amount: i64, currency: Currency) -> String {
    let exponent = currency.exponent();
    let sign = if amount < 0 { "-" } else { "" };
    let magnitude = amount.unsigned_abs();
    if exponent == 0 {
        return format!("{sign}{}", group_thousands(magnitude));
    }
    let scale = 10u64.pow(exponent);
    format!(
        "{sign}{}.{:0width$}",
        group_thousands(magnitude / scale),
        magnitude % scale,
        width = exponent as usize
    )
}

fn group_thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (n, c) in digits.chars().enumerate() {
        if n > 0 && (digits.len() - n).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// An exchange rate the user gave: one unit of `from` is `rate` units of the figures' currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rate {
    #[serde(rename = "currency")]
    pub from: Currency,
    /// The rate as written (`1.27`), shown beside every figure it converted.
    pub rate: String,
    /// The rate as a whole number over a power of ten: `1.27` is 127 / 10^2.
    #[serde(skip)]
    numerator: u128,
    #[serde(skip)]
    scale: u32,
}

impl Rate {
    /// Reads `CUR=RATE` (`GBP=1.27`): a currency and a positive decimal number.
    pub fn parse(text: &str) -> Result<Rate, String> {
        let usage = "write it as CUR=RATE, one unit of CUR in the figures' currency, such as GBP=1.27";
        let (code, rate) = text.split_once('=').ok_or_else(|| format!("{text:?}: {usage}"))?;
        let from =
            Currency::parse(code).ok_or_else(|| format!("{code:?} is not a currency code; {usage}"))?;
        let rate = rate.trim();
        let (whole, fraction) = rate.split_once('.').unwrap_or((rate, ""));
        let digits_ok = !(whole.is_empty() && fraction.is_empty())
            && whole.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit())
            && fraction.len() <= 12
            && whole.len() <= 12;
        let numerator: u128 = if digits_ok { format!("{whole}{fraction}").parse().unwrap_or(0) } else { 0 };
        if numerator == 0 {
            return Err(format!("{rate:?} is not a positive number; {usage}"));
        }
        Ok(Rate { from, rate: rate.to_owned(), numerator, scale: fraction.len() as u32 })
    }

    /// `amount` minor units of `self.from` in minor units of `to`, rounded half away from zero.
    pub fn convert(&self, amount: i64, to: Currency) -> i64 {
        let from_exponent = self.from.exponent() as i32;
        let to_exponent = to.exponent() as i32;
        // amount / 10^from_exp * rate * 10^to_exp, with rate = numerator / 10^scale.
        let mut numerator = amount.unsigned_abs() as u128 * self.numerator;
        let mut denominator: u128 = 10u128.pow(self.scale);
        let shift = to_exponent - from_exponent;
        if shift >= 0 {
            numerator *= 10u128.pow(shift as u32);
        } else {
            denominator *= 10u128.pow((-shift) as u32);
        }
        let rounded = (numerator + denominator / 2) / denominator;
        let rounded = i64::try_from(rounded).unwrap_or(i64::MAX);
        if amount < 0 { -rounded } else { rounded }
    }
}
