//! YAML text → JSON value plus the source position of every node.
//!
//! Why not deserialize YAML straight into the model types: validation runs against the published
//! JSON Schemas (so `swarmctl validate` and editors agree), and every error — schema, type or
//! semantic — must name the line and column of the offending node. So documents are read once
//! into a position-carrying tree, turned into `serde_json::Value`, and the positions are kept in
//! a side table keyed by JSON pointer.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use serde_saphyr::{Budget, DuplicateKeyPolicy, Options, PropertySyntax, Spanned};

use super::limits;

/// A 1-based line and column in a source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pos {
    pub line: u64,
    pub column: u64,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// One YAML document as JSON, with the positions of its nodes.
#[derive(Clone, Debug)]
pub struct Document {
    pub value: Value,
    pub positions: Positions,
    /// Pointers of string scalars whose source text held a `$`: interpolation yields strings,
    /// and these may be converted to the number or boolean their field expects (as Compose does
    /// for `replicas: ${N}`).
    pub interpolated: HashSet<String>,
}

/// JSON pointer (`/services/web/ports/0`) → where that node starts in the source.
#[derive(Clone, Debug, Default)]
pub struct Positions {
    values: HashMap<String, Pos>,
    keys: HashMap<String, Pos>,
}

impl Positions {
    /// Position of the value at `pointer`, or of its nearest ancestor that has one.
    pub fn value(&self, pointer: &str) -> Pos {
        self.lookup(&self.values, pointer)
    }

    /// Position of the mapping key that names `pointer` (for "unknown key" errors), falling back
    /// to the value's position.
    pub fn key(&self, pointer: &str) -> Pos {
        match self.keys.get(pointer) {
            Some(pos) => *pos,
            None => self.value(pointer),
        }
    }

    fn lookup(&self, table: &HashMap<String, Pos>, pointer: &str) -> Pos {
        let mut current = pointer;
        loop {
            if let Some(pos) = table.get(current) {
                return *pos;
            }
            match current.rfind('/') {
                Some(cut) => current = &current[..cut],
                None => return self.values.get("").copied().unwrap_or_default(),
            }
        }
    }
}

/// Escapes one JSON-pointer segment (RFC 6901).
pub fn escape_segment(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// A YAML parse failure with its location.
#[derive(Debug)]
pub struct ParseError {
    pub pos: Pos,
    pub message: String,
}

/// The YAML node tree as serde-saphyr delivers it (merge keys already applied, aliases
/// replayed, interpolation done).
enum YamlNode {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<YamlNode>>),
    Map(Vec<(Spanned<YamlNode>, Spanned<YamlNode>)>),
}

