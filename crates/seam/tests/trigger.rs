//! `seam trigger SOURCE EVENT` for every source and event it knows: each sample is signed in its vendor's scheme
//! with that source's secret, and a running `seam serve` verifies and accepts it (no playbook runs here, so every
//! event is stored as unmatched; what matters is that the signature and the event's identity are right).

mod common;
#[path = "common/process.rs"]
mod process;

use common::World;
use process::{Process, free_port};

const SECRETS: &[(&str, &str)] = &[
    ("SEAM_STRIPE_WEBHOOK_SECRET", "whsec_trigger_stripe"),
    ("SEAM_SHOPIFY_WEBHOOK_SECRET", "shpss_trigger_shopify"),
    ("SEAM_ZENDESK_WEBHOOK_SECRET", "zendesk_trigger_secret"),
    ("SEAM_GORGIAS_WEBHOOK_SECRET", "gorgias-trigger-token-0123456789abcdef"),
    ("SEAM_SHIPBOB_WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
];

const EVENTS: &[(&str, &str, &str)] = &[
    ("stripe", "invoice.payment_failed", "invoice.payment_failed"),
    ("stripe", "invoice.paid", "invoice.paid"),
    ("stripe", "checkout.session.completed", "checkout.session.completed"),
    ("shopify", "orders/create", "orders/create"),
    ("shopify", "inventory_levels/update", "inventory_levels/update"),
    ("zendesk", "ticket.created", "zen:event-type:ticket.created"),
    ("gorgias", "ticket-created", "ticket-created"),
    ("shipbob", "order.shipped", "order.shipped"),
    ("shipbob", "order.shipment.delivered", "order.shipment.delivered"),
    ("shipbob", "return.created", "return.created"),
];

#[test]
fn every_source_s_sample_is_signed_so_seam_accepts_it() {
    let world = World::new();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let db = format!("sqlite:{}", world.path("seam.db").display());
    let mut serve = Process::start(world.dir.path(), &["serve", "--listen", &listen, "--db", &db], SECRETS);
    serve.wait_until_answering(&format!("http://{listen}/healthz"));
    for (source, event, vendor_type) in EVENTS {
        let to = format!("http://{listen}/webhooks/{source}");
        let run = world.seam_with_env(&["trigger", source, event, "--to", &to], SECRETS);
        assert_eq!(run.code, 0, "{source} {event}\nstdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
        assert!(run.stdout.contains("answer: 200"), "{source} {event}: {}", run.stdout);
        assert!(
            run.stdout.contains(&format!("\"type\":\"{vendor_type}\"")),
            "{source} {event}: {}",
            run.stdout
        );
    }
    // A wrong secret is refused by Seam, and trigger says so with exit 1.
    let to = format!("http://{listen}/webhooks/shopify");
    let run =
        world.seam_with_env(&["trigger", "shopify", "orders/create", "--to", &to, "--secret", "wrong"], &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("400"), "{run:?}");
    // An event a source does not have names the ones it does.
    let run = world.seam_with_env(&["trigger", "shipbob", "order.exploded"], SECRETS);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("order.shipped"), "{run:?}");
    serve.stop();
}
