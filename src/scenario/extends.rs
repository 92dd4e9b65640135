//! Scenarios built from other scenarios: `extends = "base.toml"`, and `--set key.path=value` on the command line.
//!
//! A scenario that extends another states only what differs. Its tree is merged over the tree of the file it
//! names: tables merge key by key, arrays of named tables (`[[regions]]`, `[[manufacturers]]`, ...) merge entry
//! by entry on `name` (an entry with a new name is appended), and every other value, unnamed arrays of tables
//! such as `[[events]]` included, replaces the one below it.
//!
//! Every text the scenario is built from is a `Source` placed in one offset space, one after the other, and
//! each text's spans are moved to its place there. A span in the merged tree therefore still says which file
//! wrote the value, and where, so a problem is reported at the file, line and column that wrote it.

use std::path::{Path, PathBuf};

use crate::scenario::raw::{self, Node, Span, Value};
use crate::scenario::reader::Problems;
use crate::scenario::{Source, overrides};

/// Offsets left free after each text, so that a span at a text's very end (an unterminated value) is still
/// inside that text's place and not at the start of the next one.
const SOURCE_GAP: usize = 64;

/// The most files in one chain of `extends`: far above any sensible layering, low enough to stop at once.
const MAX_EXTENDS_DEPTH: usize = 32;

/// The texts a scenario is being built from, and the problems found so far.
pub struct Builder {
    pub sources: Vec<Source>,
    pub problems: Problems,
    /// Problems found while merging that do not stop validation (a name used twice in one file's array of
    /// named tables): the merged tree is still validated, and these are reported with its problems.
    pub merge_problems: Problems,
    /// The texts of the files `extends` names, in the order they are read, when they were recorded (by a
    /// shard) rather than to be read from disk.
    pub recorded: Option<Vec<String>>,
    /// How many files `extends` has named so far.
    n_extended: usize,
}

impl Builder {
    pub fn new() -> Builder {
        Builder {
            sources: vec![],
            problems: Problems::default(),
            merge_problems: Problems::default(),
            recorded: None,
            n_extended: 0,
        }
    }

    /// Places a text after the last one; returns its offset.
    fn add(&mut self, file: String, text: String, dir: PathBuf) -> usize {
        let offset = self.sources.last().map_or(0, |s| s.offset + s.text.len() + SOURCE_GAP);
        self.sources.push(Source {
            file,
            text,
            dir,
            offset,
        });
        offset
    }

    /// Parses the file `file` (its text already read), then the files it extends, and returns the merged tree;
    /// `None` when a problem stops the merge. `identity` tells the same file apart under different names.
    pub fn read_file(&mut self, file: String, text: String, dir: PathBuf, identity: PathBuf) -> Option<Node> {
        let mut chain = vec![(identity, file.clone())];
        self.read_chained(file, text, dir, &mut chain)
    }

