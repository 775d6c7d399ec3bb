//! Which sink each ledger's entries go to. A workflow's `record` step names its ledger (`finance`, `inventory`);
//! `[ledgers.NAME]` in `seam.toml` gives that ledger its own file or HTTP sink, `[ledger]` is the sink of every
//! ledger without its own, and without either each ledger gets its own file beside the database.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use seam_connectors::ledger::{FileSink, LedgerFormat, LedgerSink};

/// The sinks, by ledger name, with a default for names that have none.
#[derive(Default)]
pub struct Ledgers {
    named: BTreeMap<String, Arc<LedgerSink>>,
    default: Option<Arc<LedgerSink>>,
    /// Without a default sink: the default file, beside which a ledger no workflow named at start (a version
    /// loaded later, a workflow removed while its runs go on) gets its own `ledger-NAME.csv` when it first ships.
    fallback: Option<PathBuf>,
    opened: tokio::sync::Mutex<BTreeMap<String, Arc<LedgerSink>>>,
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
        Ledgers { default: Some(Arc::new(sink)), ..Ledgers::default() }
    }

    pub fn with_named(mut self, name: &str, sink: LedgerSink) -> Ledgers {
        self.named.insert(name.to_owned(), Arc::new(sink));
        self
    }

    pub fn with_default(mut self, sink: LedgerSink) -> Ledgers {
        self.default = Some(Arc::new(sink));
        self
    }

    /// The default file that unconfigured ledgers are named after (see [`default_file_for`]).
    pub fn with_fallback(mut self, default_file: PathBuf) -> Ledgers {
        self.fallback = Some(default_file);
        self
    }

    /// The sink for `ledger`: its own, else the default, else its own file beside the fallback (opened now);
    /// `None` when there is nowhere to write it.
    pub async fn sink_for(&self, ledger: &str) -> Option<Arc<LedgerSink>> {
        if let Some(sink) = self.named.get(ledger).or(self.default.as_ref()) {
            return Some(sink.clone());
        }
        let fallback = self.fallback.as_ref()?;
        let mut opened = self.opened.lock().await;
        if let Some(sink) = opened.get(ledger) {
            return Some(sink.clone());
        }
        let path = default_file_for(fallback, ledger);
        let format = if path.extension().is_some_and(|e| e == "csv") {
            LedgerFormat::Csv
        } else {
            LedgerFormat::JsonLines
        };
        match FileSink::open(&path, format).await {
            Ok(sink) => {
                let sink = Arc::new(LedgerSink::File(sink));
                opened.insert(ledger.to_owned(), sink.clone());
                Some(sink)
            }
            Err(error) => {
                tracing::warn!(%error, ledger, path = %path.display(), "cannot open a ledger's own file; will retry");
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.named.is_empty() && self.default.is_none() && self.fallback.is_none()
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
