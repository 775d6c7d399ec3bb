//! The workflows a server runs: the current version of each (from the workflow files), and every version ever
//! loaded (from the database), so a run stays pinned to the version it started on.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use seam_flow::{Workflow, parse_workflow};
use seam_store::Store;

#[derive(Debug, thiserror::Error)]
pub enum WorkflowsError {
    #[error("{path}: cannot read: {error}")]
    Read { path: String, error: std::io::Error },
    /// Every problem of every file, each `file:line: field: message`.
    #[error("{}", .0.join("\n"))]
    Invalid(Vec<String>),
    #[error(
        "{origin}: workflow {name} version {version} differs from the version {version} this database already ran \
         (first loaded from {stored_origin}); raise `version` when changing a workflow, so runs already started \
         keep the definition they started on"
    )]
    VersionChanged { name: String, version: u32, origin: String, stored_origin: String },
    #[error(
        "{origin}: workflow {name}, step {step}: no connector serves action {action:?}; available: {available}"
    )]
    UnknownAction { origin: String, name: String, step: String, action: String, available: String },
    #[error("workflow {name} is defined twice: {first} and {second}")]
    Duplicate { name: String, first: String, second: String },
    #[error("{0}")]
    Store(#[from] seam_store::StoreError),
}

/// One workflow file: where it came from, its text, its definition.
#[derive(Debug, Clone)]
pub struct WorkflowFile {
    pub origin: String,
    pub source: String,
    pub workflow: Workflow,
}

/// Reads workflow files and folders (`*.toml` inside, sorted), validating all of them and reporting every problem.
pub fn load_workflow_files(paths: &[PathBuf]) -> Result<Vec<WorkflowFile>, WorkflowsError> {
    let mut files: Vec<PathBuf> = Vec::new();
    for path in paths {
        if path.is_dir() {
            let entries = std::fs::read_dir(path)
                .map_err(|error| WorkflowsError::Read { path: path.display().to_string(), error })?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    let mut loaded = Vec::new();
    let mut problems = Vec::new();
    for file in files {
        let origin = file.display().to_string();
        let source = std::fs::read_to_string(&file)
            .map_err(|error| WorkflowsError::Read { path: origin.clone(), error })?;
        match parse_workflow(&origin, &source) {
            Ok(workflow) => loaded.push(WorkflowFile { origin, source, workflow }),
            Err(diagnostics) => problems.extend(diagnostics.iter().map(ToString::to_string)),
        }
    }
    if !problems.is_empty() {
        return Err(WorkflowsError::Invalid(problems));
    }
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for file in &loaded {
        if let Some(first) = seen.insert(&file.workflow.name, &file.origin) {
            return Err(WorkflowsError::Duplicate {
                name: file.workflow.name.clone(),
                first: first.to_owned(),
                second: file.origin.clone(),
            });
        }
    }
    Ok(loaded)
}

/// The loaded workflows.
#[derive(Debug, Default)]
pub struct Workflows {
    current: BTreeMap<String, Arc<Workflow>>,
    versions: HashMap<(String, u32), Arc<Workflow>>,
}

impl Workflows {
    /// Stores each file's version in the database (refusing a changed definition under an old version number),
    /// then loads every stored version for pinned runs.
    pub async fn register(
        store: &dyn Store,
        files: Vec<WorkflowFile>,
        now: i64,
    ) -> Result<Workflows, WorkflowsError> {
        for file in &files {
            let name = &file.workflow.name;
            let version = i64::from(file.workflow.version);
            if store.save_workflow(name, version, &file.source, &file.origin, now).await?.is_some() {
                let stored_origin = store
                    .workflows()
                    .await?
                    .into_iter()
                    .find(|(n, v, _, _)| n == name && *v == version)
                    .map_or_else(String::new, |(_, _, _, origin)| origin);
                return Err(WorkflowsError::VersionChanged {
                    name: name.clone(),
                    version: file.workflow.version,
                    origin: file.origin.clone(),
                    stored_origin,
                });
            }
        }
        let mut workflows = Workflows::default();
        for (name, version, source, origin) in store.workflows().await? {
            // A stored version that no longer parses (the format moved on) cannot serve its runs; say so loudly.
            match parse_workflow(&origin, &source) {
                Ok(workflow) => {
                    let version = u32::try_from(version).unwrap_or_default();
                    workflows.versions.insert((name, version), Arc::new(workflow));
                }
                Err(diagnostics) => tracing::error!(
                    workflow = %name, version, problems = %diagnostics.len(),
                    "a stored workflow version no longer parses; its runs cannot continue"
                ),
            }
        }
        for file in files {
            let workflow = Arc::new(file.workflow);
            workflows.versions.insert((workflow.name.clone(), workflow.version), workflow.clone());
            workflows.current.insert(workflow.name.clone(), workflow);
        }
        Ok(workflows)
    }

    /// Workflows without a database, for tests and `workflows check`.
    pub fn from_definitions(definitions: Vec<Workflow>) -> Workflows {
        let mut workflows = Workflows::default();
        for workflow in definitions {
            let workflow = Arc::new(workflow);
            workflows.versions.insert((workflow.name.clone(), workflow.version), workflow.clone());
            workflows.current.insert(workflow.name.clone(), workflow);
        }
        workflows
    }

    /// The version new runs start on, per workflow.
    pub fn current(&self) -> impl Iterator<Item = &Arc<Workflow>> {
        self.current.values()
    }

    /// Every version known, current or pinned by runs.
    pub fn all_versions(&self) -> impl Iterator<Item = &Arc<Workflow>> {
        self.versions.values()
    }

    /// The definition a run is pinned to.
    pub fn pinned(&self, name: &str, version: u32) -> Option<Arc<Workflow>> {
        self.versions.get(&(name.to_owned(), version)).cloned()
    }

    /// Every loaded version of workflows still current (older versions may have live runs).
    pub fn versions_of<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Arc<Workflow>> + 'a {
        self.versions.iter().filter(move |((n, _), _)| n == name).map(|(_, workflow)| workflow)
    }

    /// Whether any workflow starts on, cancels on or waits for this (source, type).
    pub fn listens_to(&self, source: &str, event_type: &str) -> bool {
        self.versions.values().any(|workflow| {
            let wants = |e: &seam_flow::EventType| e.source == source && e.name == event_type;
            workflow.trigger.events().any(|(event, _)| wants(event))
                || workflow.cancel_on.as_ref().is_some_and(|cancel| cancel.events.iter().any(wants))
                || workflow.steps.iter().any(|step| match &step.action {
                    seam_flow::Action::WaitFor(wait) => wants(&wait.event),
                    _ => false,
                })
        })
    }

    pub fn is_empty(&self) -> bool {
        self.current.is_empty()
    }

    pub fn names(&self) -> Vec<String> {
        self.current.keys().cloned().collect()
    }
}
