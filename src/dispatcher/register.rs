//! A node's record when its agent (re)connects: found by the node id its certificate states,
//! created on first contact, and marked ready, all in one Raft write.

use model::{Kind, NodeRole, NodeSpec, NodeState, NodeStatus, ObjectMeta};
use wire::OpenSession;

use crate::store::{Command, Executed, Index, Op, Rejection, Store, StoreError};

/// Why a node could not be registered or marked ready.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("node {node_id} cannot be marked ready: {rejection}")]
    Rejected {
        node_id: String,
        rejection: Rejection,
    },
    #[error(
        "the node name `{name}` is taken by another node ({holder}); start this node with another --node-name"
    )]
    NameTaken { name: String, holder: String },
    #[error("cannot encode the status of node {0}")]
    Encode(String),
}

/// Writes node `record_id` ready with what `description` says, stamped now.
pub async fn mark_ready(
    store: &Store,
    record_id: &str,
    description: &NodeStatus,
) -> Result<(), RegisterError> {
    let now = store.clock().now();
    let status = ready(description.clone(), now);
    let status =
        serde_json::to_value(status).map_err(|_| RegisterError::Encode(record_id.to_owned()))?;
    let op = Op::SetStatus {
        kind: Kind::Node,
        id: record_id.to_owned(),
        expected_version: None,
        status,
    };
    match store
        .propose(Command {
            at: now,
            ops: vec![op],
        })
        .await?
    {
        Executed::Ok { .. } => Ok(()),
        Executed::Rejected(rejection) => Err(RegisterError::Rejected {
            node_id: record_id.to_owned(),
            rejection,
        }),
    }
}

/// Registers the node whose certificate says `node_id` (with `role`) from its `open`, and marks
/// it ready; returns its record id. The record is the one whose status carries that node id,
/// else the one named `open.node_name` if no other node claimed it (a manager's own record,
/// made at its first start), else a new one.
pub async fn open_session(
    store: &Store,
    node_id: &str,
    role: NodeRole,
    open: &OpenSession,
) -> Result<String, RegisterError> {
    let description = NodeStatus {
        hostname: open.node_name.clone(),
        node_id: node_id.to_owned(),
        addr: open.advertise_addr.clone(),
        ..open.description.clone()
    };
    // Twice: a concurrent open of the same new node makes the first create lose the race.
    for _ in 0..2 {
        let found = store.read(|index| find(index, node_id, &open.node_name));
        match found {
            Found::Record(id) => {
                mark_ready(store, &id, &description).await?;
                return Ok(id);
            }
            Found::Taken(holder) => {
                return Err(RegisterError::NameTaken {
                    name: open.node_name.clone(),
                    holder,
                });
            }
            Found::None => {}
        }
        let now = store.clock().now();
        let status = serde_json::to_value(ready(description.clone(), now))
            .map_err(|_| RegisterError::Encode(node_id.to_owned()))?;
        let spec = serde_json::to_value(NodeSpec {
            role,
            ..NodeSpec::default()
        })
        .map_err(|_| RegisterError::Encode(node_id.to_owned()))?;
        let op = Op::Create {
            kind: Kind::Node,
            metadata: ObjectMeta {
                name: open.node_name.clone(),
                labels: Default::default(),
                stack: None,
            },
            spec,
            status,
        };
        match store
            .propose(Command {
                at: now,
                ops: vec![op],
            })
            .await?
        {
            Executed::Ok { ids, .. } if !ids.is_empty() => return Ok(ids[0].clone()),
            Executed::Ok { .. } => {}
            Executed::Rejected(Rejection::AlreadyExists { .. }) => continue,
            Executed::Rejected(rejection) => {
                return Err(RegisterError::Rejected {
                    node_id: node_id.to_owned(),
                    rejection,
                });
            }
        }
    }
    Err(RegisterError::NameTaken {
        name: open.node_name.clone(),
        holder: "a node registering at the same time".into(),
    })
}

/// Where a connecting node's record is.
enum Found {
    Record(String),
    /// The name belongs to another node (its id).
    Taken(String),
    None,
}

fn find(index: &Index, node_id: &str, name: &str) -> Found {
    let holder = |record: &crate::store::Record| {
        record
            .status_as::<NodeStatus>()
            .map(|status| status.node_id)
            .unwrap_or_default()
    };
    // The usual case, by name (indexed): the node's own record, or one made for it unclaimed.
    let named = index.find(Kind::Node, None, name);
    if let Some(record) = named {
        let claimed_by = holder(record);
        if claimed_by.is_empty() || claimed_by == node_id {
            return Found::Record(record.id.clone());
        }
    }
    // A node that changed its name keeps its record: found by the node id it holds.
    if let Some(record) = index
        .list(Kind::Node)
        .into_iter()
        .find(|record| holder(record) == node_id)
    {
        return Found::Record(record.id.clone());
    }
    match named {
        Some(record) => Found::Taken(holder(record)),
        None => Found::None,
    }
}

fn ready(description: NodeStatus, now: model::Timestamp) -> NodeStatus {
    NodeStatus {
        state: NodeState::Ready,
        last_heartbeat: Some(now),
        message: None,
        ..description
    }
}
