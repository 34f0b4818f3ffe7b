//! The task table of `service ps`, `stack ps` and `node ps`, as Docker prints it: the current
//! task of a slot, then its history as `\_ web.1` rows.

use wire::TaskRow;

use super::error::Result;
use super::{Output, output};

/// Longest error shown without `--no-trunc`.
const ERROR_CHARS: usize = 60;

/// Prints `rows` as JSON, YAML or the table.
pub fn print(output: Output, rows: &[TaskRow], no_trunc: bool) -> Result<()> {
    output::print(output, &rows, || {
        let cells: Vec<Vec<String>> = rows.iter().map(|r| cells(r, no_trunc)).collect();
        output::table(
            &[
                "ID",
                "NAME",
                "IMAGE",
                "NODE",
                "DESIRED STATE",
                "CURRENT STATE",
                "ERROR",
            ],
            &cells,
        );
    })
}

fn cells(row: &TaskRow, no_trunc: bool) -> Vec<String> {
    let name = if row.history {
        format!(" \\_ {}", row.name)
    } else {
        row.name.clone()
    };
    let image = row.image.as_deref().unwrap_or("-");
    // A pinned digest is noise in a table; `--no-trunc` shows it.
    let image = match image.split_once("@sha256:") {
        Some((name, _)) if !no_trunc => name,
        _ => image,
    };
    let error = row
        .error
        .as_deref()
        .map(|e| output::truncated(&e.replace('\n', " "), ERROR_CHARS, no_trunc))
        .unwrap_or_default();
    vec![
        row.id.clone(),
        name,
        image.to_owned(),
        output::or_dash(row.node.as_deref()),
        output::capitalized(row.desired_state.as_str()),
        format!(
            "{} {}",
            output::capitalized(row.state.as_str()),
            output::since(row.since)
        ),
        error,
    ]
}
