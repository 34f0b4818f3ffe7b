//! Typed HTTP client for the manager API, used by swarmctl and by tests.

pub mod converge;
mod error;
mod ops;
pub mod ps;
#[cfg(test)]
mod test_records;
pub mod views;

use model::Kind;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use error::{ClientError, UnsupportedScheme};
pub use ops::{LogStream, TaskFilter};

use wire::{
    API_PREFIX, ApplyBody, ApplyOutcome, ClusterBackup, ClusterInfo, DataBody, ErrorBody,
    JoinTokens, Record,
};

/// Default manager address (`swarmd up` listens there).
pub const DEFAULT_HOST: &str = "http://127.0.0.1:4242";

/// Options of an apply.
#[derive(Clone, Debug, Default)]
pub struct ApplyParams {
    pub stack: Option<String>,
    pub dry_run: bool,
    pub prune: bool,
    /// Refuse (409) unless the stack is still at this version (0: not created yet).
    pub expected_version: Option<u64>,
}

/// A connection to one manager's API.
#[derive(Clone, Debug)]
pub struct Client {
    host: String,
    http: reqwest::Client,
    /// Set once the manager answered a read from a store it could not confirm current (it
    /// has no quorum): the caller warns that what it showed may be stale.
    stale: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Client {
    /// A client for the manager at `host` (`http://127.0.0.1:4242`).
    pub fn new(host: &str) -> Result<Client, ClientError> {
        let host = host.trim_end_matches('/').to_owned();
        let invalid = |source: Box<dyn std::error::Error + Send + Sync>| ClientError::InvalidHost {
            host: host.clone(),
            source,
        };
        let url = reqwest::Url::parse(&host).map_err(|e| invalid(e.into()))?;
        if url.scheme() != "http" {
            return Err(invalid(UnsupportedScheme(url.scheme().to_owned()).into()));
        }
        // The workspace builds reqwest with `rustls-no-provider` (node-to-node mTLS brings its
        // own ring config), and reqwest then wants a process-wide provider even for plain HTTP.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .build()
            .map_err(|e| invalid(e.into()))?;
        Ok(Client {
            host,
            http,
            stale: Default::default(),
        })
    }

    /// A bare HTTP client for raw calls in tests and tools (with rustls's provider installed,
    /// which the workspace's reqwest requires).
    pub fn plain_http() -> reqwest::Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::new()
    }

    /// The manager address this client talks to.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// `GET /healthz`.
    pub async fn health(&self) -> Result<Value, ClientError> {
        let url = format!("{}/healthz", self.host);
        self.json(self.http.request(Method::GET, url)).await
    }

    /// `POST /v1/apply` with manifests loaded client-side.
    pub async fn apply(
        &self,
        body: &ApplyBody,
        params: &ApplyParams,
    ) -> Result<ApplyOutcome, ClientError> {
        let path = format!("/apply{}", apply_query(params));
        self.json(self.request(Method::POST, &path).json(body))
            .await
    }

    /// `POST /v1/apply` with a YAML stack file or native manifests, loaded by the manager.
    pub async fn apply_yaml(
        &self,
        text: String,
        params: &ApplyParams,
    ) -> Result<ApplyOutcome, ClientError> {
        let path = format!("/apply{}", apply_query(params));
        let request = self
            .request(Method::POST, &path)
            .header(reqwest::header::CONTENT_TYPE, "application/yaml")
            .body(text);
        self.json(request).await
    }

    /// `GET /v1/<kind>s[?stack=]`: objects of a kind, secrets without their content.
    pub async fn list(&self, kind: Kind, stack: Option<&str>) -> Result<Vec<Record>, ClientError> {
        let query = query(&[("stack", stack)]);
        self.json(self.request(Method::GET, &format!("/{}{query}", plural(kind))))
            .await
    }

    /// `GET /v1/tasks?service=`: the tasks of one service.
    pub async fn tasks_of(
        &self,
        service: &str,
        stack: Option<&str>,
    ) -> Result<Vec<Record>, ClientError> {
        let query = query(&[("service", Some(service)), ("stack", stack)]);
        self.json(self.request(Method::GET, &format!("/tasks{query}")))
            .await
    }

    /// `GET /v1/<kind>s/{name_or_id}[?stack=]`.
    pub async fn get(
        &self,
        kind: Kind,
        name: &str,
        stack: Option<&str>,
    ) -> Result<Record, ClientError> {
        let path = format!(
            "/{}/{}{}",
            plural(kind),
            encode(name),
            query(&[("stack", stack)])
        );
        self.json(self.request(Method::GET, &path)).await
    }

    /// `DELETE /v1/<kind>s/{name_or_id}[?stack=]`; for a stack, every member at once.
    pub async fn delete(
        &self,
        kind: Kind,
        name: &str,
        stack: Option<&str>,
    ) -> Result<ApplyOutcome, ClientError> {
        let path = format!(
            "/{}/{}{}",
            plural(kind),
            encode(name),
            query(&[("stack", stack)])
        );
        self.json(self.request(Method::DELETE, &path)).await
    }

