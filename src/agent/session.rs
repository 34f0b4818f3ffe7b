//! The agent's end of a session (issue 10 §5): opens a session with the leader's dispatcher,
//! feeds the agent's assignments from the stream (the full set, then changes), forwards its
//! report batches, sends heartbeats, learns the managers, and on failure moves to another
//! manager with backoff. Losing every manager changes nothing on the node: the agent keeps its
//! last assignments and its tasks keep running (a set is only ever published because a
//! manager sent it).

use std::future::Future;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, sleep, sleep_until};
use tracing::{debug, info, warn};
use wire::session::codes;
use wire::{
    Assignments, AssignmentsMessage, ErrorBody, HeartbeatAck, Managers, OpenSession,
    SESSION_PREFIX, SessionOpened, TaskReport, TaskReports,
};

/// Why a session ended or could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SessionClientError {
    #[error("no manager address to open a session with; give at least one (http(s)://HOST:PORT)")]
    NoManagers,
    #[error("manager address `{0}` has no scheme; write it as https://HOST:PORT")]
    NoScheme(String),
    #[error("{url}: {source}")]
    Http {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{url} refused: {message} ({code})")]
    Refused {
        url: String,
        code: String,
        message: String,
    },
    #[error("{url}: the assignments stream ended")]
    StreamEnded { url: String },
    #[error("{url}: unreadable assignments: {source}")]
    Decode {
        url: String,
        #[source]
        source: serde_json::Error,
    },
}

/// Waits between attempts at a manager, doubled after each failure up to the maximum.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    pub min: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff {
            min: Duration::from_millis(100),
            max: Duration::from_secs(5),
        }
    }
}

/// Period assumed until the manager states its own.
const DEFAULT_PERIOD: Duration = Duration::from_secs(5);

/// Holds one node's session with the managers.
pub struct SessionClient {
    http: reqwest::Client,
    /// Manager base URLs: those configured, then those learned.
    managers: Vec<String>,
    /// `http` or `https`, as the configured URLs say: learned addresses are `host:port`.
    scheme: String,
    open: OpenSession,
    backoff: Backoff,
    period: Duration,
}

/// How one session ended.
enum Ended {
    Shutdown,
    /// A follower named the leader: go there at once.
    Moved(String),
    Failed(SessionClientError),
}

/// What one session carries over to the next.
struct Carry<'a> {
    publish: &'a watch::Sender<Assignments>,
    reports: &'a mut mpsc::Receiver<Vec<TaskReport>>,
    reports_open: bool,
    /// Reports no manager has acknowledged yet: sent again to the next one.
    unsent: Vec<TaskReport>,
    /// Whether the current session delivered its full set (then the backoff starts over).
    delivered: bool,
}

impl SessionClient {
    /// A client opening sessions with `open` at `managers` (base URLs, `https://HOST:PORT`)
    /// through `http` (the node's mTLS client in production).
    pub fn new(
        http: reqwest::Client,
        managers: Vec<String>,
        open: OpenSession,
    ) -> Result<SessionClient, SessionClientError> {
        let first = managers.first().ok_or(SessionClientError::NoManagers)?;
        let scheme = match first.split_once("://") {
            Some((scheme, _)) => scheme.to_owned(),
            None => return Err(SessionClientError::NoScheme(first.clone())),
        };
        if let Some(bad) = managers.iter().find(|url| !url.contains("://")) {
            return Err(SessionClientError::NoScheme(bad.clone()));
        }
        let managers = managers
            .into_iter()
            .map(|url| url.trim_end_matches('/').to_owned())
            .collect();
        Ok(SessionClient {
            http,
            managers,
            scheme,
            open,
            backoff: Backoff::default(),
            period: DEFAULT_PERIOD,
        })
    }

    /// Waits `backoff` between attempts (the default: 100 ms doubling up to 5 s).
    pub fn with_backoff(mut self, backoff: Backoff) -> SessionClient {
        self.backoff = backoff;
        self
    }

    /// The managers known so far (base URLs).
    pub fn managers(&self) -> &[String] {
        &self.managers
    }

