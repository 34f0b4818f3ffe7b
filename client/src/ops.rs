//! Client calls for running services and nodes: tasks, edits, logs.

use reqwest::{Method, Response};
use serde::Serialize;
use wire::{
    ApplyOutcome, NodeUpdateBody, ObjectChange, Record, ScaleBody, UpdateBody, VersionBody,
};

use super::{Client, ClientError, encode, query};

/// Which tasks `GET /v1/tasks` returns; every field narrows the list.
#[derive(Clone, Copy, Debug, Default)]
pub struct TaskFilter<'a> {
    pub service: Option<&'a str>,
    pub stack: Option<&'a str>,
    pub node: Option<&'a str>,
}

impl Client {
    /// `GET /v1/tasks?service=&stack=&node=`.
    pub async fn tasks(&self, filter: TaskFilter<'_>) -> Result<Vec<Record>, ClientError> {
        let query = query(&[
            ("service", filter.service),
            ("stack", filter.stack),
            ("node", filter.node),
        ]);
        self.json(self.request(Method::GET, &format!("/tasks{query}")))
            .await
    }

    /// `POST /v1/services/{name}/scale`.
    pub async fn scale(
        &self,
        name: &str,
        stack: Option<&str>,
        replicas: u64,
    ) -> Result<ObjectChange, ClientError> {
        let body = ScaleBody {
            replicas,
            expected_version: None,
        };
        self.service_edit(name, stack, "scale", &body).await
    }

    /// `POST /v1/services/{name}/update`.
    pub async fn update_service(
        &self,
        name: &str,
        stack: Option<&str>,
        body: &UpdateBody,
    ) -> Result<ObjectChange, ClientError> {
        self.service_edit(name, stack, "update", body).await
    }

    /// `POST /v1/services/{name}/rollback`.
    pub async fn rollback(
        &self,
        name: &str,
        stack: Option<&str>,
    ) -> Result<ObjectChange, ClientError> {
        self.service_edit(name, stack, "rollback", &VersionBody::default())
            .await
    }

    /// `POST /v1/services/{name}/restart`.
    pub async fn restart(
        &self,
        name: &str,
        stack: Option<&str>,
    ) -> Result<ObjectChange, ClientError> {
        self.service_edit(name, stack, "restart", &VersionBody::default())
            .await
    }

    /// `GET /v1/services/{name}/logs`: the response, to read with [`LogStream::next`].
    pub async fn logs(
        &self,
        name: &str,
        stack: Option<&str>,
        follow: bool,
        tail: Option<u64>,
    ) -> Result<LogStream, ClientError> {
        let tail = tail.map(|n| n.to_string());
        let query = query(&[
            ("stack", stack),
            ("follow", follow.then_some("true")),
            ("tail", tail.as_deref()),
        ]);
        let path = format!("/services/{}/logs{query}", encode(name));
        let response = self.send(self.request(Method::GET, &path)).await?;
        Ok(LogStream {
            host: self.host.clone(),
            response,
        })
    }

    /// `POST /v1/nodes/{name}/update`.
    pub async fn update_node(
        &self,
        name: &str,
        body: &NodeUpdateBody,
    ) -> Result<ObjectChange, ClientError> {
        let path = format!("/nodes/{}/update", encode(name));
        self.json(self.request(Method::POST, &path).json(body))
            .await
    }

    /// `POST /v1/nodes/{name}/promote` (`manager: true`) or `/demote`.
    pub async fn set_role(&self, name: &str, manager: bool) -> Result<ObjectChange, ClientError> {
        let verb = if manager { "promote" } else { "demote" };
        let path = format!("/nodes/{}/{verb}", encode(name));
        self.json(
            self.request(Method::POST, &path)
                .json(&VersionBody::default()),
        )
        .await
    }

    /// `DELETE /v1/nodes/{name}?force=`.
    pub async fn remove_node(&self, name: &str, force: bool) -> Result<ApplyOutcome, ClientError> {
        let query = query(&[("force", force.then_some("true"))]);
        let path = format!("/nodes/{}{query}", encode(name));
        self.json(self.request(Method::DELETE, &path)).await
    }

    async fn service_edit<B: Serialize>(
        &self,
        name: &str,
        stack: Option<&str>,
        verb: &str,
        body: &B,
    ) -> Result<ObjectChange, ClientError> {
        let path = format!(
            "/services/{}/{verb}{}",
            encode(name),
            query(&[("stack", stack)])
        );
        self.json(self.request(Method::POST, &path).json(body))
            .await
    }
}

/// A streaming `service logs` response.
pub struct LogStream {
    host: String,
    response: Response,
}

impl LogStream {
    /// The next chunk of text as it arrives; `None` at the end.
    pub async fn next(&mut self) -> Option<Result<String, ClientError>> {
        match self.response.chunk().await {
            Ok(Some(chunk)) => Some(Ok(String::from_utf8_lossy(&chunk).into_owned())),
            Ok(None) => None,
            Err(source) => Some(Err(ClientError::Http {
                host: self.host.clone(),
                source,
            })),
        }
    }
}
