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
            Value::Array(_) => "an array",
            Value::Table(_) => "a table",
        }
    }
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
        DeValue::Integer(i) => match i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()) {
            Ok(v) => Value::Int(v),
            // Integers beyond i64 are kept as floats so that range checks can report them.
            Err(_) => Value::Float(i.as_str().replace('_', "").parse().unwrap_or(f64::INFINITY)),
        },
        DeValue::Float(f) => Value::Float(f.as_str().replace('_', "").parse().unwrap_or(f64::NAN)),
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
}
