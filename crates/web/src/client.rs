//! Where a request comes from: the client's address, and whether it reached the proxy in front of Seam over
//! HTTPS. Seam believes `X-Forwarded-For` and `X-Forwarded-Proto` only when the peer that connected is one of
//! `[web] trusted_proxies`; from anyone else those headers are ignored, so a client cannot pretend to be on
//! loopback (and read `/metrics`) or on HTTPS.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use seam_runtime::Cidr;

/// Where a request comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client's address: the peer's, or the one a trusted proxy names.
    pub address: IpAddr,
    /// Whether the client's connection was HTTPS (Seam itself serves plain HTTP; a trusted proxy says so with
    /// `X-Forwarded-Proto: https`). Decides the cookie's `Secure`.
    pub https: bool,
}

impl ClientInfo {
    /// The client of a request whose TCP peer is `peer` (`None` when it is not known, as in a test calling the
    /// router directly: then the client counts as unknown, not loopback).
    pub fn of(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[Cidr]) -> ClientInfo {
        let unknown = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        let Some(peer) = peer.map(|peer| peer.to_canonical()) else {
            return ClientInfo { address: unknown, https: false };
        };
        let is_trusted = |address: IpAddr| trusted.iter().any(|range| range.contains(address));
        if !is_trusted(peer) {
            return ClientInfo { address: peer, https: false };
        }
        // Each proxy appends the address it was connected from: walk from the right past our own proxies; the
        // first other address is the client. Unreadable entries stop the walk (the peer is then the client).
        let forwarded: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .collect();
        let mut address = peer;
        for entry in forwarded.iter().rev() {
            match parse_forwarded_address(entry) {
                Some(hop) => {
                    address = hop;
                    if !is_trusted(hop) {
                        break;
                    }
                }
                None => break,
            }
        }
        let https = headers
            .get("x-forwarded-proto")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(',').next())
            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"));
        ClientInfo { address, https }
    }

    /// The client of a request, from its connection (`ConnectInfo`, set by `server::start`) and headers.
    pub fn from_parts(parts: &Parts, trusted: &[Cidr]) -> ClientInfo {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip());
        ClientInfo::of(peer, &parts.headers, trusted)
    }

    pub fn is_loopback(&self) -> bool {
        self.address.is_loopback()
    }
}

/// `203.0.113.9`, `203.0.113.9:4711`, `2001:db8::1` or `[2001:db8::1]:4711`.
fn parse_forwarded_address(entry: &str) -> Option<IpAddr> {
    if let Ok(address) = entry.parse::<IpAddr>() {
        return Some(address.to_canonical());
    }
    entry.parse::<SocketAddr>().ok().map(|socket| socket.ip().to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    fn ranges(items: &[&str]) -> Vec<Cidr> {
        items.iter().map(|item| item.parse().unwrap()).collect()
    }

    #[test]
    fn forwarded_headers_count_only_from_a_trusted_proxy() {
        let loopback: IpAddr = "127.0.0.1".parse().unwrap();
        let forged = headers(&[("x-forwarded-for", "203.0.113.9"), ("x-forwarded-proto", "https")]);
        // No trusted proxy: the headers are a client's say-so.
        let direct = ClientInfo::of(Some(loopback), &forged, &[]);
        assert_eq!(direct, ClientInfo { address: loopback, https: false });
        // From a trusted proxy they are believed.
        let proxied = ClientInfo::of(Some(loopback), &forged, &ranges(&["127.0.0.1/32"]));
        assert_eq!(proxied, ClientInfo { address: "203.0.113.9".parse().unwrap(), https: true });
        // A client cannot hide behind an address it writes in front of the proxy's own entry.
        let chain = headers(&[("x-forwarded-for", "127.0.0.1, 198.51.100.7, 10.0.0.2")]);
        let trusted = ranges(&["127.0.0.1", "10.0.0.0/8"]);
        let client = ClientInfo::of(Some(loopback), &chain, &trusted);
        assert_eq!(client.address, "198.51.100.7".parse::<IpAddr>().unwrap());
        // An unknown peer is never loopback.
        assert!(!ClientInfo::of(None, &forged, &trusted).is_loopback());
        // IPv4 written as IPv6 is the IPv4 address.
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert!(ClientInfo::of(Some(mapped), &HeaderMap::new(), &[]).is_loopback());
    }
}
