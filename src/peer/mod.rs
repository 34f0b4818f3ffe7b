//! Node-to-node traffic (`--listen-addr`): one mutual-TLS listener per manager serving Raft,
//! forwarded writes, joins and agent sessions, and the client every node dials managers with.
//!
//! - [`server`]: the TLS accept loop; each request carries the caller's certificate identity as
//!   a [`Caller`] extension, and [`require`] turns away callers without the role a route needs;
//! - [`client`]: [`PeerClient`], an HTTPS client presenting this node's certificate and trusting
//!   only the cluster's managers;
//! - [`forward`]: writes and membership changes sent to a follower travel to the leader;
//! - [`join`]: both sides of `swarmd join` (the joiner pins the CA by the token's digest before
//!   it sends anything; a manager checks the token and signs the joiner's CSR).

pub mod client;
pub mod forward;
pub mod join;
pub mod server;

pub use client::PeerClient;
pub use server::{Caller, require, serve};

/// An error with its causes, `outer: inner: root` (reqwest's own message hides the TLS or
/// connect failure underneath).
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let message = cause.to_string();
        if !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        source = cause.source();
    }
    text
}
