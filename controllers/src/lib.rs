//! Pure decision logic for swarm's controllers: `reconcile(desired, view, now) -> Vec<Action>`.
//!
//! Empty until the controllers issue: it exists now so the workspace has its final shape and the
//! `model` types are designed for it.
