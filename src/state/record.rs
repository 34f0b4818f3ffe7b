//! Object ids; the stored object itself, [`Record`](wire::Record), is part of the wire contract.

/// Object ids are assigned when an entry is executed, from its log index and the op's position,
/// so every replica derives the same id without coordination.
pub fn object_id(log_index: u64, op_position: usize) -> String {
    format!("{log_index:012x}{op_position:04x}")
}