impl<'de> Deserialize<'de> for YamlNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = YamlNode;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<YamlNode, E> {
        Ok(YamlNode::Null)
    }
    fn visit_none<E>(self) -> Result<YamlNode, E> {
        Ok(YamlNode::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<YamlNode, D::Error> {
        YamlNode::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<YamlNode, E> {
        Ok(YamlNode::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<YamlNode, E> {
        Ok(YamlNode::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<YamlNode, E> {
        Ok(YamlNode::UInt(v))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<YamlNode, E> {
        i64::try_from(v)
            .map(YamlNode::Int)
            .map_err(|_| E::custom(format!("integer {v} is out of range")))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<YamlNode, E> {
        u64::try_from(v)
            .map(YamlNode::UInt)
            .map_err(|_| E::custom(format!("integer {v} is out of range")))
    }
    fn visit_f64<E>(self, v: f64) -> Result<YamlNode, E> {
        Ok(YamlNode::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<YamlNode, E> {
        Ok(YamlNode::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<YamlNode, E> {
        Ok(YamlNode::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<YamlNode, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(YamlNode::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<YamlNode, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(YamlNode::Map(entries))
    }
}

fn options(env: &HashMap<String, String>) -> Options {
    let mut budget = Budget::default();
    budget.max_depth = limits::MAX_DEPTH;
    budget.max_aliases = limits::MAX_ALIASES;
    budget.max_nodes = limits::MAX_NODES;
    budget.max_documents = limits::MAX_DOCUMENTS;
    let mut options = Options::default().with_properties(env.clone());
    options.budget = Some(budget);
    options.alias_limits.max_total_replayed_events = limits::MAX_REPLAYED_EVENTS;
    options.duplicate_keys = DuplicateKeyPolicy::Error;
    options.property_syntax = PropertySyntax::DockerCompose;
    // `mode: 0440` must reach the model as the text "0440" so it can be read as octal, the way
    // every Compose user means it (YAML 1.2 would read decimal 440).
    options.leading_zero_numbers_as_strings = true;
    // YAML 1.1 `yes`/`no`/`on`/`off` stay strings, as in Compose v2 (`FOO: yes` is "yes").
    options.strict_booleans = true;
    options
}

/// Parses every document in `text` (documents separated by `---`), interpolating `${VAR}`
/// forms from `env` with Compose semantics.
pub fn parse(text: &str, env: &HashMap<String, String>) -> Result<Vec<Document>, ParseError> {
    let docs: Vec<Spanned<YamlNode>> =
        serde_saphyr::from_multiple_with_options(text, options(env)).map_err(parse_error)?;
    Ok(docs
        .into_iter()
        .map(|node| {
            let mut doc = Document {
                value: Value::Null,
                positions: Positions::default(),
                interpolated: HashSet::new(),
            };
            doc.value = to_json(node, String::new(), text, &mut doc);
            doc
        })
        .collect())
}

fn parse_error(err: serde_saphyr::Error) -> ParseError {
    let pos = err
        .location()
        .map(|l| Pos {
            line: l.line(),
            column: l.column(),
        })
        .unwrap_or_default();
    ParseError {
        pos,
        message: friendly(&err, &first_line(&err.without_snippet().to_string())),
    }
}

/// Rephrases the parser's limit and duplicate errors as advice; the rest read well as is.
fn friendly(err: &serde_saphyr::Error, message: &str) -> String {
    use serde_saphyr::Error;
    use serde_saphyr::budget::BudgetBreach;
    match original(err) {
        Error::AliasReplayLimitExceeded { .. }
        | Error::Budget {
            breach: BudgetBreach::Aliases { .. } | BudgetBreach::AliasAnchorRatio { .. },
            ..
        } => format!(
            "too many alias expansions (limit {} replayed nodes): the file looks like an alias \
             bomb (\"billion laughs\"); share fewer, smaller anchors",
            limits::MAX_REPLAYED_EVENTS
        ),
        Error::Budget {
            breach: BudgetBreach::Depth { .. },
            ..
        } => format!(
            "nesting deeper than {} levels; no stack needs that much depth, flatten the file",
            limits::MAX_DEPTH
        ),
        Error::Budget { .. } => {
            format!("the file is too large or complex to load safely ({message})")
        }
        Error::DuplicateMappingKey { key: Some(key), .. } => {
            format!("duplicate key `{key}`; a key may appear only once in a mapping")
        }
        Error::UnresolvedProperty { .. } | Error::PropertyRequiredButUnset { .. } => {
            message.strip_prefix("missing property ").map_or_else(
                || message.to_owned(),
                |rest| format!("required variable {rest}"),
            )
        }
        _ => message.to_owned(),
    }
}

/// The error under serde-saphyr's alias and snippet wrappers.
fn original(mut err: &serde_saphyr::Error) -> &serde_saphyr::Error {
    while let serde_saphyr::Error::AliasError { error, .. }
    | serde_saphyr::Error::WithSnippet { error, .. } = err
    {
        err = error;
    }
    err
}

/// serde-saphyr appends " at line L column C" and snippets; we print positions ourselves.
fn first_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or(message).trim();
    match line.find(" at line ") {
        Some(cut) => line[..cut].to_owned(),
        None => line.to_owned(),
    }
}

fn pos_of<T>(node: &Spanned<T>) -> Pos {
    Pos {
        line: node.referenced.line(),
        column: node.referenced.column(),
    }
}

fn source_text<'a, T>(node: &Spanned<T>, text: &'a str) -> &'a str {
    let span = node.referenced.span();
    match (span.byte_offset(), span.byte_len()) {
        (Some(start), Some(len)) => usize::try_from(start)
            .ok()
            .zip(usize::try_from(start + len).ok())
            .and_then(|(start, end)| text.get(start..end))
            .unwrap_or(""),
        _ => "",
    }
}

fn to_json(node: Spanned<YamlNode>, pointer: String, text: &str, doc: &mut Document) -> Value {
    doc.positions.values.insert(pointer.clone(), pos_of(&node));
    if matches!(node.value, YamlNode::Str(_)) && source_text(&node, text).contains('$') {
        doc.interpolated.insert(pointer.clone());
    }
    match node.value {
        YamlNode::Null => Value::Null,
        YamlNode::Bool(b) => Value::Bool(b),
        YamlNode::Int(i) => Value::Number(i.into()),
        YamlNode::UInt(u) => Value::Number(u.into()),
        YamlNode::Float(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
        YamlNode::Str(s) => Value::String(s),
        YamlNode::Seq(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| to_json(item, format!("{pointer}/{i}"), text, doc))
                .collect(),
        ),
        YamlNode::Map(entries) => {
            let mut map = Map::new();
            for (key, value) in entries {
                let name = key_text(&key.value);
                let child = format!("{pointer}/{}", escape_segment(&name));
                doc.positions.keys.insert(child.clone(), pos_of(&key));
                let value = to_json(value, child, text, doc);
                map.insert(name, value);
            }
            Value::Object(map)
        }
    }
}

/// Mapping keys are strings in JSON; YAML allows `8080: x` or `true: y`, which Compose reads as
/// their text.
fn key_text(node: &YamlNode) -> String {
    match node {
        YamlNode::Null => "null".into(),
        YamlNode::Bool(b) => b.to_string(),
        YamlNode::Int(i) => i.to_string(),
        YamlNode::UInt(u) => u.to_string(),
        YamlNode::Float(f) => f.to_string(),
        YamlNode::Str(s) => s.clone(),
        YamlNode::Seq(_) | YamlNode::Map(_) => "<complex key>".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Document {
        let mut docs = parse(text, &HashMap::new()).expect("parses");
        assert_eq!(docs.len(), 1);
        docs.remove(0)
    }

    #[test]
    fn keeps_positions_of_nested_values_and_keys() {
        let doc = one("services:\n  web:\n    image: nginx\n    ports:\n      - \"80:80\"\n");
        assert_eq!(doc.value["services"]["web"]["image"], "nginx");
        assert_eq!(doc.positions.value("/services/web/image").line, 3);
        assert_eq!(
            doc.positions.value("/services/web/ports/0"),
            Pos { line: 5, column: 9 }
        );
        assert_eq!(
            doc.positions.key("/services/web/ports"),
            Pos { line: 4, column: 5 }
        );
        // Unknown deeper pointer falls back to the nearest ancestor.
        assert_eq!(doc.positions.value("/services/web/ports/0/x").line, 5);
    }

    #[test]
    fn merge_keys_and_anchors_expand() {
        let doc = one(
            "x-base: &base\n  image: busybox\n  environment:\n    A: \"1\"\nservices:\n  a:\n    <<: *base\n    command: sh\n  b:\n    <<: [*base]\n    image: other\n",
        );
        assert_eq!(doc.value["services"]["a"]["image"], "busybox");
        assert_eq!(doc.value["services"]["a"]["environment"]["A"], "1");
        assert_eq!(doc.value["services"]["b"]["image"], "other");
    }

    #[test]
    fn leading_zero_integers_stay_text_and_yes_stays_a_string() {
        let doc = one("mode: 0440\nplain: 440\nflag: yes\nreal: true\n");
        assert_eq!(doc.value["mode"], "0440");
        assert_eq!(doc.value["plain"], 440);
        assert_eq!(doc.value["flag"], "yes");
        assert_eq!(doc.value["real"], true);
    }

    #[test]
    fn interpolates_with_compose_rules() {
        let env = HashMap::from([("TAG".to_string(), "1.27".to_string())]);
        let docs = parse(
            "image: \"nginx:${TAG}\"\nport: ${PORT:-8080}\nlit: $$HOME\n",
            &env,
        )
        .expect("parses");
        assert_eq!(docs[0].value["image"], "nginx:1.27");
        assert_eq!(docs[0].value["port"], "8080");
        assert!(docs[0].interpolated.contains("/port"));
        assert!(!docs[0].interpolated.contains("/image") || docs[0].value["image"] == "nginx:1.27");
        assert_eq!(docs[0].value["lit"], "$HOME");
    }

    #[test]
    fn required_variable_reports_its_message() {
        let err = parse("image: ${TAG:?set TAG to the release}\n", &HashMap::new())
            .expect_err("unset required variable");
        assert!(
            err.message.contains("set TAG to the release"),
            "{}",
            err.message
        );
        assert_eq!(err.pos.line, 1);
    }

    #[test]
    fn duplicate_keys_are_errors_with_a_line() {
        let err = parse("a: 1\nb: 2\na: 3\n", &HashMap::new()).expect_err("duplicate");
        assert_eq!(err.pos.line, 3, "{}", err.message);
    }

    #[test]
    fn several_documents() {
        let docs = parse("kind: A\n---\nkind: B\n", &HashMap::new()).expect("parses");
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].positions.value("/kind").line, 3);
    }
}
