//! Units written the Compose way: durations, byte sizes, CPU counts and file modes.
//!
//! Each accepts the forms Compose users write and serializes to one canonical form that
//! deserializes again.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

use crate::scalar::Scalar;

mod error;

pub use error::{DurationFault, UnitError};

/// JSON Schema pattern of a Go-style duration string such as `1m30s` or `500ms`.
pub const DURATION_PATTERN: &str = r"^(0|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$";

/// JSON Schema pattern of a byte size string such as `512m`, `1.5GB` or `1024`.
pub const BYTE_SIZE_PATTERN: &str = r"^[0-9]+(\.[0-9]+)?\s?([kKmMgGtTpP][iI]?)?[bB]?$";

const NANOS_PER_SEC: u64 = 1_000_000_000;

/// A duration in nanoseconds.
///
/// Written as a Go duration string (`1m30s`, `500ms`, `1.5s`, `10us`, `2h`, `0s`) or as an
/// integer, which is taken as whole SECONDS (Compose itself only documents strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(pub u64);

impl Duration {
    /// A duration of `secs` seconds.
    pub const fn from_secs(secs: u64) -> Duration {
        Duration(secs.saturating_mul(NANOS_PER_SEC))
    }

    /// A duration of `ms` milliseconds.
    pub const fn from_millis(ms: u64) -> Duration {
        Duration(ms.saturating_mul(1_000_000))
    }

    /// The same duration as a `std::time::Duration`.
    pub const fn as_std(self) -> std::time::Duration {
        std::time::Duration::from_nanos(self.0)
    }

    /// Parses a Go duration string; the error says what is wrong and what is expected.
    pub fn parse(s: &str) -> Result<Duration, UnitError> {
        let bad = |why: DurationFault| UnitError::Duration {
            text: s.to_owned(),
            why,
        };
        if s == "0" {
            return Ok(Duration(0));
        }
        if s.is_empty() {
            return Err(bad(DurationFault::Empty));
        }
        let mut total: u128 = 0;
        let mut rest = s;
        while !rest.is_empty() {
            let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
            if int_len == 0 {
                return Err(bad(DurationFault::NoNumber));
            }
            let (int_part, after) = rest.split_at(int_len);
            let (frac_part, after) = match after.strip_prefix('.') {
                Some(f) => {
                    let n = f.bytes().take_while(u8::is_ascii_digit).count();
                    if n == 0 {
                        return Err(bad(DurationFault::NoFractionDigits));
                    }
                    f.split_at(n)
                }
                None => ("", after),
            };
            let unit_len = after
                .char_indices()
                .find(|(_, c)| c.is_ascii_digit() || *c == '.')
                .map_or(after.len(), |(i, _)| i);
            let (unit, after) = after.split_at(unit_len);
            let scale: u128 = match unit {
                "ns" => 1,
                "us" | "µs" | "μs" => 1_000,
                "ms" => 1_000_000,
                "s" => 1_000_000_000,
                "m" => 60_000_000_000,
                "h" => 3_600_000_000_000,
                "" => return Err(bad(DurationFault::NoUnit)),
                _ => return Err(bad(DurationFault::UnknownUnit(unit.to_owned()))),
            };
            let int: u128 = int_part
                .parse()
                .map_err(|_| bad(DurationFault::NumberTooLarge))?;
            let mut value = int
                .checked_mul(scale)
                .ok_or_else(|| bad(DurationFault::TooLarge))?;
            if !frac_part.is_empty() {
                // Digits beyond nanosecond precision cannot matter; ignoring them avoids overflow.
                let digits = &frac_part[..frac_part.len().min(18)];
                let frac: u128 = digits
                    .parse()
                    .map_err(|_| bad(DurationFault::BadFraction))?;
                value += frac * scale / 10u128.pow(digits.len() as u32);
            }
            total = total
                .checked_add(value)
                .ok_or_else(|| bad(DurationFault::TooLarge))?;
            rest = after;
        }
        u64::try_from(total)
            .map(Duration)
            .map_err(|_| bad(DurationFault::TooLarge))
    }
}

