-- Evidence (issue 11), SQLite dialect: what a brand's own exports say, imported by `seam evidence import`
-- and measured by `seam evidence show`. Only evidence writes these tables, and evidence writes no other: the
-- engine's tables are read to measure, never changed. Times are Unix seconds; money is in minor units of the row's
-- own currency.

-- One row per imported file, written in the import's own transaction (a refused file leaves no row).
CREATE TABLE evidence_imports (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT    NOT NULL, -- shopify_orders | shopify_inventory | stripe_payments
    file            TEXT    NOT NULL, -- the path as given
    imported_at     INTEGER NOT NULL,
    seen_at         INTEGER,          -- the newest time in the file: the export was taken at or after it
    as_of           TEXT,             -- an inventory snapshot's date, YYYY-MM-DD
    data_rows       INTEGER NOT NULL, -- rows under the header (an order's continuation rows included)
    records         INTEGER NOT NULL, -- orders, payments or stock rows in the file
    new_records     INTEGER NOT NULL DEFAULT 0, -- of which the database did not have before
    updated_records INTEGER NOT NULL DEFAULT 0, -- of which replaced an older export's copy
    currency        TEXT,             -- the currency most of the file's records are in
    currencies      TEXT    NOT NULL  -- every currency in the file, space-separated
);

-- A Shopify order, once, however many exports it was in: keyed by its id (`id:<Id>`), or by its name
-- (`name:<Name>`) when an export had no id. A later export's copy replaces an earlier one's (`seen_at`).
CREATE TABLE evidence_orders (
    order_key          TEXT    PRIMARY KEY,
    shopify_id         TEXT,
    name               TEXT    NOT NULL,
    created_at         INTEGER NOT NULL,
    created_offset     INTEGER NOT NULL, -- seconds east of UTC, as exported
    currency           TEXT    NOT NULL,
    total_minor        INTEGER NOT NULL,
    refunded_minor     INTEGER NOT NULL,
    financial_status   TEXT    NOT NULL,
    fulfillment_status TEXT    NOT NULL,
    refunded           INTEGER NOT NULL, -- 1: refunded in full or in part
    unfulfilled        INTEGER NOT NULL, -- 1: not (fully) fulfilled when exported
    paid_at            INTEGER,
    fulfilled_at       INTEGER,
    cancelled_at       INTEGER,
    seen_at            INTEGER NOT NULL, -- the export's newest time
    import_id          INTEGER NOT NULL REFERENCES evidence_imports (id)
);
CREATE INDEX evidence_orders_created ON evidence_orders (created_at);
CREATE INDEX evidence_orders_name ON evidence_orders (name);
CREATE INDEX evidence_orders_shopify_id ON evidence_orders (shopify_id);

-- An order's line items, as its latest export listed them.
CREATE TABLE evidence_order_lines (
    order_key          TEXT    NOT NULL,
    position           INTEGER NOT NULL, -- 0 for the order's first row
    name               TEXT    NOT NULL,
    sku                TEXT,
    quantity           INTEGER NOT NULL,
    price_minor        INTEGER,
    fulfillment_status TEXT,
    PRIMARY KEY (order_key, position)
);

-- A Stripe payment (a charge, or a PaymentIntent without one), keyed by its id, else by
-- `pi:<PaymentIntent ID>@<created>`.
CREATE TABLE evidence_payments (
    payment_key     TEXT    PRIMARY KEY,
    charge_id       TEXT,
    payment_intent  TEXT,
    invoice         TEXT,
    customer        TEXT,
    created_at      INTEGER NOT NULL,
    refunded_at     INTEGER,
    amount_minor    INTEGER NOT NULL,
    refunded_minor  INTEGER NOT NULL,
    currency        TEXT    NOT NULL,
    status          TEXT    NOT NULL, -- as exported
    outcome         TEXT    NOT NULL, -- paid | failed | other
    decline_reason  TEXT,
    description     TEXT,
    seen_at         INTEGER NOT NULL,
    import_id       INTEGER NOT NULL REFERENCES evidence_imports (id)
);
CREATE INDEX evidence_payments_created ON evidence_payments (created_at);
CREATE INDEX evidence_payments_intent ON evidence_payments (payment_intent);
CREATE INDEX evidence_payments_invoice ON evidence_payments (invoice);

-- Inventory snapshots: a variant's stock at a location on a date. Importing a date's export again replaces that
-- date's rows for the export's locations.
CREATE TABLE evidence_stock (
    as_of      TEXT    NOT NULL, -- YYYY-MM-DD
    location   TEXT    NOT NULL,
    variant    TEXT    NOT NULL, -- the handle and the option values
    handle     TEXT    NOT NULL,
    sku        TEXT,
    sku_key    TEXT    NOT NULL, -- the SKU, else the variant
    title      TEXT,
    available  INTEGER,          -- NULL: not stocked at this location
    on_hand    INTEGER,
    import_id  INTEGER NOT NULL REFERENCES evidence_imports (id),
    PRIMARY KEY (as_of, location, variant)
);
