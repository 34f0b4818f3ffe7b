//! Printing results: aligned columns by hand (a dozen lines do not justify a table crate), JSON
//! or YAML.

use std::io::Write;

use serde::Serialize;

use super::error::Result;
use crate::clock::Clock;

use super::{EXIT_USAGE, Output};

/// Writes to stdout, for [`out!`]/[`outln!`]. When the reader has gone (`swarmctl ... | head`:
/// EPIPE, as Rust ignores SIGPIPE) the command ends at once with status 0: the reader asked for
/// no more, so that is neither a failure nor worth a message. Any other write error ends it
/// with status 2 and the error.
pub fn write(args: std::fmt::Arguments) {
    let mut stdout = std::io::stdout().lock();
    if let Err(err) = stdout.write_fmt(args) {
        stdout_failed(&err);
    }
}

/// Flushes stdout (`service logs -f` shows lines as they come), as [`write`] treats errors.
pub fn flush() {
    if let Err(err) = std::io::stdout().flush() {
        stdout_failed(&err);
    }
}

fn stdout_failed(err: &std::io::Error) -> ! {
    if err.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    eprintln!("error: writing to stdout: {err}");
    std::process::exit(EXIT_USAGE);
}

/// Prints `value` as JSON or YAML, or calls `table` for the default format.
pub fn print<T: Serialize>(output: Output, value: &T, table: impl FnOnce()) -> Result<()> {
    match output {
        Output::Json => outln!("{}", serde_json::to_string_pretty(value)?),
        Output::Yaml => out!("{}", serde_saphyr::to_string(value)?),
        Output::Table => table(),
    }
    Ok(())
}

/// Prints rows under headers, each column as wide as its widest cell.
pub fn table(headers: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        outln!("{}", padded.join("   ").trim_end());
    };
    line(headers.iter().map(|h| (*h).to_owned()).collect());
    for row in rows {
        line(row.clone());
    }
}

/// `5s ago`, `3m ago`, `2h ago`, `4d ago`; `-` when unknown.
pub fn ago(at: Option<model::Timestamp>) -> String {
    let Some(at) = at else {
        return "-".into();
    };
    let now = Clock::system().now().0;
    let seconds = ((now - at.0) / 1000).max(0);
    match seconds {
        s if s < 60 => format!("{s}s ago"),
        s if s < 3600 => format!("{}m ago", s / 60),
        s if s < 86_400 => format!("{}h ago", s / 3600),
        s => format!("{}d ago", s / 86_400),
    }
}

/// An optional text, `-` when absent.
pub fn or_dash(text: Option<&str>) -> String {
    text.filter(|t| !t.is_empty()).unwrap_or("-").to_owned()
}

/// `inspect`: pretty JSON by default (as `docker inspect`), or YAML; times as RFC 3339 text
/// (DESIGN.md), though records store and send them as epoch milliseconds.
pub fn inspect<T: Serialize>(output: Output, value: &T) -> Result<()> {
    let mut value = serde_json::to_value(value)?;
    times_as_rfc3339(&mut value);
    match output {
        Output::Yaml => out!("{}", serde_saphyr::to_string(&value)?),
        Output::Json | Output::Table => outln!("{}", serde_json::to_string_pretty(&value)?),
    }
    Ok(())
}

/// Every field of the model that holds a [`model::Timestamp`] (epoch milliseconds).
const TIME_FIELDS: [&str; 9] = [
    "applied_at",
    "completed_at",
    "created_at",
    "last_heartbeat",
    "since",
    "start_at",
    "started_at",
    "timestamp",
    "updated_at",
];

