//! swarm's wire contract: every type that crosses a process boundary — HTTP request and response
//! bodies, list rows, the error body, events, and the manager↔agent session messages. The
//! server, the CLI's client and the agent all import it; it imports no server module.

pub mod backup;
pub mod bodies;
pub mod error;
pub mod events;
pub mod labels;
pub mod names;
pub mod peer;
pub mod plan;
pub mod queries;
pub mod record;
pub mod rows;
pub mod session;
pub mod tasks;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use backup::{BACKUP_FORMAT, BackupCa, BackupHeader, ClusterBackup};
pub use bodies::{
    ApplyBody, ClusterInfo, DataBody, JoinTokens, NodeUpdateBody, ObjectChange, ScaleBody,
    UpdateBody, VersionBody,
};
pub use error::{Detail, ErrorBody, ErrorInfo};
pub use events::{Event, ObjectRef};
pub use labels::Claim;
pub use names::docker_name;
pub use peer::{AddManager, JoinAnswer, JoinRequest, PeerFailure};
pub use plan::{ApplyOutcome, ChangeKind, FieldChange, StackChange, StackPlan, kind_word};
pub use queries::{ApplyQuery, Filter, LogsQuery, RemoveQuery};
pub use record::Record;
pub use rows::{DataRow, NetworkRow, NodeRow, Replicas, ServiceRow, StackRow, TaskRow};
pub use session::{
    AssignmentChanges, Assignments, AssignmentsMessage, FileData, HeartbeatAck, Managers,
    NetworkAttachment, OpenSession, SESSION_PREFIX, SESSION_VERSION, SessionOpened, TaskAssignment,
    TaskReport, TaskReports,
};

/// Response header a manager sets on a read it served without quorum: its store may be behind
/// the cluster's (the value says why).
pub const STALE_HEADER: &str = "x-swarm-stale";

/// Path prefix of the HTTP API's current version: every route but `/healthz` starts with it.
pub const API_PREFIX: &str = "/v1";