/// Formats `value / unit` with a trimmed decimal fraction, as Go does (`1.5`).
fn write_fraction(f: &mut fmt::Formatter, value: u64, unit: u64, digits: usize) -> fmt::Result {
    write!(f, "{}", value / unit)?;
    let rem = value % unit;
    if rem != 0 {
        let frac = format!("{rem:0digits$}");
        write!(f, ".{}", frac.trim_end_matches('0'))?;
    }
    Ok(())
}

impl fmt::Display for Duration {
    /// Compact Go style: `0s`, `250ns`, `1.5ms`, `500ms`, `1.5s`, `1m30s`, `2h`, `1h0m5s` → `1h5s`.
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let ns = self.0;
        match ns {
            0 => f.write_str("0s"),
            1..1_000 => write!(f, "{ns}ns"),
            1_000..1_000_000 => {
                write_fraction(f, ns, 1_000, 3)?;
                f.write_str("us")
            }
            1_000_000..NANOS_PER_SEC => {
                write_fraction(f, ns, 1_000_000, 6)?;
                f.write_str("ms")
            }
            _ => {
                let hours = ns / (3600 * NANOS_PER_SEC);
                let mins = ns / (60 * NANOS_PER_SEC) % 60;
                let rest = ns % (60 * NANOS_PER_SEC);
                if hours > 0 {
                    write!(f, "{hours}h")?;
                }
                if mins > 0 {
                    write!(f, "{mins}m")?;
                }
                if rest > 0 {
                    write_fraction(f, rest, NANOS_PER_SEC, 9)?;
                    f.write_str("s")?;
                }
                Ok(())
            }
        }
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Scalar::deserialize(d)? {
            Scalar::Str(s) => Duration::parse(&s).map_err(de::Error::custom),
            Scalar::UInt(secs) => Ok(Duration::from_secs(secs)),
            other => Err(de::Error::custom(format!(
                "expected a duration such as `30s` or `1m30s`, found {}",
                other.kind()
            ))),
        }
    }
}

impl JsonSchema for Duration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A duration: a Go-style string (`30s`, `1m30s`, `500ms`, `1.5h`) or an integer number of seconds.",
            "anyOf": [
                { "type": "string", "pattern": DURATION_PATTERN },
                { "type": "integer", "minimum": 0 }
            ]
        })
    }
}

/// A size in bytes.
///
/// Written as an integer or a string with an optional binary unit (`b`, `k`, `m`, `g`, `t`,
/// `p`, optionally followed by `b`, any case): `512M`, `1g`, `1.5GB`, `100k`, `1024`, `10b`.
/// Multiples are 1024 as in Docker's `RAMInBytes`. Serialized as an integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// Parses a byte size string such as `512m` or `1.5GB`.
    pub fn parse(s: &str) -> Result<ByteSize, UnitError> {
        let bad = || UnitError::ByteSize(s.to_owned());
        let t = s.trim();
        let num_len = t
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b'.')
            .count();
        let (num, unit) = t.split_at(num_len);
        let unit = unit.trim_start().to_ascii_lowercase();
        let unit = unit.strip_suffix('b').unwrap_or(&unit);
        let unit = unit.strip_suffix('i').unwrap_or(unit);
        let shift = match unit {
            "" => 0,
            "k" => 10,
            "m" => 20,
            "g" => 30,
            "t" => 40,
            "p" => 50,
            _ => return Err(bad()),
        };
        if num.is_empty()
            || num.starts_with('.')
            || num.ends_with('.')
            || num.matches('.').count() > 1
        {
            return Err(bad());
        }
        let multiplier = 1u64 << shift;
        let bytes = match num.split_once('.') {
            None => num
                .parse::<u64>()
                .ok()
                .and_then(|n| n.checked_mul(multiplier)),
            Some(_) => {
                let f: f64 = num.parse().map_err(|_| bad())?;
                let v = f * multiplier as f64;
                (v < u64::MAX as f64).then_some(v as u64)
            }
        };
        bytes.map(ByteSize).ok_or_else(bad)
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Scalar::deserialize(d)? {
            Scalar::Str(s) => ByteSize::parse(&s).map_err(de::Error::custom),
            Scalar::UInt(n) => Ok(ByteSize(n)),
            other => Err(de::Error::custom(format!(
                "expected a size such as `512m` or a number of bytes, found {}",
                other.kind()
            ))),
        }
    }
}