    fn read_chained(
        &mut self,
        file: String,
        text: String,
        dir: PathBuf,
        chain: &mut Vec<(PathBuf, String)>,
    ) -> Option<Node> {
        let (mut tree, errors) = raw::parse(&text);
        let offset = self.add(file, text, dir.clone());
        shift(&mut tree, offset);
        for e in &errors {
            let span = e.span.clone().map(|s| s.start + offset..s.end + offset);
            self.problems
                .push(span, "", format!("TOML syntax error: {}", e.message));
        }
        if !errors.is_empty() {
            return None;
        }
        let Some(extends) = take_extends(&mut tree) else {
            return Some(tree);
        };
        let Value::Str(name) = &extends.value else {
            self.problems.push(
                extends.span.clone(),
                "extends",
                format!(
                    "`extends` must name the scenario file this one changes, as a string, found {}",
                    extends.value.type_name()
                ),
            );
            return None;
        };
        let parent = dir.join(name);
        let identity = parent.canonicalize().unwrap_or_else(|_| parent.clone());
        if let Some(idx) = chain.iter().position(|(seen, _)| *seen == identity) {
            let mut cycle: Vec<&str> = chain[idx..].iter().map(|(_, file)| file.as_str()).collect();
            let parent_file = parent.display().to_string();
            cycle.push(&parent_file);
            self.problems.push(
                extends.span.clone(),
                "extends",
                format!(
                    "`extends` makes a cycle: {} (a scenario cannot extend itself)",
                    cycle.join(" extends ")
                ),
            );
            return None;
        }
        if chain.len() >= MAX_EXTENDS_DEPTH {
            self.problems.push(
                extends.span.clone(),
                "extends",
                format!("`extends` chains more than {MAX_EXTENDS_DEPTH} files"),
            );
            return None;
        }
        let parent_text = match &self.recorded {
            Some(recorded) => match recorded.get(self.n_extended) {
                Some(text) => text.clone(),
                None => {
                    self.problems.push(
                        extends.span.clone(),
                        "extends",
                        format!("`{name}`, which `extends` names, is not among the files recorded with this scenario"),
                    );
                    return None;
                }
            },
            None => match crate::scenario::read_source(&parent) {
                Ok(text) => text,
                Err(error) => {
                    self.refuse_parent(name, &extends.span, error);
                    return None;
                }
            },
        };
        self.n_extended += 1;
        let parent_dir = parent.parent().map(Path::to_path_buf).unwrap_or_default();
        chain.push((identity, parent.display().to_string()));
        let below = self.read_chained(parent.display().to_string(), parent_text, parent_dir, chain);
        chain.pop();
        Some(merge(below?, tree, &mut self.merge_problems))
    }

    /// A file named by `extends` that cannot be read: at the `extends` that names it, or, for a file that is
    /// not UTF-8, at its first bad byte in that file.
    fn refuse_parent(&mut self, name: &str, span: &Option<Span>, error: crate::scenario::ScenarioError) {
        if error.text.is_empty() {
            for problem in error.problems {
                let message = problem.message.trim_start_matches("cannot read the file: ").to_string();
                self.problems.push(
                    span.clone(),
                    "extends",
                    format!("cannot read `{name}`, which `extends` names: {message}"),
                );
            }
            return;
        }
        let offset = self.add(error.file, error.text, PathBuf::new());
        for problem in error.problems {
            let span = problem.span.map(|s| s.start + offset..s.end + offset);
            self.problems.push(span, "", problem.message);
        }
    }

    /// Applies `--set key.path=value` overrides, in order; each is a text of its own, `--set key.path=value`,
    /// so a problem with its path or its value is shown on it.
    pub fn apply_sets(&mut self, tree: &mut Node, sets: &[String]) {
        const PREFIX: &str = "--set ";
        let working_dir = PathBuf::new();
        for set in sets {
            let offset = self.add("--set".to_string(), format!("{PREFIX}{set}"), working_dir.clone());
            let at = |start: usize, end: usize| Some(offset + PREFIX.len() + start..offset + PREFIX.len() + end);
            let Some((path, value_text)) = set.split_once('=') else {
                self.problems.push(
                    at(0, set.len()),
                    "",
                    "`--set` needs a parameter path and a value, e.g. `--set manufacturers.bitmain.strategy.prepay_share=0.5`",
                );
                continue;
            };
            let path = path.trim_end();
            // The value is read as the value of a TOML key: `0.5`, `"bootstrap"`, `true`, `[1, 2]`.
            let prefix = "v = ";
            let (parsed, errors) = raw::parse(&format!("{prefix}{value_text}"));
            let value_start = offset + PREFIX.len() + set.len() - value_text.len();
            let mut parsed = parsed;
            shift_back(&mut parsed, value_start, prefix.len());
            if !errors.is_empty() {
                for e in errors {
                    let span = e.span.map(|s| {
                        let start = (s.start + value_start).saturating_sub(prefix.len()).max(value_start);
                        start..(s.end + value_start).saturating_sub(prefix.len()).max(start)
                    });
                    self.problems.push(
                        span,
                        path,
                        format!("the value of `--set {path}` is not a TOML value: {}", e.message),
                    );
                }
                continue;
            }
            let node = match parsed.value {
                Value::Table(mut t) if t.entries.len() == 1 && t.entries[0].key == "v" => t.entries.remove(0).node,
                _ => {
                    self.problems.push(
                        at(path.len() + 1, set.len()),
                        path,
                        format!("the value of `--set {path}` must be one TOML value"),
                    );
                    continue;
                }
            };
            if let Err(e) = overrides::set_node(tree, path, node) {
                self.problems.push(at(0, path.len()), path, e.to_string());
            }
        }
    }
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}

