//! Durable intake with group commit. Webhook handlers hand verified events to one writer task, which stores
//! whatever has queued up in a single transaction and only then answers each handler. Under load many events
//! share one commit (and one fsync); at rest each event is its own commit. Either way the answer comes after the
//! commit, so an acknowledged event is on disk.

use std::sync::Arc;

use seam_store::{Inserted, NewEvent, Store};
use tokio::sync::{Notify, mpsc, oneshot};

/// The most events one commit carries.
const MAX_BATCH: usize = 512;

type Reply = oneshot::Sender<Result<Inserted, String>>;

/// A handle to the writer task; cheap to clone.
#[derive(Debug, Clone)]
pub struct Intake {
    queue: mpsc::Sender<(NewEvent, Reply)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntakeOutcome {
    /// Stored now, with this sequence number.
    Stored(i64),
    /// (source, event id) was stored before.
    Duplicate,
}

impl Intake {
    /// Starts the writer. `stored` is notified after each commit that stored something new.
    pub fn start(store: Arc<dyn Store>, stored: Arc<Notify>) -> (Intake, tokio::task::JoinHandle<()>) {
        let (queue, mut incoming) = mpsc::channel::<(NewEvent, Reply)>(4 * MAX_BATCH);
        let task = tokio::spawn(async move {
            let mut batch: Vec<(NewEvent, Reply)> = Vec::with_capacity(MAX_BATCH);
            while let Some(first) = incoming.recv().await {
                batch.push(first);
                while batch.len() < MAX_BATCH {
                    match incoming.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                let events: Vec<NewEvent> = batch.iter().map(|(event, _)| event.clone()).collect();
                match store.insert_events(&events).await {
                    Ok(results) => {
                        let any_new = results.iter().any(|r| matches!(r, Inserted::New(_)));
                        for ((_, reply), result) in batch.drain(..).zip(results) {
                            let _ = reply.send(Ok(result));
                        }
                        if any_new {
                            stored.notify_one();
                        }
                    }
                    Err(error) => {
                        tracing::error!(%error, events = events.len(), "storing webhook events failed");
                        let message = error.to_string();
                        for (_, reply) in batch.drain(..) {
                            let _ = reply.send(Err(message.clone()));
                        }
                    }
                }
            }
        });
        (Intake { queue }, task)
    }

    /// Stores one event durably; returns once it is committed (or was already stored).
    pub async fn submit(&self, event: NewEvent) -> Result<IntakeOutcome, String> {
        let (reply, answer) = oneshot::channel();
        self.queue.send((event, reply)).await.map_err(|_| "the intake writer has stopped".to_owned())?;
        match answer.await.map_err(|_| "the intake writer has stopped".to_owned())?? {
            Inserted::New(seq) => Ok(IntakeOutcome::Stored(seq)),
            Inserted::Duplicate => Ok(IntakeOutcome::Duplicate),
        }
    }
}
