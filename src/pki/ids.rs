//! Random identifiers: node ids, cluster ids, Raft ids and token secrets all come from the OS
//! generator, never from a hostname or a log index, so nodes and clusters made side by side
//! (tests, re-initialised machines) never collide.

use ring::rand::{SecureRandom, SystemRandom};

use super::PkiError;

/// Characters of a base-36 string of 128 bits (SwarmKit's id and secret length).
const ID_LEN: usize = 25;

/// `N` random bytes from the OS.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], PkiError> {
    let mut bytes = [0u8; N];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| PkiError::Random)?;
    Ok(bytes)
}

/// 128 random bits as 25 lowercase base-36 characters.
pub fn random_base36() -> Result<String, PkiError> {
    Ok(base36(&random_bytes::<16>()?, ID_LEN))
}

/// A new node id (the CN of the node's certificate).
pub fn new_node_id() -> Result<String, PkiError> {
    random_base36()
}

/// A new cluster id (the O of every node certificate).
pub fn new_cluster_id() -> Result<String, PkiError> {
    random_base36()
}

/// A new Raft id: random, non-zero, and below 2^63 so it fits SQLite's signed integers.
pub fn new_raft_id() -> Result<u64, PkiError> {
    loop {
        let id = u64::from_be_bytes(random_bytes::<8>()?) >> 1;
        if id != 0 {
            return Ok(id);
        }
    }
}

/// `bytes` (a big-endian number) in lowercase base 36, left-padded with `0` to `width`.
pub(crate) fn base36(bytes: &[u8], width: usize) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut number = bytes.to_vec();
    let mut out = Vec::new();
    while number.iter().any(|b| *b != 0) {
        // Long division of the whole number by 36; the remainder is the next digit.
        let mut remainder = 0u32;
        for byte in number.iter_mut() {
            let value = (remainder << 8) | u32::from(*byte);
            *byte = (value / 36) as u8;
            remainder = value % 36;
        }
        out.push(DIGITS[remainder as usize]);
    }
    while out.len() < width {
        out.push(b'0');
    }
    out.reverse();
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base36_matches_known_values_and_pads() {
        assert_eq!(base36(&[0], 3), "000");
        assert_eq!(base36(&[35], 1), "z");
        assert_eq!(base36(&[1, 0], 1), "74"); // 256 = 7*36 + 4
        assert_eq!(base36(&[0xff; 16], 25).len(), 25);
        assert_eq!(base36(&[0xff; 32], 50).len(), 50);
    }

    #[test]
    fn ids_are_random_and_raft_ids_fit_sqlite() {
        let a = new_node_id().expect("id");
        let b = new_node_id().expect("id");
        assert_ne!(a, b);
        assert_eq!(a.len(), 25);
        let raft = new_raft_id().expect("raft id");
        assert!(raft > 0 && i64::try_from(raft).is_ok());
    }
}