/// Removes the top-level `extends` key, returning its value.
fn take_extends(tree: &mut Node) -> Option<Node> {
    let Value::Table(table) = &mut tree.value else {
        return None;
    };
    let idx = table.entries.iter().position(|e| e.key == "extends")?;
    Some(table.entries.remove(idx).node)
}

/// Moves every span of a tree `by` bytes on, to its text's place in the shared offset space.
fn shift(node: &mut Node, by: usize) {
    shift_with(node, &|s: Span| s.start + by..s.end + by);
}

/// Moves the spans of a value parsed from `v = <value>` onto the value's place at `value_start`.
fn shift_back(node: &mut Node, value_start: usize, prefix_len: usize) {
    let to = |x: usize| (x + value_start).saturating_sub(prefix_len).max(value_start);
    shift_with(node, &|s: Span| to(s.start)..to(s.end));
}

fn shift_with(node: &mut Node, f: &dyn Fn(Span) -> Span) {
    node.span = node.span.take().map(f);
    match &mut node.value {
        Value::Table(table) => {
            for entry in &mut table.entries {
                entry.key_span = entry.key_span.take().map(f);
                shift_with(&mut entry.node, f);
            }
        }
        Value::Array(items) => {
            for item in items {
                shift_with(item, f);
            }
        }
        _ => {}
    }
}

/// The `name` of an entry of an array of tables.
fn entry_name(node: &Node) -> Option<&str> {
    match &node.value {
        Value::Table(t) => match t.get("name").map(|n| &n.value) {
            Some(Value::Str(name)) => Some(name),
            _ => None,
        },
        _ => None,
    }
}

/// An array whose every entry is a table with a `name`, merged entry by entry.
fn is_named(items: &[Node]) -> bool {
    !items.is_empty() && items.iter().all(|item| entry_name(item).is_some())
}

/// `over` merged onto `base`: tables key by key, arrays of named tables entry by entry on `name` (new names
/// appended), anything else replaced by `over`. Each merged value keeps the span of the text that wrote it.
/// A name used twice in one of `over`'s arrays of named tables is reported in `problems`, at its second
/// use, as a file that stands alone has it reported; the later entry is merged over the earlier.
pub fn merge(base: Node, over: Node, problems: &mut Problems) -> Node {
    merge_under("", base, over, problems)
}

