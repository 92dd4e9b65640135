//! Setting scenario values by path, as sweeps do: `manufacturers.bitmain.strategy.prepay_share = 0.5`.
//!
//! A path is dotted keys. Inside an array of tables an element is addressed by its `name` key
//! (`regions.us`) or by its index (`events[0]`). Every table on the way must exist, so a misspelt table
//! fails before anything runs; the last key may be absent (a key left at its default) and is then added,
//! and validation reports it as unknown if it is misspelt. A table or an array cannot be replaced.

use crate::scenario::raw::{Node, Span, Value};
use crate::scenario::reader::nearest;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{path}` names no scenario parameter: {reason}")]
pub struct OverrideError {
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

fn parse_path(path: &str) -> Result<Vec<Step>, OverrideError> {
    let err = |reason: &str| OverrideError {
        path: path.to_string(),
        reason: reason.to_string(),
    };
    let mut steps = vec![];
    for part in path.split('.') {
        if part.is_empty() {
            return Err(err("empty key in the path"));
        }
        let (key, rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            steps.push(Step::Key(key.to_string()));
        }
        let mut rest = rest;
        while let Some(stripped) = rest.strip_prefix('[') {
            let close = stripped.find(']').ok_or_else(|| err("unclosed '['"))?;
            let idx = stripped[..close]
                .parse()
                .map_err(|_| err("an index must be a whole number"))?;
            steps.push(Step::Index(idx));
            rest = &stripped[close + 1..];
        }
        if !rest.is_empty() {
            return Err(err("unexpected text after ']'"));
        }
    }
    Ok(steps)
}

/// Finds the node a path names.
fn resolve<'a>(root: &'a mut Node, path: &str) -> Result<&'a mut Node, OverrideError> {
    let steps = parse_path(path)?;
    let mut node = root;
    let mut walked = String::new();
    for step in steps {
        let here = if walked.is_empty() {
            "the top level".to_string()
        } else {
            format!("`{walked}`")
        };
        node = match (step, &mut node.value) {
            (Step::Key(key), Value::Table(table)) => {
                walked = if walked.is_empty() {
                    key.clone()
                } else {
                    format!("{walked}.{key}")
                };
                // The suggestion is sought only for a key that is missing: a sweep resolves paths many times
                // a cell, and edit distances to every key would be most of its validation time.
                let Some(idx) = table.entries.iter().position(|e| e.key == key) else {
                    let suggestion = nearest(&key, table.entries.iter().map(|e| e.key.as_str()))
                        .map(|near| format!(" (did you mean `{near}`?)"))
                        .unwrap_or_default();
                    return Err(OverrideError {
                        path: path.to_string(),
                        reason: format!("{here} has no key `{key}`{suggestion}"),
                    });
                };
                &mut table.entries[idx].node
            }
            (Step::Key(name), Value::Array(items)) => {
                walked = format!("{walked}.{name}");
                let names: Vec<String> = items
                    .iter()
                    .filter_map(|item| match &item.value {
                        Value::Table(t) => match t.get("name").map(|n| &n.value) {
                            Some(Value::Str(s)) => Some(s.clone()),
                            _ => None,
                        },
                        _ => None,
                    })
                    .collect();
                let idx = names.iter().position(|n| *n == name).ok_or_else(|| {
                    let suggestion = nearest(&name, names.iter().map(String::as_str))
                        .map(|near| format!("did you mean \"{near}\"? "))
                        .unwrap_or_default();
                    OverrideError {
                        path: path.to_string(),
                        reason: format!(
                            "{here} has no entry named \"{name}\" ({suggestion}named: {})",
                            names.join(", ")
                        ),
                    }
                })?;
                &mut items[idx]
            }
            (Step::Index(idx), Value::Array(items)) => {
                walked = format!("{walked}[{idx}]");
                let n = items.len();
                items.get_mut(idx).ok_or_else(|| OverrideError {
                    path: path.to_string(),
                    reason: format!("{here} has {n} entries, so index {idx} is out of range"),
                })?
            }
            (step, value) => {
                return Err(OverrideError {
                    path: path.to_string(),
                    reason: format!("{here} is {} and cannot be indexed by {step:?}", value.type_name()),
                });
            }
        };
    }
    Ok(node)
}

/// `path` as validation names it in problems, entries of arrays of tables by index
/// (`manufacturers.bitmain.strategy.prepay_share` is `manufacturers[0].strategy.prepay_share`); `None` when
/// the path names nothing in `root`.
pub fn indexed_path(root: &Node, path: &str) -> Option<String> {
    let mut node = root;
    let mut indexed = String::new();
    for step in parse_path(path).ok()? {
        node = match (step, &node.value) {
            (Step::Key(key), Value::Table(table)) => {
                if !indexed.is_empty() {
                    indexed.push('.');
                }
                indexed.push_str(&key);
                table.get(&key)?
            }
            (Step::Key(name), Value::Array(items)) => {
                let idx = items.iter().position(|item| match &item.value {
                    Value::Table(t) => t.get("name").is_some_and(|n| n.value == Value::Str(name.clone())),
                    _ => false,
                })?;
                indexed.push_str(&format!("[{idx}]"));
                &items[idx]
            }
            (Step::Index(idx), Value::Array(items)) => {
                indexed.push_str(&format!("[{idx}]"));
                items.get(idx)?
            }
            _ => return None,
        };
    }
    Some(indexed)
}

/// Sets the value at `path`, adding the last key to its table when the file leaves it at its default.
pub fn set(root: &mut Node, path: &str, value: Value) -> Result<(), OverrideError> {
    set_node(root, path, Node { span: None, value })
}

/// `set` with the node's own span: where the new value was written (a `--set` on the command line).
pub fn set_node(root: &mut Node, path: &str, new: Node) -> Result<(), OverrideError> {
    let (parent_path, key) = match path.rsplit_once('.') {
        Some((parent, key)) if !key.contains('[') => (Some(parent), key),
        _ => (None, path),
    };
    if let Some(parent_path) = parent_path {
        let parent = resolve(root, parent_path)?;
        if let Value::Table(table) = &mut parent.value
            && table.get(key).is_none()
        {
            table.insert(key, new);
            return Ok(());
        }
    }
    let node = resolve(root, path)?;
    if matches!(node.value, Value::Table(_) | Value::Array(_)) {
        return Err(OverrideError {
            path: path.to_string(),
            reason: format!("it is {}, not a single value", node.value.type_name()),
        });
    }
    *node = new;
    Ok(())
}

/// Where the text wrote the value at `path` (`None` for a value an override added).
pub fn span(root: &mut Node, path: &str) -> Result<Option<Span>, OverrideError> {
    resolve(root, path).map(|n| n.span.clone())
}

/// Reads the value at `path`, for checks before a sweep starts.
pub fn get(root: &mut Node, path: &str) -> Result<Value, OverrideError> {
    resolve(root, path).map(|n| n.value.clone())
}

/// The node at `path` with its span: where its value was written.
pub fn get_node(root: &mut Node, path: &str) -> Result<Node, OverrideError> {
    resolve(root, path).map(|n| n.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::raw::parse;

    const TEXT: &str = "[price]\nstart_price_usd = 1.0\n[[manufacturers]]\nname = \"a\"\n[manufacturers.strategy]\nprepay_share = 0.5\n[[manufacturers]]\nname = \"b\"\n[manufacturers.strategy]\nprepay_share = 0.5\n";

    #[test]
    fn sets_values_in_named_array_entries() {
        let (mut root, _) = parse(TEXT);
        set(&mut root, "manufacturers.b.strategy.prepay_share", Value::Float(0.9)).unwrap();
        set(&mut root, "manufacturers[0].strategy.prepay_share", Value::Float(0.1)).unwrap();
        assert_eq!(
            get(&mut root, "manufacturers.b.strategy.prepay_share").unwrap(),
            Value::Float(0.9)
        );
        assert_eq!(
            get(&mut root, "manufacturers.a.strategy.prepay_share").unwrap(),
            Value::Float(0.1)
        );
    }

    #[test]
    fn rejects_paths_that_name_nothing() {
        let (mut root, _) = parse(TEXT);
        let e = set(&mut root, "manufacturers.c.strategy.prepay_share", Value::Float(0.9)).unwrap_err();
        assert!(e.reason.contains("no entry named \"c\""), "{e}");
        assert!(set(&mut root, "prices.start_price_usd", Value::Float(1.0)).is_err());
        // A key left at its default can be set; validation judges whether it exists.
        set(&mut root, "price.jump_probability_per_month", Value::Float(0.1)).unwrap();
        assert_eq!(
            get(&mut root, "price.jump_probability_per_month").unwrap(),
            Value::Float(0.1)
        );
        assert!(set(&mut root, "price", Value::Float(1.0)).is_err());
        assert!(set(&mut root, "manufacturers[5].strategy.prepay_share", Value::Float(1.0)).is_err());
    }
}
