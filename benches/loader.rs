//! Loader benchmark: how fast hostile YAML is refused, against loading a real stack file.
//!
//! `cargo bench --bench loader` — prints a Markdown table for BENCHMARKS.md. Figures are ratios
//! against the baseline (the 3-service example stack) measured in the same run; memory is the
//! growth of the process's peak RSS (VmHWM) while loading each input.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use swarm::manifest::{self, LoadOptions, PathArg};

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Median wall time of `runs` loads, and whether the input was refused.
fn measure(path: &Path, runs: usize) -> (Duration, bool, u64) {
    let options = LoadOptions::default();
    let before = peak_rss_kib();
    let mut times = Vec::with_capacity(runs);
    let mut refused = false;
    for _ in 0..runs {
        let start = Instant::now();
        let loaded = black_box(manifest::load(
            &[PathArg::File(path.to_path_buf())],
            &options,
        ));
        times.push(start.elapsed());
        refused = !loaded.is_valid();
    }
    times.sort();
    (
        times[runs / 2],
        refused,
        peak_rss_kib().saturating_sub(before),
    )
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("manifests");
    let cases = [
        ("example stack (baseline)", root.join("web-stack.yml")),
        (
            "alias bomb (9 levels x 9 aliases)",
            root.join("invalid/alias-bomb.yml"),
        ),
        ("nesting 200 deep", root.join("invalid/deep-nesting.yml")),
        (
            "unknown key (schema error path)",
            root.join("invalid/unknown-key.yml"),
        ),
    ];
    let runs = 51;
    let (baseline, _, _) = measure(&cases[0].1, runs);
    println!("| input | median | ratio to baseline | refused | peak RSS growth |");
    println!("|---|---|---|---|---|");
    for (name, path) in &cases {
        let (median, refused, growth) = measure(path, runs);
        println!(
            "| {name} | {:.3} ms | {:.2}x | {} | {growth} KiB |",
            median.as_secs_f64() * 1e3,
            median.as_secs_f64() / baseline.as_secs_f64(),
            if refused { "yes" } else { "no" },
        );
    }
}