    /// Runs until `shutdown`: publishes on `publish` what the managers assign (the first full
    /// set arrives as the first change: start the agent after it, so it never starts from an
    /// empty set), forwards `reports`.
    pub async fn run(
        mut self,
        publish: watch::Sender<Assignments>,
        mut reports: mpsc::Receiver<Vec<TaskReport>>,
        shutdown: impl Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        let mut carry = Carry {
            publish: &publish,
            reports: &mut reports,
            reports_open: true,
            unsent: Vec::new(),
            delivered: false,
        };
        let mut next = 0usize;
        let mut preferred: Option<String> = None;
        let mut wait = self.backoff.min;
        // Failures since the last full set: every known manager is tried once in quick
        // succession before the backoff grows, so a new leader is found within a round.
        let mut failures = 0usize;
        loop {
            let url = preferred
                .take()
                .unwrap_or_else(|| self.managers[next % self.managers.len()].clone());
            carry.delivered = false;
            let ended = self.session(&url, &mut carry, &mut shutdown).await;
            if carry.delivered {
                wait = self.backoff.min;
                failures = 0;
            }
            let pause = match ended {
                Ended::Shutdown => return,
                Ended::Moved(leader) => {
                    info!(from = %url, to = %leader, "moving the session to the leader");
                    preferred = Some(leader);
                    self.backoff.min
                }
                Ended::Failed(err) => {
                    warn!(%err, "session lost; trying the next manager");
                    next = next.wrapping_add(1);
                    failures += 1;
                    if failures.is_multiple_of(self.managers.len()) {
                        let pause = wait;
                        wait = (wait * 2).min(self.backoff.max);
                        pause
                    } else {
                        self.backoff.min
                    }
                }
            };
            tokio::select! {
                () = &mut shutdown => return,
                () = sleep(pause) => {}
            }
        }
    }

    /// One session with the manager at `url`, until it fails or `shutdown`.
    async fn session(
        &mut self,
        url: &str,
        carry: &mut Carry<'_>,
        shutdown: &mut (impl Future<Output = ()> + Unpin),
    ) -> Ended {
        let opened: SessionOpened =
            match self.call(url, "open", Some(&self.open), self.period).await {
                Ok(opened) => opened,
                Err(ended) => return ended,
            };
        self.learn(&opened.managers);
        self.period = Duration::from_millis(opened.heartbeat_period_ms.max(1));
        let base = format!("{url}{SESSION_PREFIX}/{}", opened.session_id);
        info!(manager = %url, node.id = %opened.node_id, "session opened");
        let stream_url = format!("{base}/assignments");
        let mut stream = match self.http.get(&stream_url).send().await {
            Ok(response) if response.status().is_success() => response,
            Ok(response) => return self.refused(url, response).await,
            Err(source) => {
                return Ended::Failed(SessionClientError::Http {
                    url: stream_url,
                    source,
                });
            }
        };
        let mut lines = Vec::new();
        let mut current: Option<Assignments> = None;
        let mut beat_due = Instant::now() + self.period;
        loop {
            let sending = !carry.unsent.is_empty();
            tokio::select! {
                () = &mut *shutdown => return Ended::Shutdown,
                chunk = stream.chunk() => match chunk {
                    Ok(Some(bytes)) => {
                        lines.extend_from_slice(&bytes);
                        if let Err(source) = take_lines(&mut lines, &mut current, carry) {
                            return Ended::Failed(SessionClientError::Decode { url: stream_url, source });
                        }
                    }
                    Ok(None) => return Ended::Failed(SessionClientError::StreamEnded { url: stream_url }),
                    Err(source) => return Ended::Failed(SessionClientError::Http { url: stream_url, source }),
                },
                () = sleep_until(beat_due) => {
                    let ack: HeartbeatAck = match self.call_path(url, &base, "heartbeat", None::<&()>, self.period).await {
                        Ok(ack) => ack,
                        Err(ended) => return ended,
                    };
                    self.learn(&ack.managers);
                    self.period = Duration::from_millis(ack.heartbeat_period_ms.max(1));
                    beat_due = Instant::now() + self.period;
                }
                batch = carry.reports.recv(), if carry.reports_open && !sending => match batch {
                    Some(batch) => {
                        carry.unsent.extend(batch);
                        while let Ok(more) = carry.reports.try_recv() {
                            carry.unsent.extend(more);
                        }
                    }
                    None => carry.reports_open = false,
                },
                // Reports wait for the full set: a manager learns the node's state from them.
                () = std::future::ready(()), if sending && current.is_some() => {
                    let body = TaskReports { reports: carry.unsent.clone() };
                    match self.call_path::<serde_json::Value, _>(url, &base, "reports", Some(&body), self.period).await {
                        Ok(_) => carry.unsent.clear(),
                        Err(ended) => return ended,
                    }
                }
            }
        }
    }

