//! Which sink each ledger's entries go to. A workflow's `record` step names its ledger (`finance`, `inventory`);
//! `[ledgers.NAME]` in `seam.toml` gives that ledger its own file or HTTP sink, `[ledger]` is the sink of every
//! ledger without its own, and without either each ledger gets its own file beside the database.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use seam_connectors::ledger::LedgerSink;

/// The sinks, by ledger name, with a default for names that have none.
#[derive(Default)]
pub struct Ledgers {
    named: BTreeMap<String, Arc<LedgerSink>>,
    default: Option<Arc<LedgerSink>>,
}

impl std::fmt::Debug for Ledgers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledgers")
            .field("named", &self.named.keys().collect::<Vec<_>>())
            .field("default", &self.default.is_some())
            .finish()
    }
}

impl Ledgers {
    /// No sink at all: entries stay in the database (the API still shows them).
    pub fn none() -> Ledgers {
        Ledgers::default()
    }

    /// One sink for every ledger.
    pub fn single(sink: LedgerSink) -> Ledgers {
        Ledgers { named: BTreeMap::new(), default: Some(Arc::new(sink)) }
    }

    pub fn with_named(mut self, name: &str, sink: LedgerSink) -> Ledgers {
        self.named.insert(name.to_owned(), Arc::new(sink));
        self
    }

    pub fn with_default(mut self, sink: LedgerSink) -> Ledgers {
        self.default = Some(Arc::new(sink));
        self
    }

    /// The sink for `ledger`: its own, else the default.
    pub fn sink_for(&self, ledger: &str) -> Option<&Arc<LedgerSink>> {
        self.named.get(ledger).or(self.default.as_ref())
    }

    pub fn is_empty(&self) -> bool {
        self.named.is_empty() && self.default.is_none()
    }
}

/// The file a ledger gets when nothing configures it: `finance` (the first ledger Seam had) keeps `default`
/// (`ledger.csv` beside the database); any other name gets `ledger-NAME.csv` beside it.
pub fn default_file_for(default: &Path, ledger: &str) -> PathBuf {
    if ledger == "finance" {
        return default.to_path_buf();
    }
    let folder = default.parent().unwrap_or(Path::new("."));
    let extension = default.extension().and_then(|ext| ext.to_str()).unwrap_or("csv");
    folder.join(format!("ledger-{ledger}.{extension}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_ledger_gets_its_own_default_file() {
        let default = Path::new("/var/lib/seam/ledger.csv");
        assert_eq!(default_file_for(default, "finance"), PathBuf::from("/var/lib/seam/ledger.csv"));
        assert_eq!(
            default_file_for(default, "inventory"),
            PathBuf::from("/var/lib/seam/ledger-inventory.csv")
        );
    }
}
