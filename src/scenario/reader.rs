//! Reading a raw tree into typed values while collecting every problem: missing keys, unknown keys,
//! wrong types and out-of-range values, each with where it is and what would be valid.

use crate::scenario::raw::{Node, Span, Table, Value, is_whole};
use hashcycle_model::units::YearMonth;

/// One thing wrong with a scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub span: Option<Span>,
    /// Dotted path of the key, e.g. `price.start_price_usd`.
    pub key_path: String,
    pub message: String,
}

#[derive(Default, Debug)]
pub struct Problems {
    pub list: Vec<Problem>,
}

impl Problems {
    pub fn push(&mut self, span: Option<Span>, key_path: &str, message: impl Into<String>) {
        self.list.push(Problem {
            span,
            key_path: key_path.to_string(),
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// The valid range of a number.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    min: Option<(f64, bool)>,
    max: Option<(f64, bool)>,
}

impl Bounds {
    pub const fn any() -> Bounds {
        Bounds { min: None, max: None }
    }
    /// Strictly positive.
    pub const fn positive() -> Bounds {
        Bounds {
            min: Some((0.0, false)),
            max: None,
        }
    }
    pub const fn non_negative() -> Bounds {
        Bounds {
            min: Some((0.0, true)),
            max: None,
        }
    }
    /// A share or probability in [0, 1].
    pub const fn share() -> Bounds {
        Bounds {
            min: Some((0.0, true)),
            max: Some((1.0, true)),
        }
    }
    pub const fn closed(min: f64, max: f64) -> Bounds {
        Bounds {
            min: Some((min, true)),
            max: Some((max, true)),
        }
    }
    /// (min, max]: above `min`, at most `max`.
    pub const fn above_up_to(min: f64, max: f64) -> Bounds {
        Bounds {
            min: Some((min, false)),
            max: Some((max, true)),
        }
    }
    pub const fn at_least(min: f64) -> Bounds {
        Bounds {
            min: Some((min, true)),
            max: None,
        }
    }

    pub fn contains(&self, x: f64) -> bool {
        if !x.is_finite() {
            return false;
        }
        let above = match self.min {
            Some((m, true)) => x >= m,
            Some((m, false)) => x > m,
            None => true,
        };
        let below = match self.max {
            Some((m, true)) => x <= m,
            Some((m, false)) => x < m,
            None => true,
        };
        above && below
    }

    pub fn describe(&self) -> String {
        match (self.min, self.max) {
            (None, None) => "a finite number".into(),
            (Some((m, true)), None) => format!(">= {m}"),
            (Some((m, false)), None) => format!("> {m}"),
            (None, Some((m, true))) => format!("<= {m}"),
            (None, Some((m, false))) => format!("< {m}"),
            (Some((a, ai)), Some((b, bi))) => {
                format!(
                    "in {}{a}, {b}{}",
                    if ai { "[" } else { "(" },
                    if bi { "]" } else { ")" }
                )
            }
        }
    }
}

/// A table being read: remembers which keys were used so the rest can be reported as unknown.
pub struct Section<'a> {
    pub table: &'a Table,
    pub path: String,
    pub span: Option<Span>,
    used: Vec<bool>,
    asked: Vec<String>,
}

impl<'a> Section<'a> {
    pub fn new(table: &'a Table, path: &str, span: Option<Span>) -> Section<'a> {
        Section {
            table,
            path: path.to_string(),
            span,
            used: vec![false; table.entries.len()],
            asked: vec![],
        }
    }

    fn key_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn lookup(&mut self, key: &str) -> Option<&'a Node> {
        if !self.asked.iter().any(|k| k == key) {
            self.asked.push(key.to_string());
        }
        let idx = self.table.entries.iter().position(|e| e.key == key)?;
        self.used[idx] = true;
        Some(&self.table.entries[idx].node)
    }

    /// The raw node under `key`, marked as read; for values whose shape the caller checks itself.
    pub fn node(&mut self, key: &str) -> Option<&'a Node> {
        self.lookup(key)
    }

    pub fn has(&self, key: &str) -> bool {
        self.table.get(key).is_some()
    }

    fn missing(&self, p: &mut Problems, key: &str, what: &str) {
        let where_ = if self.path.is_empty() {
            "the top level".to_string()
        } else {
            format!("[{}]", self.path)
        };
        p.push(
            self.span.clone(),
            &self.key_path(key),
            format!("missing key `{key}` in {where_} (expected {what})"),
        );
    }

    fn wrong_type(&self, p: &mut Problems, key: &str, node: &Node, what: &str) {
        p.push(
            node.span.clone(),
            &self.key_path(key),
            format!(
                "`{}` must be {what}, found {}",
                self.key_path(key),
                node.value.type_name()
            ),
        );
    }

    /// A number (integer or float) within `bounds`; `default` when absent (required when `None`).
    pub fn f64(&mut self, p: &mut Problems, key: &str, bounds: Bounds, default: Option<f64>) -> f64 {
        let Some(node) = self.lookup(key) else {
            if default.is_none() {
                self.missing(p, key, &format!("a number {}", bounds.describe()));
            }
            return default.unwrap_or(0.0);
        };
        let Some(x) = node.value.as_f64() else {
            self.wrong_type(p, key, node, &format!("a number {}", bounds.describe()));
            return default.unwrap_or(0.0);
        };
        if !bounds.contains(x) {
            let problem = match &node.value {
                Value::BigNumber(text) if x.is_infinite() => {
                    format!("= {text} is out of the range of a number (about ±1.8e308)")
                }
                Value::BigNumber(text) => format!("= {text} is out of range"),
                _ => format!("= {} is out of range", number_text(x)),
            };
            p.push(
                node.span.clone(),
                &self.key_path(key),
                format!("`{}` {problem}: must be {}", self.key_path(key), bounds.describe()),
            );
            return default.unwrap_or(0.0);
        }
        x
    }

    /// A whole number within `bounds`.
    pub fn u64(&mut self, p: &mut Problems, key: &str, bounds: Bounds, default: Option<u64>) -> u64 {
        // The largest value is compared as a whole number: `u64::MAX` as a float is one more than it.
        let max = bounds.max.map_or(u64::MAX, |(m, _)| m as u64);
        let Some(node) = self.lookup(key) else {
            if default.is_none() {
                self.missing(p, key, &format!("a whole number {}", describe_whole(bounds, max)));
            }
            return default.unwrap_or(0);
        };
        let shown = match &node.value {
            Value::Int(i) => i.to_string(),
            Value::BigNumber(text) if is_whole(text) => text.clone(),
            _ => {
                let what = format!("a whole number {}", describe_whole(bounds, max));
                self.wrong_type(p, key, node, &what);
                return default.unwrap_or(0);
            }
        };
        // An integer beyond 128 bits is out of range too.
        match node.value.as_i128() {
            Some(i) if i >= 0 && i <= i128::from(max) && bounds.contains(i as f64) => i as u64,
            _ => {
                p.push(
                    node.span.clone(),
                    &self.key_path(key),
                    format!(
                        "`{}` = {shown} is out of range: must be a whole number {}",
                        self.key_path(key),
                        describe_whole(bounds, max)
                    ),
                );
                default.unwrap_or(0)
            }
        }
    }

    pub fn u32(&mut self, p: &mut Problems, key: &str, bounds: Bounds, default: Option<u32>) -> u32 {
        let bounds = Bounds {
            max: Some((bounds.max.map_or(u32::MAX as f64, |m| m.0.min(u32::MAX as f64)), true)),
            ..bounds
        };
        self.u64(p, key, bounds, default.map(u64::from)) as u32
    }

    pub fn bool(&mut self, p: &mut Problems, key: &str, default: Option<bool>) -> bool {
        let Some(node) = self.lookup(key) else {
            if default.is_none() {
                self.missing(p, key, "true or false");
            }
            return default.unwrap_or(false);
        };
        match node.value {
            Value::Bool(b) => b,
            _ => {
                self.wrong_type(p, key, node, "true or false");
                default.unwrap_or(false)
            }
        }
    }

    /// A string, with its span (for later checks such as name lookups).
    pub fn string(&mut self, p: &mut Problems, key: &str, default: Option<&str>) -> (String, Option<Span>) {
        let Some(node) = self.lookup(key) else {
            if default.is_none() {
                self.missing(p, key, "a string");
            }
            return (default.unwrap_or("").to_string(), self.span.clone());
        };
        match &node.value {
            Value::Str(s) => (s.clone(), node.span.clone()),
            _ => {
                self.wrong_type(p, key, node, "a string");
                (default.unwrap_or("").to_string(), node.span.clone())
            }
        }
    }

    /// One of a fixed set of words.
    pub fn choice(&mut self, p: &mut Problems, key: &str, choices: &[&str], default: Option<&str>) -> String {
        let (s, span) = self.string(p, key, default);
        if !choices.contains(&s.as_str()) && (!s.is_empty() || default.is_some()) {
            let listed = choices
                .iter()
                .map(|c| format!("\"{c}\""))
                .collect::<Vec<_>>()
                .join(", ");
            let suggestion = nearest(&s, choices.iter().copied())
                .map(|near| format!(" (did you mean \"{near}\"?)"))
                .unwrap_or_default();
            p.push(
                span,
                &self.key_path(key),
                format!("`{}` = \"{s}\" is not one of {listed}{suggestion}", self.key_path(key)),
            );
            return default.unwrap_or(choices[0]).to_string();
        }
        s
    }

    /// A calendar month written `YYYY-MM`.
    pub fn year_month(&mut self, p: &mut Problems, key: &str) -> (Option<YearMonth>, Option<Span>) {
        let Some(node) = self.lookup(key) else {
            self.missing(p, key, "a month written \"YYYY-MM\"");
            return (None, self.span.clone());
        };
        let text = match &node.value {
            Value::Str(s) => s.clone(),
            Value::Datetime(s) => s.clone(),
            _ => {
                self.wrong_type(p, key, node, "a month written \"YYYY-MM\"");
                return (None, node.span.clone());
            }
        };
        match YearMonth::parse(&text) {
            Some(ym) => (Some(ym), node.span.clone()),
            None => {
                p.push(
                    node.span.clone(),
                    &self.key_path(key),
                    format!(
                        "`{}` = \"{text}\" is not a month: write it as \"YYYY-MM\" with a month from 01 to 12",
                        self.key_path(key)
                    ),
                );
                (None, node.span.clone())
            }
        }
    }

    /// A sub-table; `None` (and a problem when required) if absent or not a table.
    pub fn table(&mut self, p: &mut Problems, key: &str, required: bool) -> Option<Section<'a>> {
        let path = self.key_path(key);
        let Some(node) = self.lookup(key) else {
            if required {
                self.missing(p, key, "a table");
            }
            return None;
        };
        match &node.value {
            Value::Table(t) => Some(Section::new(t, &path, node.span.clone())),
            _ => {
                self.wrong_type(p, key, node, "a table");
                None
            }
        }
    }

