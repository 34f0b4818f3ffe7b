//! Printing results: aligned columns by hand (a dozen lines do not justify a table crate), JSON
//! or YAML.

use serde::Serialize;

use super::Output;

/// Prints `value` as JSON or YAML, or calls `table` for the default format.
pub fn print<T: Serialize>(output: Output, value: &T, table: impl FnOnce()) -> anyhow::Result<()> {
    match output {
        Output::Json => println!("{}", serde_json::to_string_pretty(value)?),
        Output::Yaml => print!("{}", serde_saphyr::to_string(value)?),
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
        println!("{}", padded.join("   ").trim_end());
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
    let now = crate::apply::now().0;
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

/// `inspect`: pretty JSON by default (as `docker inspect`), or YAML.
pub fn inspect<T: Serialize>(output: Output, value: &T) -> anyhow::Result<()> {
    match output {
        Output::Yaml => print!("{}", serde_saphyr::to_string(value)?),
        Output::Json | Output::Table => println!("{}", serde_json::to_string_pretty(value)?),
    }
    Ok(())
}
