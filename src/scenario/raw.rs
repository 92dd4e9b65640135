//! The raw scenario: TOML parsed into an owned tree that remembers where every key and value came from.
//!
//! serde's derive stops at the first error; to report every problem at once, the scenario is first parsed
//! into this tree (syntax errors are recovered where the parser can), then read field by field by
//! `crate::scenario::reader`. Sweeps override values in the tree before it is read; overridden values carry
//! no span, and problems with them name the override instead.

use std::ops::Range;

use toml::de::{DeTable, DeValue};

pub type Span = Range<usize>;

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub span: Option<Span>,
    pub value: Value,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Datetime(String),
    /// A number no `Int` or `Float` holds, as written: an integer beyond 64 bits (a `seed` up to `u64::MAX`
    /// is one) or a float beyond ±1.8e308, which would otherwise read as infinity. Kept as text so that a
    /// message can echo it and a whole-number reader can take it whole.
    BigNumber(String),
    Array(Vec<Node>),
    Table(Table),
}

impl Value {
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "a string",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Bool(_) => "a boolean",
            Value::Datetime(_) => "a date-time",
            Value::BigNumber(text) if is_whole(text) => "an integer",
            Value::BigNumber(_) => "a float",
            Value::Array(_) => "an array",
            Value::Table(_) => "a table",
        }
    }

    /// The value as a number, if it is one (an integer or a float).
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Float(x) => Some(x),
            Value::Int(i) => Some(i as f64),
            Value::BigNumber(ref text) => text.parse().ok(),
            _ => None,
        }
    }

    /// The value as a whole number, if it is an integer, however large: `None` for an integer beyond 128 bits.
    pub fn as_i128(&self) -> Option<i128> {
        match self {
            Value::Int(i) => Some(i128::from(*i)),
            Value::BigNumber(text) if is_whole(text) => text.parse().ok(),
            _ => None,
        }
    }
}

/// Whether a number's text is an integer (digits with an optional sign), not a float.
pub fn is_whole(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Table {
    pub entries: Vec<Entry>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_span: Option<Span>,
    pub node: Node,
}

impl Table {
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries.iter().find(|e| e.key == key).map(|e| &e.node)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        self.entries.iter_mut().find(|e| e.key == key).map(|e| &mut e.node)
    }

    pub fn insert(&mut self, key: &str, node: Node) {
        match self.get_mut(key) {
            Some(existing) => *existing = node,
            None => self.entries.push(Entry {
                key: key.to_string(),
                key_span: None,
                node,
            }),
        }
    }
}

/// A TOML syntax error with its location.
#[derive(Clone, Debug)]
pub struct SyntaxError {
    pub span: Option<Span>,
    pub message: String,
}

/// Parses TOML text into a spanned tree, recovering from syntax errors where possible.
pub fn parse(text: &str) -> (Node, Vec<SyntaxError>) {
    let (root, errors) = DeTable::parse_recoverable(text);
    let span = root.span();
    let table = convert_table(root.get_ref());
    let errors = errors
        .into_iter()
        .map(|e| SyntaxError {
            span: e.span(),
            message: e.message().trim().to_string(),
        })
        .collect();
    (
        Node {
            span: Some(span),
            value: Value::Table(table),
        },
        errors,
    )
}

fn convert_table(table: &DeTable<'_>) -> Table {
    let entries = table
        .iter()
        .map(|(key, value)| Entry {
            key: key.get_ref().to_string(),
            key_span: Some(key.span()),
            node: Node {
                span: Some(value.span()),
                value: convert_value(value.get_ref()),
            },
        })
        .collect();
    Table { entries }
}

fn convert_value(value: &DeValue<'_>) -> Value {
    match value {
        DeValue::String(s) => Value::Str(s.to_string()),
        DeValue::Integer(i) => {
            let digits = i.as_str().replace('_', "");
            match i64::from_str_radix(&digits, i.radix()) {
                Ok(v) => Value::Int(v),
                // Integers beyond i64 are kept whole, in decimal, so that range checks can report them as written.
                Err(_) => Value::BigNumber(
                    i128::from_str_radix(&digits, i.radix()).map_or_else(|_| i.to_string(), |wide| wide.to_string()),
                ),
            }
        }
        DeValue::Float(f) => {
            let text = f.as_str().replace('_', "");
            match text.parse::<f64>() {
                // A literal beyond the range of a float parses as infinity; `inf` written as such stays one.
                Ok(x) if x.is_infinite() && !text.trim_start_matches(['-', '+']).starts_with("inf") => {
                    Value::BigNumber(text)
                }
                Ok(x) => Value::Float(x),
                Err(_) => Value::Float(f64::NAN),
            }
        }
        DeValue::Boolean(b) => Value::Bool(*b),
        DeValue::Datetime(d) => Value::Datetime(d.to_string()),
        DeValue::Array(a) => Value::Array(
            a.iter()
                .map(|v| Node {
                    span: Some(v.span()),
                    value: convert_value(v.get_ref()),
                })
                .collect(),
        ),
        DeValue::Table(t) => Value::Table(convert_table(t)),
    }
}

