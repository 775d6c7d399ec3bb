//! The vendors' real sample payloads (the shared fixtures: Shopify's webhook examples, a Zendesk event, ShipBob's
//! spec examples) verify when signed in their vendor's scheme and parse into (id, type, payload), with 64-bit ids
//! exact: serde_json keeps an integer as `u64`/`i64` (never `f64`), so an id above 2^53 arrives whole. Outside CI a
//! missing fixtures folder is `SKIPPED:`; under `CI=true` it fails.

mod common;

use common::{fixtures, restore_shopify_ids};
use http::{HeaderMap, HeaderName, HeaderValue};
use seam_connectors::verify::{
    SourceKind, Verifier, parse_event, shipbob_signature, shopify_signature, zendesk_signature,
};
use serde_json::Value;

/// 2^53: above it, a double cannot hold every integer.
const EXACT_IN_F64: u64 = 1 << 53;

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.insert(HeaderName::from_bytes(name.as_bytes()).unwrap(), HeaderValue::from_str(value).unwrap());
    }
    map
}

/// Every (`id`, number of `admin_graphql_api_id`) pair in the tree, for objects that carry both as a number and a
/// plain gid.
fn id_pairs(value: &Value, out: &mut Vec<(Value, u64)>) {
    match value {
        Value::Object(map) => {
            if let (Some(id @ Value::Number(_)), Some(Value::String(gid))) =
                (map.get("id"), map.get("admin_graphql_api_id"))
                && let Some(number) = gid.rsplit('/').next().and_then(|n| n.parse::<u64>().ok())
                && gid.starts_with("gid://shopify/")
            {
                out.push((id.clone(), number));
            }
            map.values().for_each(|v| id_pairs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| id_pairs(v, out)),
        _ => {}
    }
}

#[test]
fn shopify_webhook_samples_parse_with_exact_64_bit_ids() {
    let Some(dir) = fixtures("shopify/webhooks") else { return };
    let verifier = Verifier::new(SourceKind::Shopify, ["shpss_fixture"]);
    let (mut files, mut big_ids, mut rounded_in_sample) = (0, 0, 0);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".payload.json"))
        .collect();
    names.sort();
    for name in names {
        let topic = name.trim_end_matches(".payload.json").replace("__", "/");
        let sample = std::fs::read_to_string(dir.join(&name)).unwrap();
        // As sampled, the collector's rounding shows: an id that is not its gid's number.
        let mut pairs = Vec::new();
        id_pairs(&serde_json::from_str(&sample).unwrap(), &mut pairs);
        rounded_in_sample += pairs.iter().filter(|(id, number)| id.as_u64() != Some(*number)).count();

        // As Shopify sends it (ids whole), signed over the exact bytes: it verifies and parses.
        let body = restore_shopify_ids(&sample);
        let webhook_id = format!("b54557e4-bdd9-4b37-8a5f-bf7d70bcd0{files:02}");
        let h = headers(&[
            ("X-Shopify-Hmac-Sha256", &shopify_signature(body.as_bytes(), "shpss_fixture")),
            ("X-Shopify-Topic", &topic),
            ("X-Shopify-Webhook-Id", &webhook_id),
            ("X-Shopify-Event-Id", "98880550-7158-44d4-b7cd-2c97c8a091b5"),
        ]);
        assert_eq!(verifier.verify(&h, body.as_bytes(), 0), Ok(()), "{name}");
        let event = parse_event(SourceKind::Shopify, &h, body.as_bytes()).expect(&name);
        assert_eq!(
            (event.id.as_str(), event.event_type.as_str()),
            (webhook_id.as_str(), topic.as_str()),
            "{name}"
        );

        let mut pairs = Vec::new();
        id_pairs(&event.payload, &mut pairs);
        for (id, number) in &pairs {
            assert_eq!(id.as_u64(), Some(*number), "{name}: {id} is not {number}");
            if *number > EXACT_IN_F64 {
                big_ids += 1;
                assert_ne!(id.as_f64().map(|f| f as u64), Some(*number), "{name}: {number} needs 64 bits");
            }
        }
        files += 1;
    }
    assert!(files >= 13, "{files} Shopify payloads");
    assert!(big_ids >= 10, "only {big_ids} ids above 2^53 were checked");
    assert!(rounded_in_sample > 0, "the samples' rounding is documented in SOURCE.txt; it should show");

    // The order itself: the exact id, and the gid that names it, agree.
    let order =
        restore_shopify_ids(&std::fs::read_to_string(dir.join("orders__create.payload.json")).unwrap());
    let h = headers(&[("X-Shopify-Topic", "orders/create"), ("X-Shopify-Webhook-Id", "w1")]);
    let event = parse_event(SourceKind::Shopify, &h, order.as_bytes()).unwrap();
    assert_eq!(event.payload["id"].as_u64(), Some(820_982_911_946_154_508));
    assert_eq!(event.payload["admin_graphql_api_id"], "gid://shopify/Order/820982911946154508");
    // inventory_levels/update names its item in the gid's query: that id is restored too.
    let level = restore_shopify_ids(
        &std::fs::read_to_string(dir.join("inventory_levels__update.payload.json")).unwrap(),
    );
    let event = parse_event(
        SourceKind::Shopify,
        &headers(&[("X-Shopify-Topic", "inventory_levels/update"), ("X-Shopify-Webhook-Id", "w2")]),
        level.as_bytes(),
    )
    .unwrap();
    assert_eq!(event.payload["inventory_item_id"].as_u64(), Some(271_878_346_596_884_015));
}