/// Rewrites the numbers under [`TIME_FIELDS`] keys, at any depth, as RFC 3339 text. Records
/// carry spec and status as untyped JSON, so the field names are what marks a time.
pub fn times_as_rfc3339(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            for (key, field) in map.iter_mut() {
                match field.as_i64() {
                    Some(millis) if TIME_FIELDS.contains(&key.as_str()) => {
                        *field = Value::String(model::Timestamp(millis).to_rfc3339());
                    }
                    _ => times_as_rfc3339(field),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(times_as_rfc3339),
        _ => {}
    }
}

/// `2 minutes ago`, as Docker's CURRENT STATE column says it; `-` when unknown.
pub fn since(at: model::Timestamp) -> String {
    if at.0 <= 0 {
        return "-".into();
    }
    let seconds = ((Clock::system().now().0 - at.0) / 1000).max(0);
    format!("{} ago", human_duration(seconds))
}

/// Docker's (go-units) `HumanDuration`: `Less than a second`, `About a minute`, `3 hours`.
pub fn human_duration(seconds: i64) -> String {
    let minutes = seconds / 60;
    let hours = minutes / 60;
    match seconds {
        s if s < 1 => "Less than a second".into(),
        1 => "1 second".into(),
        s if s < 60 => format!("{s} seconds"),
        _ if minutes == 1 => "About a minute".into(),
        _ if minutes < 60 => format!("{minutes} minutes"),
        _ if minutes < 90 => "About an hour".into(),
        _ if hours < 48 => format!("{hours} hours"),
        _ if hours < 24 * 14 => format!("{} days", hours / 24),
        _ if hours < 24 * 60 => format!("{} weeks", hours / 24 / 7),
        _ if hours < 24 * 730 => format!("{} months", hours / 24 / 30),
        _ => format!("{} years", hours / 24 / 365),
    }
}

/// A measured wait, as `converged in 0.4s`: `0.4s`, `12s`, `2m05s`.
pub fn elapsed(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    match secs {
        s if s < 10 => format!("{:.1}s", d.as_secs_f64()),
        s if s < 60 => format!("{s}s"),
        s => format!("{}m{:02}s", s / 60, s % 60),
    }
}

/// `running` -> `Running`, as Docker's tables write states.
pub fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `text` cut to `max` characters with `…`, unless `full`.
pub fn truncated(text: &str, max: usize, full: bool) -> String {
    if full || text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Removes each named object with `remove`; a refused one does not stop the others and makes the
/// exit status 1. Prints the plan lines of what was removed (or the outcomes as JSON/YAML).
pub async fn remove_each<F, Fut>(names: &[String], output: Output, remove: F) -> Result<i32>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<wire::ApplyOutcome, crate::client::ClientError>>,
{
    let mut code = 0;
    let mut removed = Vec::new();
    for name in names {
        match remove(name.clone()).await {
            Ok(outcome) => removed.push(outcome),
            Err(err) => {
                eprintln!("error: {name}: {err}");
                code = super::EXIT_FAILED;
            }
        }
    }
    print(output, &removed, || {
        for outcome in &removed {
            for line in outcome.plan.lines(false) {
                outln!("{line}");
            }
        }
    })?;
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inspect_shows_times_as_rfc3339_and_leaves_other_numbers() {
        let mut record = serde_json::json!({
            "created_at": 1_764_519_903_120_i64,
            "version": 42,
            "spec": {"replicas": 3, "labels": {"timestamp": "kept"}},
            "status": {"timestamp": 0, "history": [{"started_at": 86_400_000}]},
        });
        times_as_rfc3339(&mut record);
        assert_eq!(record["created_at"], "2025-11-30T16:25:03.120Z");
        assert_eq!(record["version"], 42);
        assert_eq!(record["spec"]["replicas"], 3);
        assert_eq!(record["spec"]["labels"]["timestamp"], "kept");
        assert_eq!(record["status"]["timestamp"], "1970-01-01T00:00:00.000Z");
        assert_eq!(
            record["status"]["history"][0]["started_at"],
            "1970-01-02T00:00:00.000Z"
        );
        let back = model::Timestamp::parse_rfc3339("2025-11-30T16:25:03.120Z");
        assert_eq!(back, Some(model::Timestamp(1_764_519_903_120)));
    }

    #[test]
    fn durations_read_like_docker() {
        assert_eq!(human_duration(0), "Less than a second");
        assert_eq!(human_duration(42), "42 seconds");
        assert_eq!(human_duration(61), "About a minute");
        assert_eq!(human_duration(150), "2 minutes");
        assert_eq!(human_duration(3700), "About an hour");
        assert_eq!(human_duration(3 * 3600), "3 hours");
        assert_eq!(human_duration(3 * 86_400), "3 days");
        assert_eq!(capitalized("running"), "Running");
        let ms = std::time::Duration::from_millis;
        assert_eq!(elapsed(ms(400)), "0.4s");
        assert_eq!(elapsed(ms(12_300)), "12s");
        assert_eq!(elapsed(ms(125_000)), "2m05s");
        assert_eq!(truncated("abcdef", 4, false), "abc…");
        assert_eq!(truncated("abcdef", 4, true), "abcdef");
    }
}
