//! The controllers' typed view of stored objects as the API returns them ([`wire::Record`]):
//! the runner reads records from its index, `apply --wait` from the API.

use model::{Kind, SharedSpecs};
use wire::Record;

use crate::{ClusterView, NodeObj, ServiceObj, TaskObj};

/// Services, tasks and nodes as typed objects, and the records that could not be read.
#[derive(Clone, Debug, Default)]
pub struct Typed {
    /// The readable services, tasks and nodes.
    pub view: ClusterView,
    /// Records whose spec or status could not be read as their kind (left out of the view):
    /// kind, id and the decoding error.
    pub unreadable: Vec<(Kind, String, String)>,
}

/// The typed view of `records`; kinds other than services, tasks and nodes are ignored.
pub fn view_of(records: &[Record]) -> Typed {
    view_sharing(records, &mut SharedSpecs::default())
}

/// [`view_of`], the tasks' service specs shared through `specs` (with each other and with the
/// tasks of an earlier view made through the same `specs`).
pub fn view_sharing(records: &[Record], specs: &mut SharedSpecs) -> Typed {
    let mut typed = Typed::default();
    let view = &mut typed.view;
    for record in records {
        let converted = match record.kind {
            Kind::Service => service(record).map(|obj| {
                view.insert_service(obj);
            }),
            Kind::Task => task(record).map(|mut obj| {
                specs.share(&mut obj.spec);
                view.insert_task(obj);
            }),
            Kind::Node => node(record).map(|obj| {
                view.insert_node(obj);
            }),
            _ => continue,
        };
        if let Err(err) = converted {
            typed
                .unreadable
                .push((record.kind, record.id.clone(), err.to_string()));
        }
    }
    typed
}

fn service(record: &Record) -> Result<ServiceObj, serde_json::Error> {
    Ok(ServiceObj {
        id: record.id.clone(),
        version: record.version,
        name: record.metadata.name.clone(),
        stack: record.metadata.stack.clone(),
        spec: record.spec_as()?,
        status: record.status_as()?,
    })
}

fn task(record: &Record) -> Result<TaskObj, serde_json::Error> {
    Ok(TaskObj {
        id: record.id.clone(),
        version: record.version,
        name: record.metadata.name.clone(),
        spec: record.spec_as()?,
        status: record.status_as()?,
    })
}

fn node(record: &Record) -> Result<NodeObj, serde_json::Error> {
    Ok(NodeObj {
        id: record.id.clone(),
        version: record.version,
        name: record.metadata.name.clone(),
        spec: record.spec_as()?,
        status: record.status_as()?,
    })
}
