//! Why a unit string does not parse.

/// Why a duration, byte size or file mode string does not parse; the message says what is
/// expected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    /// Not a Go-style duration.
    #[error("invalid duration `{text}`: {why} (use e.g. `30s`, `1m30s`, `500ms`, `2h`)")]
    Duration {
        /// The text as written.
        text: String,
        /// What is wrong with it.
        why: DurationFault,
    },
    /// Not a byte size.
    #[error("invalid size `{0}`: use bytes or a number with a unit (`512m`, `1g`, `100k`)")]
    ByteSize(String),
    /// Not an octal file mode.
    #[error("invalid file mode `{0}`: use octal digits such as `0440` or `0644`")]
    FileMode(String),
}

/// What is wrong with a duration string.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DurationFault {
    /// Nothing was written.
    #[error("it is empty")]
    Empty,
    /// A part does not start with digits.
    #[error("expected a number")]
    NoNumber,
    /// A `.` with no digits after it.
    #[error("expected digits after `.`")]
    NoFractionDigits,
    /// A number without a unit (only `0` may go without).
    #[error("a number has no unit")]
    NoUnit,
    /// A unit other than `ns`, `us`, `ms`, `s`, `m`, `h`.
    #[error("unknown unit `{0}`")]
    UnknownUnit(String),
    /// A number with more digits than fit.
    #[error("number too large")]
    NumberTooLarge,
    /// The duration is too long to count in nanoseconds.
    #[error("too large")]
    TooLarge,
    /// The digits after `.` do not parse.
    #[error("bad fraction")]
    BadFraction,
}