impl JsonSchema for ByteSize {
    fn schema_name() -> Cow<'static, str> {
        "ByteSize".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A size: an integer number of bytes or a string with a binary unit (`512m`, `1g`, `1.5GB`, `100k`).",
            "anyOf": [
                { "type": "integer", "minimum": 0 },
                { "type": "string", "pattern": BYTE_SIZE_PATTERN }
            ]
        })
    }
}

/// A number of CPUs (`0.5` is half a CPU); written as a number or a numeric string.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize)]
pub struct Cpus(pub f64);

impl Cpus {
    /// The same amount in billionths of a CPU, as the Docker API wants it.
    pub fn nano_cpus(self) -> i64 {
        (self.0 * 1e9).round() as i64
    }
}

impl<'de> Deserialize<'de> for Cpus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let bad = |v: &dyn fmt::Display| {
            de::Error::custom(format!(
                "invalid cpus `{v}`: use a non-negative number such as `0.5` or `2`"
            ))
        };
        let value = match Scalar::deserialize(d)? {
            Scalar::Str(s) => s.trim().parse::<f64>().map_err(|_| bad(&s))?,
            Scalar::UInt(n) => n as f64,
            Scalar::Int(n) => n as f64,
            Scalar::Float(f) => f,
            other => return Err(bad(&other.kind())),
        };
        if !value.is_finite() || value < 0.0 {
            return Err(bad(&value));
        }
        Ok(Cpus(value))
    }
}

impl JsonSchema for Cpus {
    fn schema_name() -> Cow<'static, str> {
        "Cpus".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A number of CPUs, as a number or a numeric string (`0.5`).",
            "anyOf": [
                { "type": "number", "minimum": 0 },
                { "type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$" }
            ]
        })
    }
}

/// A Unix file mode such as `0440`.
///
/// An integer is taken as is (YAML `288`); a string is always OCTAL (`"0440"`, `"440"`),
/// which is what Compose users mean by `mode: 0440`. Serialized as a 4-digit octal string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FileMode(pub u32);

impl FileMode {
    /// Parses an octal mode string such as `0440` or `644`.
    pub fn parse(s: &str) -> Result<FileMode, UnitError> {
        let digits = s.strip_prefix("0o").unwrap_or(s);
        u32::from_str_radix(digits, 8)
            .ok()
            .filter(|m| *m <= 0o7777 && !digits.is_empty() && !digits.starts_with('+'))
            .map(FileMode)
            .ok_or_else(|| UnitError::FileMode(s.to_owned()))
    }
}

impl fmt::Display for FileMode {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{:04o}", self.0)
    }
}

impl Serialize for FileMode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for FileMode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Scalar::deserialize(d)? {
            Scalar::Str(s) => FileMode::parse(&s).map_err(de::Error::custom),
            Scalar::UInt(n) if n <= 0o7777 => Ok(FileMode(n as u32)),
            other => Err(de::Error::custom(format!(
                "invalid file mode ({}): use an octal string such as \"0440\"",
                match other {
                    Scalar::UInt(n) => n.to_string(),
                    o => o.kind().to_owned(),
                }
            ))),
        }
    }
}

impl JsonSchema for FileMode {
    fn schema_name() -> Cow<'static, str> {
        "FileMode".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A file mode: an octal string (`\"0440\"`) or an integer taken as is.",
            "anyOf": [
                { "type": "string", "pattern": "^(0o)?[0-7]{1,4}$" },
                { "type": "integer", "minimum": 0, "maximum": 4095 }
            ]
        })
    }
}

#[cfg(test)]
mod tests;
