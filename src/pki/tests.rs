//! The CA, certificates and join tokens, without a network.

use std::os::unix::fs::PermissionsExt;

use model::Timestamp;

use super::token::TokenError;
use super::*;

/// 2026-11-30, in milliseconds.
const NOW: Timestamp = Timestamp(1_796_000_000_000);

fn ca() -> RootCa {
    RootCa::create(&new_cluster_id().expect("id"), NOW).expect("CA")
}

fn issued(ca: &RootCa, role: Role) -> (NodeKey, NodeCertificate) {
    let key = NodeKey::generate().expect("key");
    let node_id = new_node_id().expect("id");
    let cert = ca
        .issue(&key.csr_pem().expect("csr"), &node_id, role, NOW)
        .expect("signed");
    (key, cert)
}

#[test]
fn a_signed_certificate_states_node_id_role_and_cluster() {
    let ca = ca();
    let key = NodeKey::generate().expect("key");
    let cert = ca
        .issue(&key.csr_pem().expect("csr"), "node-abc", Role::Worker, NOW)
        .expect("signed");
    let identity = PeerIdentity::from_der(cert.der()).expect("parsed");
    assert_eq!(
        identity,
        PeerIdentity {
            node_id: "node-abc".into(),
            role: Role::Worker,
            cluster_id: ca.cluster_id().to_owned(),
        }
    );
    assert_eq!(cert.identity(), &identity);
}

#[test]
fn worker_and_manager_certificates_are_told_apart() {
    let ca = ca();
    let (_, worker) = issued(&ca, Role::Worker);
    let (_, manager) = issued(&ca, Role::Manager);
    assert_eq!(worker.identity().role, Role::Worker);
    assert_eq!(manager.identity().role, Role::Manager);
    assert_ne!(worker.identity().node_id, manager.identity().node_id);
}

#[test]
fn a_tampered_csr_is_refused() {
    let ca = ca();
    let csr = NodeKey::generate().expect("key").csr_pem().expect("csr");
    let mut lines: Vec<String> = csr.lines().map(str::to_owned).collect();
    // Flip a character inside the base64 body: the signature no longer matches.
    let line = &mut lines[3];
    let flipped = if line.starts_with('A') { "B" } else { "A" };
    line.replace_range(0..1, flipped);
    let tampered = lines.join("\n");
    assert!(ca.issue(&tampered, "n", Role::Worker, NOW).is_err());
    assert!(ca.issue("not a csr", "n", Role::Worker, NOW).is_err());
}

#[test]
fn the_ca_round_trips_through_pem_and_keeps_its_digest() {
    let ca = ca();
    let again = RootCa::from_pem(ca.cert_pem(), &ca.key_pem()).expect("reloaded");
    assert_eq!(again.cluster_id(), ca.cluster_id());
    assert_eq!(again.digest(), ca.digest());
    let (_, cert) = issued(&again, Role::Manager);
    assert_eq!(cert.identity().cluster_id, ca.cluster_id());
}

#[test]
fn tokens_format_parse_and_admit_by_role() {
    let ca = ca();
    let secrets = JoinSecrets::generate().expect("secrets");
    let worker = secrets.token(Role::Worker, &ca.digest()).to_string();
    let manager = secrets.token(Role::Manager, &ca.digest()).to_string();
    assert!(worker.starts_with("SWMTKN-1-"));
    assert_eq!(worker.len(), "SWMTKN-1-".len() + 50 + 1 + 25);
    let parsed: JoinToken = worker.parse().expect("parses");
    assert_eq!(parsed.to_string(), worker);
    assert_eq!(parsed.ca_digest(), ca.digest());
    assert_eq!(secrets.admit(&worker, &ca.digest()), Ok(Role::Worker));
    assert_eq!(secrets.admit(&manager, &ca.digest()), Ok(Role::Manager));
}

