//! Cross-check of ShipBob's signatures against the Standard Webhooks reference library (PyPI `standardwebhooks`,
//! `Webhook.sign` and `Webhook.verify`), in both directions: Seam makes the same `v1,<base64>` the library makes and
//! accepts it, and the library accepts what Seam makes. `.ci/run` installs the package, so under `CI=true` a missing
//! `python3` or `standardwebhooks` fails the test; elsewhere the test says `SKIPPED:` and passes.

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use common::{fixtures, python};
use http::{HeaderMap, HeaderValue};
use seam_connectors::verify::{SourceKind, Verifier, VerifyError, shipbob_signature};
use serde_json::json;

const INSTALL: &str = "python3 -m pip install standardwebhooks";

/// Signs (`op: sign`) or verifies (`op: verify`) each JSON line with the reference library; exit status 3 when the
/// package is missing.
const SCRIPT: &str = r#"
import json, sys
try:
    from standardwebhooks.webhooks import Webhook
except ImportError:
    sys.exit(3)
from datetime import datetime, timezone
if sys.argv[1:2] == ["--version"]:
    import importlib.metadata
    print(importlib.metadata.version("standardwebhooks"))
    sys.exit(0)
out = []
for line in sys.stdin.buffer.read().decode("utf-8").splitlines():
    if not line.strip():
        continue
    r = json.loads(line)
    wh = Webhook(r["secret"])
    if r["op"] == "sign":
        out.append(wh.sign(r["id"], datetime.fromtimestamp(r["timestamp"], tz=timezone.utc), r["payload"]))
    else:
        try:
            wh.verify(r["payload"], r["headers"], json_parse=False)
            out.append("ok")
        except Exception as error:
            out.append("rejected: " + type(error).__name__)
sys.stdout.write("".join(item + "\n" for item in out))
"#;

fn headers(id: &str, timestamp: i64, signature: &str) -> HeaderMap {
    let mut map = HeaderMap::new();
    map.insert("webhook-id", HeaderValue::from_str(id).unwrap());
    map.insert("webhook-timestamp", HeaderValue::from_str(&timestamp.to_string()).unwrap());
    map.insert("webhook-signature", HeaderValue::from_str(signature).unwrap());
    map
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

#[test]
fn seam_agrees_with_the_standard_webhooks_reference_library() {
    let Some(version) = python(SCRIPT, &["--version"], "", INSTALL) else { return };
    println!("standardwebhooks (Python) {}", version.trim());

    let mut payloads: Vec<String> = vec![
        r#"{"test": 2432232314}"#.into(),
        r#"{"id":9007199254740993,"reference_id":"gid://shopify/Order/5000000000000000001","status":"Completed"}"#.into(),
        r#"{"recipient":{"name":"Zoë Ångström","note":"café ✓ — ¥1000 🎉 日本語"}}"#.into(),
        "{\r\n  \"id\": 1,\r\n\t\"quote\": \"a\\\"b\\\\c\"\r\n}\r\n".into(),
        String::new(),
        format!(r#"{{"filler":"{}"}}"#, "x€".repeat(20_000)),
    ];
    if let Some(dir) = fixtures("3pl/shipbob") {
        for file in ["get_order_orderId_shipment.example.json", "get_shipment_shipmentId.example.json"] {
            payloads.push(std::fs::read_to_string(dir.join(file)).expect(file));
        }
    }
    // ShipBob-style secrets: 24 random bytes, a short key without padding, and one without the prefix.
    let secrets =
        ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_YWJjZGU", "c2VhbS1zZWNyZXQta2V5LTAxMjM0NTY3ODk="];
    let ids = ["msg_p5jXN8AQM9LWM0D4loKWxJek", "4b1f2c3d-0000-4000-8000-000000000001", "msg_ünï"];
    let timestamps = [1_614_265_330_i64, 1_700_000_000, 4_102_444_800];

    let mut cases = Vec::new();
    let mut input = String::new();
    for (i, payload) in payloads.iter().enumerate() {
        for (j, secret) in secrets.iter().enumerate() {
            let (id, t) = (ids[(i + j) % ids.len()], timestamps[(i + j) % timestamps.len()]);
            input.push_str(
                &json!({ "op": "sign", "secret": secret, "id": id, "timestamp": t, "payload": payload })
                    .to_string(),
            );
            input.push('\n');
            cases.push((payload, *secret, id, t));
        }
    }
    let signed = python(SCRIPT, &[], &input, INSTALL).expect("the library ran for --version");
    let signed: Vec<&str> = signed.lines().collect();
    assert_eq!(signed.len(), cases.len());
    for ((payload, secret, id, t), signature) in cases.iter().zip(&signed) {
        let what = format!("payload of {} bytes, secret {secret}, id {id}, t={t}", payload.len());
        assert_eq!(
            shipbob_signature(id, *t, payload.as_bytes(), secret).as_deref(),
            Some(*signature),
            "{what}"
        );
        if !id.is_ascii() {
            // Seam reads headers as visible ASCII only, so such an id is refused as malformed; the signatures
            // themselves (over the UTF-8 bytes) still agreed above.
            continue;
        }
        let h = headers(id, *t, signature);
        let verifier = Verifier::new(SourceKind::Shipbob, ["whsec_cm90YXRlZCBvdXQ=", secret]);
        assert_eq!(verifier.verify(&h, payload.as_bytes(), t + 299), Ok(()), "{what}");
        assert!(
            matches!(verifier.verify(&h, payload.as_bytes(), t + 301), Err(VerifyError::Stale { .. })),
            "{what}"
        );
        let other = Verifier::new(SourceKind::Shipbob, ["whsec_b3RoZXI="]);
        assert_eq!(other.verify(&h, payload.as_bytes(), *t), Err(VerifyError::Mismatch), "{what}");
    }

    // The other way: what Seam signs now (one stale signature first, as during a secret rotation), the library
    // verifies; and a signature under another secret it rejects.
    let t = now();
    let mut input = String::new();
    for payload in &payloads {
        let good = shipbob_signature("msg_seam", t, payload.as_bytes(), secrets[0]).unwrap();
        let old = shipbob_signature("msg_seam", t, payload.as_bytes(), "whsec_b2xkIHNlY3JldA==").unwrap();
        for (signature, expected) in [(format!("{old} {good}"), "ok"), (old.clone(), "rejected")] {
            let headers = json!({ "webhook-id": "msg_seam", "webhook-timestamp": t.to_string(), "webhook-signature": signature });
            input.push_str(
                &json!({ "op": "verify", "secret": secrets[0], "payload": payload, "headers": headers,
                                    "expected": expected })
                .to_string(),
            );
            input.push('\n');
        }
    }
    let verdicts = python(SCRIPT, &[], &input, INSTALL).expect("the library ran for --version");
    let verdicts: Vec<&str> = verdicts.lines().collect();
    assert_eq!(verdicts.len(), payloads.len() * 2);
    for (n, verdict) in verdicts.iter().enumerate() {
        if n % 2 == 0 {
            assert_eq!(*verdict, "ok", "payload {}", n / 2);
        } else {
            assert!(verdict.starts_with("rejected"), "payload {}: {verdict}", n / 2);
        }
    }
}