#[test]
fn the_zendesk_sample_keeps_64_bit_ids() {
    let Some(dir) = fixtures("helpdesk/zendesk") else { return };
    let sample = std::fs::read_to_string(dir.join("ticket.created.gata-router-fixture.json")).unwrap();
    // Zendesk's ids are 64-bit integers; make the sample's ticket and requester ones that need every bit.
    let body = sample
        .replace("\"id\": 24,", "\"id\": 9223372036854775807,")
        .replace("\"requester_id\": 1234,", "\"requester_id\": 18014398509481985,");
    assert_ne!(body, sample);
    let timestamp = "2022-11-22T22:11:22Z";
    let h = headers(&[
        ("X-Zendesk-Webhook-Signature", &zendesk_signature(timestamp, body.as_bytes(), "zsecret")),
        ("X-Zendesk-Webhook-Signature-Timestamp", timestamp),
    ]);
    assert_eq!(
        Verifier::new(SourceKind::Zendesk, ["zsecret"]).verify(&h, body.as_bytes(), 1_669_155_082),
        Ok(())
    );
    let event = parse_event(SourceKind::Zendesk, &h, body.as_bytes()).unwrap();
    assert_eq!(event.id, "de305d54-75b4-431b-adb2-eb6b9e546013");
    assert_eq!(event.event_type, "zen:event-type:ticket.created");
    assert_eq!(event.payload["detail"]["id"].as_u64(), Some(9_223_372_036_854_775_807));
    assert_eq!(event.payload["detail"]["requester_id"].as_u64(), Some(18_014_398_509_481_985));
    // Ids given as text (the sample mixes both) stay text.
    assert_eq!(event.payload["detail"]["assignee_id"], "4321");
}

#[test]
fn shipbob_examples_as_webhooks_parse_with_exact_ids() {
    let Some(dir) = fixtures("3pl/shipbob") else { return };
    let spec: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("shipbob-openapi-2026-01.json")).unwrap())
            .unwrap();
    let return_example = spec
        .pointer("/paths/~12026-01~1return~1{id}/get/responses/200/content/application~1json/example")
        .expect("the spec's return example")
        .to_string();
    let shipment = std::fs::read_to_string(dir.join("get_shipment_shipmentId.example.json")).unwrap();
    // ShipBob publishes no webhook bodies; its shipment and return objects are what the topics carry.
    let cases = [
        ("order.shipped", shipment.clone()),
        ("order.shipment.delivered", shipment),
        ("return.created", return_example),
    ];
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let verifier = Verifier::new(SourceKind::Shipbob, [secret]);
    for (n, (topic, example)) in cases.into_iter().enumerate() {
        // The examples' ids are placeholders (0); give the object one above 2^53.
        let mut object: Value = serde_json::from_str(&example).unwrap();
        object["id"] = Value::from(9_007_199_254_740_993_u64);
        let body = serde_json::to_string_pretty(&object).unwrap();
        assert!(body.contains("\"id\": 9007199254740993"), "{topic}");
        let id = format!("msg_2Q9xR{n}");
        let t = 1_767_225_600;
        let h = headers(&[
            ("webhook-id", &id),
            ("webhook-timestamp", &t.to_string()),
            ("webhook-signature", &shipbob_signature(&id, t, body.as_bytes(), secret).unwrap()),
            ("x-webhook-topic", topic),
        ]);
        assert_eq!(verifier.verify(&h, body.as_bytes(), t + 5), Ok(()), "{topic}");
        let event = parse_event(SourceKind::Shipbob, &h, body.as_bytes()).expect(topic);
        assert_eq!((event.id.as_str(), event.event_type.as_str()), (id.as_str(), topic));
        assert_eq!(event.payload["id"].as_u64(), Some(9_007_199_254_740_993), "{topic}");
    }
}
