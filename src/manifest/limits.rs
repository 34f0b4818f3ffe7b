//! Hard limits on input, so hostile files fail fast with bounded memory.

/// Largest manifest file read (bytes).
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;
/// Deepest YAML nesting accepted; real stacks stay under 15.
pub const MAX_DEPTH: usize = 64;
/// Alias uses per file; anchors are for sharing a few blocks, not for generating documents.
pub const MAX_ALIASES: usize = 1_000;
/// Parser events replayed through aliases: what bounds an alias bomb (a "billion laughs").
pub const MAX_REPLAYED_EVENTS: usize = 20_000;
/// Nodes per file.
pub const MAX_NODES: usize = 250_000;
/// Documents per file (native manifests separated by `---`).
pub const MAX_DOCUMENTS: usize = 1_000;
