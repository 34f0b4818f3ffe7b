//! `swarmctl cluster info` and `swarmctl events`.

use super::error::Result;
use crate::client::Client;

use super::{Output, output};

#[derive(Debug, clap::Subcommand)]
pub enum ClusterCommand {
    /// Node id, leader, term, last applied index and object counts.
    Info,
}

pub async fn run(client: &Client, command: ClusterCommand, output: Output) -> Result<i32> {
    match command {
        ClusterCommand::Info => {
            let info = client.cluster().await?;
            output::print(output, &info, || {
                outln!("node:          {}", info.node_id);
                outln!(
                    "leader:        {}{}",
                    info.leader,
                    if info.is_leader {
                        " (this manager)"
                    } else {
                        ""
                    }
                );
                outln!("term:          {}", info.term);
                outln!("last applied:  {}", info.last_applied);
                let counts: Vec<String> = info
                    .objects
                    .iter()
                    .map(|(kind, n)| format!("{kind} {n}"))
                    .collect();
                outln!("objects:       {}", counts.join(", "));
            })?;
        }
    }
    Ok(0)
}

/// Follows the event stream until the manager closes it, one line per event.
pub async fn events(client: &Client, output: Output) -> Result<i32> {
    let mut events = client.events().await?;
    while let Some(event) = events.next().await {
        let event = event?;
        match output {
            Output::Json => outln!("{event}"),
            Output::Yaml => out!("---\n{}", serde_saphyr::to_string(&event)?),
            Output::Table => outln!("{}", describe(&event)),
        }
    }
    Ok(0)
}

/// `updated service shop/web v42`, `commit 42`, `lagged 17`.
fn describe(event: &serde_json::Value) -> String {
    let kind = event["type"].as_str().unwrap_or("event");
    match kind {
        "commit" => format!("commit {}", event["index"]),
        "lagged" => format!("lagged: {} events missed", event["missed"]),
        _ => {
            let object = &event["object"];
            let name = object["name"].as_str().unwrap_or("?");
            let name = match object["stack"].as_str() {
                Some(stack) => format!("{stack}/{name}"),
                None => name.to_owned(),
            };
            let what = object["kind"].as_str().unwrap_or("?").to_lowercase();
            format!("{kind} {what} {name} v{}", event["version"])
        }
    }
}
