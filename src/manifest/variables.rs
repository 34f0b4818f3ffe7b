//! Compose replaces an unset `${VAR}` with an empty string and warns; serde-saphyr does the
//! replacement, this finds the references so the warning can name the variable and the line.

use std::collections::HashMap;

use super::yaml::Pos;

/// Plain `$VAR` / `${VAR}` references (no default, no required marker) to unset variables.
pub fn unset_references(text: &str, vars: &HashMap<String, String>) -> Vec<(Pos, String)> {
    let mut found = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let code = strip_comment(line);
        let bytes = code.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] != b'$' {
                i += 1;
                continue;
            }
            if bytes.get(i + 1) == Some(&b'$') {
                i += 2;
                continue;
            }
            let (name, plain) = reference_at(&code[i + 1..]);
            if plain && !name.is_empty() && !vars.contains_key(name) {
                let pos = Pos {
                    line: index as u64 + 1,
                    column: code[..i].chars().count() as u64 + 1,
                };
                found.push((pos, name.to_owned()));
            }
            i += 1;
        }
    }
    found
}

/// The variable name after a `$`, and whether the reference has no operator (`:-`, `?`, ...).
fn reference_at(rest: &str) -> (&str, bool) {
    let (braced, body) = match rest.strip_prefix('{') {
        Some(body) => (true, body),
        None => (false, rest),
    };
    let end = body
        .char_indices()
        .find(|(i, c)| !(c.is_ascii_alphanumeric() || *c == '_') || (*i == 0 && c.is_ascii_digit()))
        .map_or(body.len(), |(i, _)| i);
    let name = &body[..end];
    let plain = !braced || body[end..].starts_with('}');
    (name, plain)
}

/// Drops a trailing `# comment` (a `#` at the start or after whitespace, outside quotes).
fn strip_comment(line: &str) -> &str {
    let mut quote = None;
    let mut previous = ' ';
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') if previous.is_whitespace() => return &line[..i],
            _ => {}
        }
        previous = c;
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_plain_unset_references_only() {
        let vars = HashMap::from([("SET".to_string(), "x".to_string())]);
        let text =
            "a: ${SET}\nb: ${UNSET}:/media\nc: ${D:-x} $$LIT ${E?msg}\nd: $BARE # ${IN_COMMENT}\n";
        let found = unset_references(text, &vars);
        let names: Vec<&str> = found.iter().map(|(_, n)| n.as_str()).collect();
        assert_eq!(names, vec!["UNSET", "BARE"]);
        assert_eq!(found[0].0, Pos { line: 2, column: 4 });
    }
}