    /// An array of tables (`[[key]]`), each as a section named `key[i]`.
    pub fn tables(&mut self, p: &mut Problems, key: &str, required: bool) -> Vec<Section<'a>> {
        let path = self.key_path(key);
        let Some(node) = self.lookup(key) else {
            if required {
                self.missing(p, key, "an array of tables");
            }
            return vec![];
        };
        let Value::Array(items) = &node.value else {
            self.wrong_type(p, key, node, "an array of tables");
            return vec![];
        };
        let mut out = vec![];
        for (i, item) in items.iter().enumerate() {
            match &item.value {
                Value::Table(t) => out.push(Section::new(t, &format!("{path}[{i}]"), item.span.clone())),
                _ => p.push(
                    item.span.clone(),
                    &path,
                    format!("`{path}[{i}]` must be a table, found {}", item.value.type_name()),
                ),
            }
        }
        out
    }

    /// Reports every key that was never read.
    pub fn finish(self, p: &mut Problems) {
        for (idx, entry) in self.table.entries.iter().enumerate() {
            if !self.used[idx] {
                let path = self.key_path(&entry.key);
                let expected = self.known_hint(&entry.key);
                p.push(
                    entry.key_span.clone().or_else(|| entry.node.span.clone()),
                    &path,
                    format!("unknown key `{path}`{expected}"),
                );
            }
        }
    }

    fn known_hint(&self, key: &str) -> String {
        if self.asked.is_empty() {
            return String::new();
        }
        let suggestion = nearest(key, self.asked.iter().map(String::as_str))
            .map(|near| format!("did you mean `{near}`? "))
            .unwrap_or_default();
        let mut known: Vec<&str> = self.asked.iter().map(String::as_str).collect();
        known.sort_unstable();
        format!(" ({suggestion}valid keys here: {})", known.join(", "))
    }
}

