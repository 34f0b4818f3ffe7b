//! Parsing of repeated `KEY=VALUE` flags shared by `service update` and `node update`.

use std::collections::BTreeMap;

use super::error::{CliError, Result};

/// `K=V` pairs of `flag`; with `require_value` false, a bare `k` means an empty value (as Docker
/// reads `--label-add k`).
pub fn pairs(
    flag: &str,
    values: &[String],
    require_value: bool,
) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for value in values {
        let (key, val) = match value.split_once('=') {
            Some((key, val)) => (key, val),
            None if !require_value => (value.as_str(), ""),
            None => {
                return Err(CliError::Usage(format!(
                    "{flag} `{value}`: write KEY=VALUE"
                )));
            }
        };
        if key.is_empty() {
            return Err(CliError::Usage(format!(
                "{flag} `{value}`: the name before `=` is empty"
            )));
        }
        out.insert(key.to_owned(), val.to_owned());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_split_on_the_first_equals_sign() {
        let parsed = pairs("--env-add", &["A=b=c".into()], true).expect("pairs");
        assert_eq!(parsed["A"], "b=c");
        assert!(pairs("--env-add", &["A".into()], true).is_err());
        assert_eq!(
            pairs("--label-add", &["k".into()], false).expect("bare")["k"],
            ""
        );
        assert!(pairs("--label-add", &["=v".into()], false).is_err());
    }
}
