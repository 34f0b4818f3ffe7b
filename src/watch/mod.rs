//! GitOps: `swarmd up --watch DIR` keeps the cluster equal to the stack files in DIR.
//!
//! Each `*.yml`/`*.yaml` directly in DIR is one stack, named after the file (`shop.yml` → stack
//! `shop`). On start and on every change (debounced) a changed file is loaded and applied with
//! pruning on, as Flux or Argo CD do: the files are the source of truth, and an edit that removes
//! a service removes it. A file that no longer validates changes nothing; its error is recorded on
//! the stack (`swarmctl stack ls`) and the previous state stays. A deleted file deletes its stack.
//! Objects of a watched stack refuse changes through the API/CLI with a message naming the file
//! (see `crate::apply`): there is one writer per stack. That lasts while the watcher runs: it
//! claims the stacks of its files and releases them when it stops (see `crate::apply::claim`).

pub mod scan;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use model::StackSource;
use notify::{RecursiveMode, Watcher as _};
use tokio::sync::mpsc;

use crate::apply::{self, ApplyRequest, Claim, Owner};
use crate::manifest::{self, LoadOptions};
use crate::store::Store;

/// Quiet time after the last file event before a sync: editors write files in several steps.
pub const DEBOUNCE: Duration = Duration::from_millis(300);
/// A full resync also runs this often, to retry applies that failed (no leader yet, conflict).
pub const RESYNC: Duration = Duration::from_secs(30);

/// Why the watcher could not start.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("cannot watch {dir}: {source}")]
    Notify {
        dir: String,
        #[source]
        source: notify::Error,
    },
    #[error("cannot read {dir}: {source}")]
    Read {
        dir: String,
        #[source]
        source: std::io::Error,
    },
}

/// Follows `dir` for node `node` until `shutdown` resolves, then releases its claims.
pub async fn run(
    store: Store,
    dir: PathBuf,
    node: u64,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), WatchError> {
    let dir = dir.canonicalize().map_err(|source| WatchError::Read {
        dir: dir.display().to_string(),
        source,
    })?;
    let claim = Claim {
        node,
        dir: dir.display().to_string(),
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut watcher = notify::recommended_watcher(move |event| {
        // The receiver only needs to know that something happened; a sync rescans the directory.
        let _ = tx.send(event);
    })
    .map_err(|source| WatchError::Notify {
        dir: dir.display().to_string(),
        source,
    })?;
    watcher
        .watch(&dir, RecursiveMode::NonRecursive)
        .map_err(|source| WatchError::Notify {
            dir: dir.display().to_string(),
            source,
        })?;
    let mut state = WatchState::new(claim.clone());
    state.sync(&store, &dir).await;
    tokio::pin!(shutdown);
    let mut resync = tokio::time::interval(RESYNC);
    resync.tick().await;
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            _ = resync.tick() => state.sync(&store, &dir).await,
            event = rx.recv() => {
                if event.is_none() {
                    break;
                }
                while let Ok(Some(_)) = tokio::time::timeout(DEBOUNCE, rx.recv()).await {}
                state.sync(&store, &dir).await;
            }
        }
    }
    // Nobody follows the files any more: the CLI may manage their stacks until a watcher of
    // this directory starts again (and takes them back).
    release(&store, "watcher stopped", |c| *c == claim).await;
    Ok(())
}

/// At a daemon's start, before its watcher (if any) runs: releases the claims of node `node`
/// that are not for `watching`, the directory its watcher is about to follow. They were left by
/// a watcher that did not stop cleanly (`kill -9`, a crash) and is not coming back.
pub async fn release_stale_claims(store: &Store, node: u64, watching: Option<&Path>) {
    let watching = watching
        .and_then(|dir| dir.canonicalize().ok())
        .map(|dir| dir.display().to_string());
    release(store, "no watcher for them on this node", |c| {
        c.node == node && Some(&c.dir) != watching.as_ref()
    })
    .await;
}

async fn release(store: &Store, why: &str, which: impl Fn(&Claim) -> bool) {
    match apply::release_claims(store, which).await {
        Ok(0) => {}
        Ok(released) => tracing::info!(released, why, "released watched stacks to the CLI"),
        Err(err) => tracing::warn!(%err, why, "cannot release watched stacks"),
    }
}

