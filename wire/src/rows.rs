//! Rows of the `ls` and `ps` listings: flat objects whose keys are the table's columns in
//! snake_case (times as RFC 3339 text in `*_at` keys). `-o json` prints these; `inspect -o json`
//! prints the whole object ([`Record`](crate::Record)).

use std::collections::BTreeMap;

use model::{StackSource, TaskState, Timestamp};
use serde::{Deserialize, Serialize};

use crate::Claim;

/// Desired and running task counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replicas {
    pub desired: u64,
    pub running: u64,
}

/// One row of `service ls`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceRow {
    pub id: String,
    pub name: String,
    pub stack: Option<String>,
    pub mode: String,
    pub image: Option<String>,
    pub replicas: Replicas,
    /// Published ports as `8080:80/tcp` (`80/tcp` when not published).
    pub ports: Vec<String>,
    /// The rolling update's state, once the update controller has written one.
    pub update_state: Option<String>,
}

/// One task as `ps` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRow {
    pub id: String,
    /// `web.1` (replicated) or `web.<node hostname>` (global).
    pub name: String,
    pub service: String,
    pub slot: Option<u64>,
    /// The hostname of the node the task is on, once scheduled.
    pub node: Option<String>,
    pub desired_state: TaskState,
    pub state: TaskState,
    /// Why it failed, or why it is still pending (the scheduler's explanation).
    pub error: Option<String>,
    pub container_id: Option<String>,
    pub image: Option<String>,
    /// When the state last changed (the table's "Running 2 minutes ago"); not in the JSON.
    #[serde(skip)]
    pub since: Timestamp,
    /// An earlier task of the same slot (the table's `\_ web.1`); not in the JSON.
    #[serde(skip)]
    pub history: bool,
}

/// One row of `node ls`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeRow {
    pub id: String,
    pub hostname: String,
    /// `manager` or `worker`.
    pub role: String,
    /// `ready`, `down`, `disconnected` or `unknown` (the dispatcher's view).
    pub status: String,
    /// `active`, `pause` or `drain`.
    pub availability: String,
    /// Managers only: `leader`, `reachable` or `unreachable`.
    pub manager_status: Option<String>,
    pub labels: BTreeMap<String, String>,
}

/// One row of `stack ls`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StackRow {
    pub name: String,
    /// Number of services.
    pub services: usize,
    pub source: StackSource,
    /// When it was last applied, as RFC 3339 text (UTC).
    #[serde(with = "rfc3339")]
    pub applied_at: Option<Timestamp>,
    /// `applied`, `error` (the last apply was refused) or `pending` (never applied).
    pub status: String,
    pub error: Option<String>,
    /// The file a GitOps watcher applied it from; kept when that watcher stops.
    pub watched_file: Option<String>,
    /// The running watcher that owns it; `None`: the CLI may change or remove it.
    pub watcher: Option<Claim>,
}

/// One row of `secret ls` or `config ls` (the content is never listed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataRow {
    pub id: String,
    pub name: String,
    pub stack: Option<String>,
    /// sha256 (hex) of the content; the table shows its first 12 characters.
    pub hash: Option<String>,
    #[serde(with = "rfc3339")]
    pub created_at: Option<Timestamp>,
    #[serde(with = "rfc3339")]
    pub updated_at: Option<Timestamp>,
}

/// One row of `network ls`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetworkRow {
    pub id: String,
    pub name: String,
    pub stack: Option<String>,
    pub driver: Option<String>,
}

/// An optional [`Timestamp`] as RFC 3339 text; epoch milliseconds are read back too.
mod rfc3339 {
    use model::Timestamp;
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &Option<Timestamp>, out: S) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => out.serialize_some(&at.to_rfc3339()),
            None => out.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(input: D) -> Result<Option<Timestamp>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Millis(i64),
            Text(String),
        }
        match Option::<Raw>::deserialize(input)? {
            None => Ok(None),
            Some(Raw::Millis(millis)) => Ok(Some(Timestamp(millis))),
            Some(Raw::Text(text)) => Timestamp::parse_rfc3339(&text)
                .map(Some)
                .ok_or_else(|| D::Error::custom(format!("`{text}` is not an RFC 3339 time"))),
        }
    }
}