/// A number as a message echoes it: as Rust writes it, except that a very large or very small one is
/// written with an exponent (`1e300`, not three hundred digits).
pub fn number_text(x: f64) -> String {
    const LARGEST_PLAIN: f64 = 1e16;
    const SMALLEST_PLAIN: f64 = 1e-6;
    if x.is_finite() && x != 0.0 && !(SMALLEST_PLAIN..LARGEST_PLAIN).contains(&x.abs()) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

/// A whole-number range, `bounds` up to `max`, with its ends written as whole numbers.
fn describe_whole(bounds: Bounds, max: u64) -> String {
    let min = match bounds.min {
        Some((m, true)) => m.max(0.0).ceil() as u64,
        Some((m, false)) => m.max(-1.0).floor() as u64 + 1,
        None => 0,
    };
    let max = if bounds.max.is_some_and(|(_, inclusive)| !inclusive) {
        max.saturating_sub(1)
    } else {
        max
    };
    format!("in [{min}, {max}]")
}

/// Edit distance between two words (insertions, deletions, substitutions and swaps of neighbours), in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    // Rows of the optimal-string-alignment table: two rows back (for swaps), one back, and the current one.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut current = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            current[j] = (previous[j] + 1).min(current[j - 1] + 1).min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                current[j] = current[j].min(before[j - 2] + 1);
            }
        }
        before = std::mem::replace(&mut previous, current);
    }
    previous[b.len()]
}