/// What the watcher has already acted on, per file: the content hash it applied (or found
/// invalid), so unchanged files are not re-applied; and the claim it applies with.
pub struct WatchState {
    claim: Claim,
    done: BTreeMap<PathBuf, String>,
}

impl WatchState {
    /// A watcher that has applied nothing yet and writes with `claim`.
    pub fn new(claim: Claim) -> WatchState {
        WatchState {
            claim,
            done: BTreeMap::new(),
        }
    }

    /// Brings the cluster in line with the directory once.
    pub async fn sync(&mut self, store: &Store, dir: &Path) {
        let files = match scan::scan(dir) {
            Ok(files) => files,
            Err(err) => {
                tracing::warn!(dir = %dir.display(), %err, "cannot read watched directory");
                return;
            }
        };
        let commit = scan::git_commit(dir);
        for (path, seen) in &files {
            if seen.hash.is_some() && self.done.get(path) == seen.hash.as_ref() {
                continue;
            }
            if self.sync_file(store, dir, path, seen, commit.clone()).await
                && let Some(hash) = &seen.hash
            {
                self.done.insert(path.clone(), hash.clone());
            }
        }
        for path in apply::watched_files(store, dir) {
            if files.contains_key(&path) {
                continue;
            }
            let stack = scan::stack_for(&path);
            match apply::delete_stack(store, &stack, &self.owner(&path)).await {
                Ok(_) => {
                    tracing::info!(stack, file = %path.display(), "stack file deleted: stack removed");
                    self.done.remove(&path);
                }
                Err(err) => {
                    tracing::warn!(stack, %err, "cannot remove the stack of a deleted file")
                }
            }
        }
    }

    fn owner(&self, path: &Path) -> Owner {
        Owner::Watcher {
            file: path.display().to_string(),
            claim: self.claim.clone(),
        }
    }

    /// Applies one file; returns whether it is settled (applied, or invalid as written).
    async fn sync_file(
        &mut self,
        store: &Store,
        dir: &Path,
        path: &Path,
        seen: &scan::Seen,
        git_commit: Option<String>,
    ) -> bool {
        let stack = scan::stack_for(path);
        let source = StackSource {
            files: vec![path.display().to_string()],
            content_hash: seen.hash.clone(),
            git_commit,
        };
        let owner = self.owner(path);
        let text = match &seen.text {
            Ok(text) => text,
            Err(message) => {
                let error = format!("{}: {message}", path.display());
                return record(store, &stack, source, &owner, error).await;
            }
        };
        let options = LoadOptions {
            stack: Some(stack.clone()),
            inline_files: true,
            env: std::env::vars().collect(),
            ..LoadOptions::default()
        };
        let loaded = manifest::load_text(&path.display().to_string(), text, dir, &options);
        if !loaded.is_valid() {
            let errors: Vec<String> = loaded
                .reports
                .iter()
                .flat_map(|r| r.errors.iter().map(ToString::to_string))
                .collect();
            return record(store, &stack, source, &owner, errors.join("\n")).await;
        }
        let request = ApplyRequest {
            stack: stack.clone(),
            manifests: loaded.manifests,
            source,
            dry_run: false,
            prune: true,
            owner,
        };
        match apply::apply(store, request).await {
            Ok(outcome) => {
                tracing::info!(stack, file = %path.display(), changes = outcome.plan.changed(), "applied watched file");
                true
            }
            Err(err) => {
                tracing::warn!(stack, file = %path.display(), %err, "applying watched file failed");
                let source = StackSource {
                    files: vec![path.display().to_string()],
                    content_hash: seen.hash.clone(),
                    git_commit: None,
                };
                record(store, &stack, source, &self.owner(path), err.to_string()).await;
                false
            }
        }
    }
}

/// Records a refusal on the stack; the stack's objects stay as they were.
async fn record(
    store: &Store,
    stack: &str,
    source: StackSource,
    owner: &Owner,
    error: String,
) -> bool {
    tracing::warn!(stack, %error, "watched file refused");
    match apply::record_stack_error(store, stack, source, owner, error).await {
        Ok(()) => true,
        Err(err) => {
            tracing::warn!(stack, %err, "cannot record the stack error; will retry");
            false
        }
    }
}
