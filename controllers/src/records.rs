//! The controllers' typed view of stored objects as the API returns them ([`wire::Record`]):
//! the runner reads records from its index, `apply --wait` from the API.

use model::{Kind, SharedSpecs};
use serde::de::DeserializeOwned;
use serde_json::Value;
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
pub fn view_sharing<'a>(
    records: impl IntoIterator<Item = &'a Record>,
    specs: &mut SharedSpecs,
) -> Typed {
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
        spec: decoded(&record.spec)?,
        status: status(record)?,
    })
}

fn task(record: &Record) -> Result<TaskObj, serde_json::Error> {
    Ok(TaskObj {
        id: record.id.clone(),
        version: record.version,
        name: record.metadata.name.clone(),
        spec: decoded(&record.spec)?,
        status: status(record)?,
    })
}

fn node(record: &Record) -> Result<NodeObj, serde_json::Error> {
    Ok(NodeObj {
        id: record.id.clone(),
        version: record.version,
        name: record.metadata.name.clone(),
        spec: decoded(&record.spec)?,
        status: status(record)?,
    })
}

/// `value` read as a `T`, straight from the record: cloning the JSON first (as
/// `Record::spec_as` does) would copy every task's service spec on every pass that reads it.
fn decoded<T: DeserializeOwned>(value: &Value) -> Result<T, serde_json::Error> {
    T::deserialize(value)
}

/// The record's typed status (`Default` when none has been written yet), read like [`decoded`].
fn status<T: DeserializeOwned + Default>(record: &Record) -> Result<T, serde_json::Error> {
    if record.status.is_null() {
        return Ok(T::default());
    }
    decoded(&record.status)
}