/// `merge` of the values under the table key `key`.
fn merge_under(key: &str, base: Node, over: Node, problems: &mut Problems) -> Node {
    match (base.value, over.value) {
        (Value::Table(mut below), Value::Table(above)) => {
            for entry in above.entries {
                match below.entries.iter_mut().find(|e| e.key == entry.key) {
                    Some(existing) => {
                        let old = std::mem::replace(
                            &mut existing.node,
                            Node {
                                span: None,
                                value: Value::Bool(false),
                            },
                        );
                        existing.node = merge_under(&entry.key, old, entry.node, problems);
                        existing.key_span = entry.key_span;
                    }
                    None => below.entries.push(entry),
                }
            }
            Node {
                span: over.span,
                value: Value::Table(below),
            }
        }
        (Value::Array(mut below), Value::Array(above)) if is_named(&below) && is_named(&above) => {
            // `regions` holds regions: a name used twice is reported as `check_unique_names` reports it.
            let what = key.strip_suffix('s').unwrap_or(key);
            let mut names_seen: Vec<String> = vec![];
            for item in above {
                let name = entry_name(&item).map(str::to_string);
                if let Some(name) = &name {
                    if names_seen.contains(name) {
                        let name_span = match &item.value {
                            Value::Table(t) => t.get("name").and_then(|n| n.span.clone()),
                            _ => None,
                        };
                        problems.push(
                            name_span.or(item.span.clone()),
                            what,
                            format!("{what} name \"{name}\" is used twice"),
                        );
                    } else {
                        names_seen.push(name.clone());
                    }
                }
                match below.iter_mut().find(|b| entry_name(b).map(str::to_string) == name) {
                    Some(existing) => {
                        let old = std::mem::replace(
                            existing,
                            Node {
                                span: None,
                                value: Value::Bool(false),
                            },
                        );
                        *existing = merge_under(key, old, item, problems);
                    }
                    None => below.push(item),
                }
            }
            Node {
                span: over.span,
                value: Value::Array(below),
            }
        }
        (_, value) => Node { span: over.span, value },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::raw::{parse, to_toml};

    fn merged(base: &str, over: &str) -> String {
        let (base, _) = parse(base);
        let (over, _) = parse(over);
        let mut problems = Problems::default();
        let merged = to_toml(&merge(base, over, &mut problems));
        assert!(problems.is_empty(), "{problems:?}");
        merged
    }

    #[test]
    fn tables_merge_key_by_key() {
        assert_eq!(
            merged("[a]\nx = 1\ny = 2\n", "[a]\ny = 3\nz = 4\n"),
            "[a]\nx = 1\ny = 3\nz = 4\n"
        );
    }

    #[test]
    fn named_entries_merge_by_name_and_new_names_are_appended() {
        let base = "[[r]]\nname = \"us\"\nx = 1\ny = 1\n[[r]]\nname = \"cn\"\nx = 2\n";
        let over = "[[r]]\nname = \"cn\"\nx = 5\n[[r]]\nname = \"eu\"\nx = 6\n";
        assert_eq!(
            merged(base, over),
            "[[r]]\nname = \"us\"\nx = 1\ny = 1\n\n[[r]]\nname = \"cn\"\nx = 5\n\n[[r]]\nname = \"eu\"\nx = 6\n"
        );
    }

    #[test]
    fn a_name_used_twice_in_the_array_merged_over_is_reported_at_its_second_use() {
        let (base, _) = parse("[[manufacturers]]\nname = \"a\"\nx = 1\n");
        let over_text = "[[manufacturers]]\nname = \"a\"\nx = 2\n[[manufacturers]]\nname = \"a\"\nx = 3\n";
        let (over, _) = parse(over_text);
        let mut problems = Problems::default();
        let merged = merge(base, over, &mut problems);
        assert_eq!(to_toml(&merged), "[[manufacturers]]\nname = \"a\"\nx = 3\n");
        assert_eq!(problems.list.len(), 1, "{problems:?}");
        assert_eq!(problems.list[0].message, "manufacturer name \"a\" is used twice");
        let second = over_text.rfind("\"a\"").unwrap();
        assert_eq!(problems.list[0].span, Some(second..second + 3));
    }

    #[test]
    fn unnamed_arrays_and_plain_values_replace() {
        let base = "v = [1, 2]\n[[events]]\nmonth = \"2025-01\"\n[[events]]\nmonth = \"2025-02\"\n";
        let over = "v = [3]\n[[events]]\nmonth = \"2026-01\"\n";
        assert_eq!(merged(base, over), "v = [3]\n\n[[events]]\nmonth = \"2026-01\"\n");
    }
}
