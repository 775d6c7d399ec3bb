//! Seam's evidence core: what a brand's own exports and the engine's own records say, month by month.
//!
//! Two halves. **Imports** ([`read`], [`check`]): a Shopify orders export, a Shopify inventory export or a Stripe
//! payments export is recognised by its header, its columns are found by name, and each row becomes a typed record
//! ([`Order`], [`Payment`], [`StockLevel`]) or an [`ImportError`] naming the file, the line and the column.
//! **Measures** ([`measure`]): the store's counts and sums per calendar month in the brand's time zone become the
//! rates, averages, medians and money figures that `docs/evidence.md` defines, rendered by [`render`].
//!
//! What this crate must never do: any I/O beyond reading the `Read` it is given (no files, no clock, no database,
//! no environment; the import date and the time zone are arguments), guess a column by its position, or let a
//! record through that a check refused. Writing the records, all of a file in one transaction, is the store's job
//! (`seam_store::EvidenceStore`); opening files and showing progress is the binary's (`seam evidence`).

mod error;
pub mod maturity;
pub mod measure;
pub mod money;
mod read;
mod recognise;
mod record;
pub mod render;
pub mod time;

pub use error::{Column, ImportError};
pub use maturity::{HumanTouch, Volume, human_touch, maturity_of, weekly_hours};
pub use measure::{Figures, Measures, MissingRate, Options, measure};
pub use money::{Currency, Rate};
pub use read::{Records, Summary, check, read};
pub use recognise::Kind;
pub use record::{LineItem, Order, Outcome, Payment, Record, StockLevel};
pub use time::{Month, Months, time_zone};