    /// `POST /v1/secrets` or `POST /v1/configs`.
    pub async fn create_data(&self, kind: Kind, body: &DataBody) -> Result<Record, ClientError> {
        let path = format!("/{}", plural(kind));
        self.json(self.request(Method::POST, &path).json(body))
            .await
    }

    /// `GET /v1/cluster`.
    pub async fn cluster(&self) -> Result<ClusterInfo, ClientError> {
        self.json(self.request(Method::GET, "/cluster")).await
    }

    /// `GET /v1/cluster/join-tokens`: both join tokens.
    pub async fn join_tokens(&self) -> Result<JoinTokens, ClientError> {
        self.json(self.request(Method::GET, "/cluster/join-tokens"))
            .await
    }

    /// `POST /v1/cluster/join-tokens/{role}/rotate` (`worker` or `manager`): both tokens after
    /// the rotation.
    pub async fn rotate_join_token(&self, role: &str) -> Result<JoinTokens, ClientError> {
        let path = format!("/cluster/join-tokens/{}/rotate", encode(role));
        self.json(self.request(Method::POST, &path)).await
    }

    /// `GET /v1/cluster/backup`: every object (secrets in clear) and the root CA key.
    pub async fn cluster_backup(&self) -> Result<ClusterBackup, ClientError> {
        self.json(self.request(Method::GET, "/cluster/backup"))
            .await
    }

    /// `GET /v1/events`: follows the event stream; subscribed once this returns.
    pub async fn events(&self) -> Result<EventStream, ClientError> {
        let response = self.send(self.request(Method::GET, "/events")).await?;
        Ok(EventStream {
            host: self.host.clone(),
            response,
            buffer: String::new(),
        })
    }

    /// A request to `path` of the API's current version (`/apply` is `/v1/apply`).
    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{API_PREFIX}{path}", self.host))
    }

    /// Whether any answer so far came from a manager without quorum (possibly stale).
    pub fn served_stale(&self) -> bool {
        self.stale.load(std::sync::atomic::Ordering::Relaxed)
    }

    async fn send(&self, request: RequestBuilder) -> Result<Response, ClientError> {
        let response = request.send().await.map_err(|e| self.transport(e))?;
        if response.headers().contains_key(wire::STALE_HEADER) {
            self.stale.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        Err(match serde_json::from_str::<ErrorBody>(&text) {
            Ok(body) => ClientError::Api {
                status: status.as_u16(),
                code: body.error.code,
                message: body.error.message,
                details: body.error.details,
            },
            Err(_) => ClientError::Api {
                status: status.as_u16(),
                code: code_for(status),
                message: format!("{status}: {}", text.trim()),
                details: Value::Null,
            },
        })
    }

    async fn json<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T, ClientError> {
        let response = self.send(request).await?;
        let bytes = response.bytes().await.map_err(|e| self.transport(e))?;
        serde_json::from_slice(&bytes).map_err(|source| ClientError::Decode {
            host: self.host.clone(),
            source,
        })
    }

    fn transport(&self, err: reqwest::Error) -> ClientError {
        if err.is_connect() {
            ClientError::Unreachable {
                host: self.host.clone(),
            }
        } else {
            ClientError::Http {
                host: self.host.clone(),
                source: err,
            }
        }
    }
}

/// A followed `GET /v1/events`: one JSON value per server-sent event.
pub struct EventStream {
    host: String,
    response: Response,
    buffer: String,
}

impl EventStream {
    /// The next event; `None` when the manager ends the stream.
    pub async fn next(&mut self) -> Option<Result<Value, ClientError>> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let data: Vec<&str> = block
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .map(|d| d.strip_prefix(' ').unwrap_or(d))
                    .collect();
                if data.is_empty() {
                    continue; // a keep-alive comment
                }
                return Some(serde_json::from_str(&data.join("\n")).map_err(|source| {
                    ClientError::Decode {
                        host: self.host.clone(),
                        source,
                    }
                }));
            }
            match self.response.chunk().await {
                Ok(Some(chunk)) => self
                    .buffer
                    .push_str(&String::from_utf8_lossy(&chunk).replace("\r\n", "\n")),
                Ok(None) => return None,
                Err(source) => {
                    return Some(Err(ClientError::Http {
                        host: self.host.clone(),
                        source,
                    }));
                }
            }
        }
    }
}

/// The path segment of a kind (`services`).
pub fn plural(kind: Kind) -> String {
    format!("{}s", wire::kind_word(kind))
}

fn apply_query(params: &ApplyParams) -> String {
    let dry_run = params.dry_run.then_some("true");
    let prune = params.prune.then_some("true");
    let version = params.expected_version.map(|v| v.to_string());
    query(&[
        ("stack", params.stack.as_deref()),
        ("dry_run", dry_run),
        ("prune", prune),
        ("expected_version", version.as_deref()),
    ])
}

fn query(pairs: &[(&str, Option<&str>)]) -> String {
    let set: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k}={}", encode(v))))
        .collect();
    if set.is_empty() {
        String::new()
    } else {
        format!("?{}", set.join("&"))
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn code_for(status: StatusCode) -> String {
    status
        .canonical_reason()
        .unwrap_or("error")
        .to_lowercase()
        .replace(' ', "_")
}