/// The candidate nearest to `word` by edit distance, if one is near enough to be a likely misspelling: at
/// most a third of the word's length away (at least one edit), ties going to the first candidate.
pub fn nearest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .filter(|c| *c != word)
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_key_is_suggested_only_when_near() {
        let keys = ["futures_share", "prepay_share", "delivery_months"];
        assert_eq!(nearest("futures_shares", keys.into_iter()), Some("futures_share"));
        assert_eq!(nearest("futrues_share", keys.into_iter()), Some("futures_share"));
        assert_eq!(nearest("prepay", keys.into_iter()), None);
        assert_eq!(nearest("colour", keys.into_iter()), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("ab", "ba"), 1);
    }

    #[test]
    fn numbers_are_echoed_short_and_whole_ranges_in_whole_numbers() {
        assert_eq!(number_text(1e300), "1e300");
        assert_eq!(number_text(-2.5e-9), "-2.5e-9");
        assert_eq!(number_text(93429.2), "93429.2");
        assert_eq!(number_text(1e15), "1000000000000000");
        assert_eq!(number_text(0.0), "0");
        assert_eq!(
            describe_whole(Bounds::non_negative(), u64::MAX),
            "in [0, 18446744073709551615]"
        );
        assert_eq!(describe_whole(Bounds::positive(), 9), "in [1, 9]");
        assert_eq!(describe_whole(Bounds::closed(1.0, 1200.0), 1200), "in [1, 1200]");
    }
}