/// Writes a tree back as TOML text: scalars and inline arrays first, then sub-tables and arrays of tables.
/// Comments and layout are not kept; this is for generated scenarios, which have none.
pub fn to_toml(root: &Node) -> String {
    let mut out = String::new();
    if let Value::Table(table) = &root.value {
        write_table(&mut out, table, "", false);
    }
    out
}

fn is_table_array(node: &Node) -> bool {
    matches!(&node.value, Value::Array(items) if !items.is_empty() && items.iter().all(|i| matches!(i.value, Value::Table(_))))
}

fn write_table(out: &mut String, table: &Table, path: &str, array_entry: bool) {
    let inline: Vec<&Entry> = table
        .entries
        .iter()
        .filter(|e| !matches!(e.node.value, Value::Table(_)) && !is_table_array(&e.node))
        .collect();
    if !path.is_empty() {
        if !out.is_empty() {
            out.push('\n');
        }
        if array_entry {
            out.push_str(&format!("[[{path}]]\n"));
        } else {
            out.push_str(&format!("[{path}]\n"));
        }
    }
    for e in inline {
        out.push_str(&format!("{} = {}\n", key_text(&e.key), value_text(&e.node.value)));
    }
    for e in &table.entries {
        let child = if path.is_empty() {
            key_text(&e.key)
        } else {
            format!("{path}.{}", key_text(&e.key))
        };
        match &e.node.value {
            Value::Table(t) => write_table(out, t, &child, false),
            Value::Array(items) if is_table_array(&e.node) => {
                for item in items {
                    if let Value::Table(t) = &item.value {
                        write_table(out, t, &child, true);
                    }
                }
            }
            _ => {}
        }
    }
}

fn key_text(key: &str) -> String {
    if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        key.to_string()
    } else {
        string_text(key)
    }
}

fn string_text(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn value_text(value: &Value) -> String {
    match value {
        Value::Str(s) => string_text(s),
        Value::Int(i) => i.to_string(),
        // Debug keeps every digit and a decimal point or exponent, so the value reads back as the same float.
        Value::Float(x) if x.is_nan() => "nan".to_string(),
        Value::Float(x) if x.is_infinite() => if *x > 0.0 { "inf" } else { "-inf" }.to_string(),
        Value::Float(x) => format!("{x:?}"),
        Value::Bool(b) => b.to_string(),
        Value::Datetime(d) => d.clone(),
        Value::BigNumber(text) => text.clone(),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(|i| value_text(&i.value)).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Table(t) => {
            let parts: Vec<String> = t
                .entries
                .iter()
                .map(|e| format!("{} = {}", key_text(&e.key), value_text(&e.node.value)))
                .collect();
            format!("{{ {} }}", parts.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_tables_with_spans() {
        let text = "[a]\nx = 1\ny = 2.5\n[[b]]\nname = \"n\"\n";
        let (root, errors) = parse(text);
        assert!(errors.is_empty());
        let Value::Table(t) = &root.value else { panic!() };
        let Value::Table(a) = &t.get("a").unwrap().value else {
            panic!()
        };
        let x = a.get("x").unwrap();
        assert_eq!(x.value, Value::Int(1));
        assert_eq!(&text[x.span.clone().unwrap()], "1");
        let Value::Array(b) = &t.get("b").unwrap().value else {
            panic!()
        };
        assert_eq!(b.len(), 1);
    }

    #[test]
    fn reports_syntax_errors_with_a_span() {
        let (_, errors) = parse("[a]\nx = = 1\n");
        assert!(!errors.is_empty());
        assert!(errors[0].span.is_some());
    }

    #[test]
    fn written_toml_reads_back_as_the_same_tree() {
        let text = "top = 1\n[a]\nx = 1.5e-7\ny = \"q\\\"s\"\nz = [1, 2]\nt = { k = true }\n[a.b]\nw = -3\n[[c]]\nname = \"one\"\n[[c]]\nname = \"two\"\nv = 1e20\n";
        let (root, errors) = parse(text);
        assert!(errors.is_empty());
        let (again, errors) = parse(&to_toml(&root));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(strip_spans(&root), strip_spans(&again));
    }

    fn strip_spans(node: &Node) -> Node {
        Node {
            span: None,
            value: match &node.value {
                Value::Array(items) => Value::Array(items.iter().map(strip_spans).collect()),
                Value::Table(t) => Value::Table(Table {
                    entries: t
                        .entries
                        .iter()
                        .map(|e| Entry {
                            key: e.key.clone(),
                            key_span: None,
                            node: strip_spans(&e.node),
                        })
                        .collect(),
                }),
                other => other.clone(),
            },
        }
    }
}