#[test]
fn malformed_tokens_say_what_is_wrong() {
    let digest = "a".repeat(50);
    let secret = "b".repeat(25);
    let cases = [
        ("hello".to_owned(), TokenError::Malformed),
        (format!("XXX-1-{digest}-{secret}"), TokenError::Malformed),
        (
            format!("SWMTKN-2-{digest}-{secret}"),
            TokenError::Version("2".into()),
        ),
        (
            format!("SWMTKN-1-{}-{secret}", "a".repeat(49)),
            TokenError::Digest,
        ),
        (
            format!("SWMTKN-1-{digest}-{}", "B".repeat(25)),
            TokenError::Secret,
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(text.parse::<JoinToken>(), Err(expected), "{text}");
    }
    let ok = format!(" SWMTKN-1-{digest}-{secret}\n");
    assert!(ok.parse::<JoinToken>().is_ok(), "whitespace is trimmed");
}

#[test]
fn a_joiner_pins_the_ca_by_digest() {
    let ours = ca();
    let theirs = ca();
    let secrets = JoinSecrets::generate().expect("secrets");
    let token = secrets.token(Role::Worker, &ours.digest());
    assert_eq!(token.pin(ours.cert_der()), Ok(()));
    let refused = token.pin(theirs.cert_der());
    assert!(
        matches!(&refused, Err(TokenError::CaMismatch { presented, .. }) if *presented == theirs.digest()),
        "{refused:?}"
    );
    // The manager of another cluster refuses the token too.
    assert_eq!(
        secrets.admit(&token.to_string(), &theirs.digest()),
        Err(TokenError::Refused)
    );
}

#[test]
fn a_rotated_token_no_longer_admits_and_the_other_role_is_untouched() {
    let ca = ca();
    let mut secrets = JoinSecrets::generate().expect("secrets");
    let old_worker = secrets.token(Role::Worker, &ca.digest()).to_string();
    let manager = secrets.token(Role::Manager, &ca.digest()).to_string();
    secrets.rotate(Role::Worker).expect("rotated");
    assert_eq!(
        secrets.admit(&old_worker, &ca.digest()),
        Err(TokenError::Refused)
    );
    let new_worker = secrets.token(Role::Worker, &ca.digest()).to_string();
    assert_ne!(new_worker, old_worker);
    assert_eq!(secrets.admit(&new_worker, &ca.digest()), Ok(Role::Worker));
    assert_eq!(secrets.admit(&manager, &ca.digest()), Ok(Role::Manager));
}

#[test]
fn debug_output_never_shows_keys_or_secrets() {
    let ca = ca();
    let secrets = JoinSecrets::generate().expect("secrets");
    let token = secrets.token(Role::Manager, &ca.digest());
    let printed = format!("{ca:?} {secrets:?} {token:?}");
    assert!(!printed.contains(&secrets.manager), "{printed}");
    assert!(!printed.contains("PRIVATE KEY"), "{printed}");
}

#[test]
fn init_writes_keys_with_mode_0600_and_loads_them_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ca, node) = files::init_cluster(dir.path(), "first-node", NOW).expect("init");
    let certs = files::certificates_dir(dir.path());
    for key in ["swarm-root-ca.key", "swarm-node.key"] {
        let mode = std::fs::metadata(certs.join(key))
            .expect("key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{key}");
    }
    let loaded = files::load_node(dir.path())
        .expect("loads")
        .expect("present");
    assert_eq!(loaded.cert.identity(), node.cert.identity());
    assert_eq!(loaded.cert.identity().role, Role::Manager);
    assert_eq!(loaded.cert.identity().node_id, "first-node");
    let loaded_ca = files::load_ca(dir.path()).expect("loads").expect("present");
    assert_eq!(loaded_ca.digest(), ca.digest());
    let empty = tempfile::tempdir().expect("tempdir");
    assert!(files::load_node(empty.path()).expect("reads").is_none());
    assert!(files::load_ca(empty.path()).expect("reads").is_none());
}
