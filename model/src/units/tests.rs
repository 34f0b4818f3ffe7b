//! Tests of the unit parsers.

use super::*;
use serde_json::json;

fn dur(v: serde_json::Value) -> Duration {
    serde_json::from_value(v).expect("duration")
}

#[test]
fn durations_parse_go_strings_and_integer_seconds() {
    assert_eq!(dur(json!("1m30s")), Duration::from_secs(90));
    assert_eq!(dur(json!("500ms")), Duration::from_millis(500));
    assert_eq!(dur(json!("1.5s")), Duration::from_millis(1500));
    assert_eq!(dur(json!("10us")), Duration(10_000));
    assert_eq!(dur(json!("10µs")), Duration(10_000));
    assert_eq!(dur(json!("2h")), Duration::from_secs(7200));
    assert_eq!(dur(json!("0s")), Duration(0));
    assert_eq!(dur(json!(45)), Duration::from_secs(45));
    assert_eq!(
        Duration::from_secs(3).as_std(),
        std::time::Duration::from_secs(3)
    );
}

#[test]
fn durations_reject_garbage_with_a_hint() {
    for bad in ["", "10", "1x", "s", "1.s", "-1s", "1m30"] {
        let err = serde_json::from_value::<Duration>(json!(bad)).expect_err(bad);
        assert!(err.to_string().contains("invalid duration"), "{bad}: {err}");
    }
    assert!(serde_json::from_value::<Duration>(json!(-3)).is_err());
    let err = Duration::parse("1x").expect_err("unit");
    assert_eq!(
        err,
        UnitError::Duration {
            text: "1x".into(),
            why: DurationFault::UnknownUnit("x".into())
        }
    );
    assert_eq!(
        err.to_string(),
        "invalid duration `1x`: unknown unit `x` (use e.g. `30s`, `1m30s`, `500ms`, `2h`)"
    );
}

#[test]
fn durations_serialize_compactly_and_round_trip() {
    let cases = [
        (Duration(0), "0s"),
        (Duration(250), "250ns"),
        (Duration(1_500_000), "1.5ms"),
        (Duration::from_millis(500), "500ms"),
        (Duration::from_millis(1500), "1.5s"),
        (Duration::from_secs(90), "1m30s"),
        (Duration::from_secs(7200), "2h"),
        (Duration::from_secs(3605), "1h5s"),
    ];
    for (d, text) in cases {
        assert_eq!(d.to_string(), text);
        assert_eq!(dur(serde_json::to_value(d).expect("ser")), d);
    }
}

#[test]
fn byte_sizes_use_binary_units() {
    let size = |v: serde_json::Value| serde_json::from_value::<ByteSize>(v).expect("size").0;
    assert_eq!(size(json!("512M")), 512 << 20);
    assert_eq!(size(json!("512m")), 512 << 20);
    assert_eq!(size(json!("1g")), 1 << 30);
    assert_eq!(size(json!("1GB")), 1 << 30);
    assert_eq!(size(json!("100k")), 102_400);
    assert_eq!(size(json!("1024")), 1024);
    assert_eq!(size(json!("1.5g")), 3 << 29);
    assert_eq!(size(json!("10b")), 10);
    assert_eq!(size(json!(10000)), 10000);
    assert_eq!(
        serde_json::to_value(ByteSize(20 << 20)).expect("ser"),
        json!(20 << 20)
    );
    for bad in ["", "m", "12x", "1..5g", "-1"] {
        assert!(
            serde_json::from_value::<ByteSize>(json!(bad)).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn cpus_accept_numbers_and_numeric_strings() {
    let cpus = |v| serde_json::from_value::<Cpus>(v).map(|c| c.0);
    assert_eq!(cpus(json!("0.5")).expect("str"), 0.5);
    assert_eq!(cpus(json!(2)).expect("int"), 2.0);
    assert_eq!(cpus(json!(0.25)).expect("float"), 0.25);
    assert!(cpus(json!(-1)).is_err());
    assert!(cpus(json!("lots")).is_err());
    assert_eq!(Cpus(0.001).nano_cpus(), 1_000_000);
}

#[test]
fn file_modes_read_strings_as_octal_and_serialize_octal() {
    let mode = |v| serde_json::from_value::<FileMode>(v).expect("mode").0;
    assert_eq!(mode(json!("0440")), 0o440);
    assert_eq!(mode(json!("440")), 0o440);
    assert_eq!(mode(json!(288)), 288);
    assert_eq!(
        serde_json::to_value(FileMode(0o440)).expect("ser"),
        json!("0440")
    );
    assert_eq!(
        mode(serde_json::to_value(FileMode(0o755)).expect("ser")),
        0o755
    );
    assert!(serde_json::from_value::<FileMode>(json!("0999")).is_err());
    assert!(serde_json::from_value::<FileMode>(json!("")).is_err());
}
