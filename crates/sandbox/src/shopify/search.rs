//! Shopify's search syntax for a connection's `query:` argument, as much as the connectors use: `field:value`
//! terms (values may be quoted), juxtaposition or `AND` for both, `OR` for either, `-field:value` or `NOT` to
//! negate, and bare words matched against a default field. A filter on a field the resource does not know is
//! ignored, as Shopify ignores it.

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Term {
    pub field: Option<String>,
    pub value: String,
    pub negated: bool,
}

/// A parsed query: any of the groups matches when all of its terms match.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Search {
    pub groups: Vec<Vec<Term>>,
}

impl Search {
    pub fn parse(text: &str) -> Search {
        let mut groups = vec![Vec::new()];
        let mut negate_next = false;
        for token in tokens(text) {
            match token.as_str() {
                "OR" => groups.push(Vec::new()),
                "AND" => {}
                "NOT" => negate_next = true,
                _ => {
                    let (negated, token) = match token.strip_prefix('-') {
                        Some(rest) if !rest.is_empty() => (true, rest.to_owned()),
                        _ => (false, token),
                    };
                    let term = match token.split_once(':') {
                        Some((field, value)) if !field.is_empty() && !field.contains('"') => Term {
                            field: Some(field.to_ascii_lowercase()),
                            value: unquote(value),
                            negated: negated ^ negate_next,
                        },
                        _ => Term { field: None, value: unquote(&token), negated: negated ^ negate_next },
                    };
                    negate_next = false;
                    if let Some(group) = groups.last_mut() {
                        group.push(term);
                    }
                }
            }
        }
        groups.retain(|g| !g.is_empty());
        Search { groups }
    }

    /// Whether a resource matches. `check(field, value)` says whether the resource has `value` in `field` (the
    /// default field when None), or None when it does not know the field.
    pub fn matches(&self, check: impl Fn(Option<&str>, &str) -> Option<bool>) -> bool {
        self.groups.is_empty()
            || self.groups.iter().any(|group| {
                group.iter().all(|t| check(t.field.as_deref(), &t.value).is_none_or(|hit| hit != t.negated))
            })
    }
}

fn unquote(value: &str) -> String {
    let v = value.trim();
    let stripped = v
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .or_else(|| v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')));
    stripped.unwrap_or(v).to_owned()
}

/// Splits on whitespace outside quotes; parentheses are dropped (grouping is not modelled).
fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                current.push(c);
            }
            (Some(_), c) => current.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                current.push(c);
            }
            (None, '(' | ')') => {}
            (None, c) if c.is_whitespace() => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            (None, c) => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_or_and_negation() {
        let s = Search::parse("sku:A OR sku:'B C'");
        assert_eq!(s.groups.len(), 2);
        assert_eq!(s.groups[1][0].value, "B C");
        let skus = ["B C"];
        assert!(s.matches(|f, v| (f == Some("sku")).then(|| skus.contains(&v))));
        let s = Search::parse("email:\"ada@example.com\" -status:cancelled");
        assert_eq!(s.groups[0].len(), 2);
        assert!(s.groups[0][1].negated);
        assert!(!s.matches(|f, _| Some(f == Some("status") || f == Some("email"))));
        assert!(Search::parse("  ").matches(|_, _| Some(false)));
        assert!(Search::parse("unknown:x").matches(|_, _| None));
        assert_eq!(Search::parse("name:#1001").groups[0][0].value, "#1001");
    }
}
