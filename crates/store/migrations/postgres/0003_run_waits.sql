-- Runs waiting for an event that names something other than their key (a restock of SKU X for the runs of every
-- order short on X): one row per value a waiting run expects, kept while it waits, so routing finds them.
CREATE TABLE run_waits (
    workflow TEXT NOT NULL,
    event    TEXT NOT NULL,
    value    TEXT NOT NULL,
    run_id   TEXT NOT NULL,
    PRIMARY KEY (workflow, event, value, run_id)
);
CREATE INDEX run_waits_run ON run_waits (run_id);