    /// Adds the managers in `managers` not known yet.
    fn learn(&mut self, managers: &Managers) {
        for addr in &managers.addrs {
            let url = format!("{}://{addr}", self.scheme);
            if !self.managers.contains(&url) {
                debug!(%url, "learned a manager");
                self.managers.push(url);
            }
        }
    }

    /// POSTs `body` to `{url}/v1/session/{what}` (open).
    async fn call<T: serde::de::DeserializeOwned, B: serde::Serialize>(
        &self,
        url: &str,
        what: &str,
        body: Option<&B>,
        timeout: Duration,
    ) -> Result<T, Ended> {
        let base = format!("{url}{SESSION_PREFIX}");
        self.call_path(url, &base, what, body, timeout).await
    }

    /// POSTs `body` to `{base}/{what}`; a refusal becomes how the session ends.
    async fn call_path<T: serde::de::DeserializeOwned, B: serde::Serialize>(
        &self,
        url: &str,
        base: &str,
        what: &str,
        body: Option<&B>,
        timeout: Duration,
    ) -> Result<T, Ended> {
        let target = format!("{base}/{what}");
        let mut request = self.http.post(&target).timeout(timeout);
        if let Some(body) = body {
            request = request.json(body);
        }
        let http = |source| {
            Ended::Failed(SessionClientError::Http {
                url: target.clone(),
                source,
            })
        };
        let response = request.send().await.map_err(http)?;
        if !response.status().is_success() {
            return Err(self.refused(url, response).await);
        }
        if response.status() == reqwest::StatusCode::NO_CONTENT {
            return serde_json::from_value(serde_json::Value::Null).map_err(|source| {
                Ended::Failed(SessionClientError::Decode {
                    url: target.clone(),
                    source,
                })
            });
        }
        response.json().await.map_err(http)
    }

    /// What a refusal means: go to the leader it names, or fail over.
    async fn refused(&self, url: &str, response: reqwest::Response) -> Ended {
        let status = response.status();
        let body: Option<ErrorBody> = response.json().await.ok();
        let Some(body) = body else {
            return Ended::Failed(SessionClientError::Refused {
                url: url.to_owned(),
                code: status.to_string(),
                message: "no error body".into(),
            });
        };
        let leader = body.error.details.get("leader").and_then(|l| l.as_str());
        if body.error.code == codes::NOT_LEADER
            && let Some(leader) = leader
        {
            let leader = format!("{}://{leader}", self.scheme);
            if leader != url {
                return Ended::Moved(leader);
            }
        }
        Ended::Failed(SessionClientError::Refused {
            url: url.to_owned(),
            code: body.error.code,
            message: body.error.message,
        })
    }
}

/// Applies every complete line in `buffer`, publishing each resulting set.
fn take_lines(
    buffer: &mut Vec<u8>,
    current: &mut Option<Assignments>,
    carry: &mut Carry<'_>,
) -> Result<(), serde_json::Error> {
    while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
        let line: Vec<u8> = buffer.drain(..=end).collect();
        let message: AssignmentsMessage = serde_json::from_slice(&line)?;
        let next = match message {
            AssignmentsMessage::Full(full) => {
                carry.delivered = true;
                full
            }
            AssignmentsMessage::Changes(changes) => {
                // Changes before a full set would be a manager's bug: ignored, the next
                // session starts with a full set again.
                let Some(mut set) = current.take() else {
                    warn!("assignment changes before the full set; ignored");
                    continue;
                };
                set.apply(changes);
                set
            }
        };
        carry.publish.send_if_modified(|published| {
            let changed = published.tasks != next.tasks;
            *published = next.clone();
            changed
        });
        *current = Some(next);
    }
    Ok(())
}
