//! Scenario files: TOML text → spanned tree → validated `model::params::Params`.
//!
//! Every problem in a scenario is reported at once, each as `file:line:col: message` with the valid range,
//! followed by the offending line. A scenario with any problem never reaches the model.

pub mod extends;
pub mod history;
pub mod overrides;
pub mod raw;
pub mod reader;
pub mod uncertainty;
pub mod validate;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::scenario::raw::{Node, Span};
use crate::scenario::reader::{Problem, Problems};
use hashcycle_model::params::Params;

/// The shipped base scenario, for the crate's unit tests.
#[cfg(test)]
pub(crate) fn shipped_base() -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/base.toml");
    Scenario::load(&path).expect("the shipped base scenario loads")
}

/// A validated scenario with the text it came from (kept for provenance).
#[derive(Clone, Debug)]
pub struct Scenario {
    pub path: PathBuf,
    pub text: String,
    /// Every text the scenario was built from: the file itself first, then the files it extends (nearest
    /// first), then its `--set` overrides. The tree's spans are offsets into these, one after the other.
    pub sources: Vec<Source>,
    /// The `--set key.path=value` overrides applied, in order.
    pub sets: Vec<String>,
    pub tree: Node,
    pub params: Params,
}

/// A text a scenario was built from: a file, or a `--set` on the command line.
#[derive(Clone, Debug, PartialEq)]
pub struct Source {
    /// The file's name as given or as named by `extends` (`--set` for a command-line override).
    pub file: String,
    pub text: String,
    /// The directory relative file names in this text resolve against.
    pub dir: PathBuf,
    /// Where this text's spans start in the scenario's shared offset space.
    pub offset: usize,
}

/// The source a span (an offset in the shared space) falls in: the last one starting at or before it.
pub fn source_of(sources: &[Source], offset: usize) -> Option<&Source> {
    sources.iter().rev().find(|s| s.offset <= offset).or(sources.first())
}

/// The data file `name` (a history CSV) as the text that wrote it at `span` names it: relative to that
/// text's directory, or, when it is not there, the file of that name in a project's `data/` directory: the
/// nearest one above that directory, then the one in the working directory. So a scenario copied elsewhere
/// still finds `../data/btc_monthly.csv`. The first candidate is returned when none exists, for the message.
pub fn data_path(sources: &[Source], name: &str, span: Option<&Span>) -> PathBuf {
    let dir = span
        .and_then(|s| source_of(sources, s.start))
        .or(sources.first())
        .map(|s| s.dir.clone())
        .unwrap_or_default();
    let named = dir.join(name);
    if named.exists() || Path::new(name).is_absolute() {
        return named;
    }
    let Some(file_name) = Path::new(name).file_name() else {
        return named;
    };
    let absolute_dir = std::path::absolute(&dir).unwrap_or(dir);
    absolute_dir
        .ancestors()
        .map(|a| a.join("data").join(file_name))
        .chain(std::iter::once(Path::new("data").join(file_name)))
        .find(|candidate| candidate.is_file())
        .unwrap_or(named)
}

/// Why a scenario was rejected: every problem found, with the text to show where.
///
/// `Display` renders it by hand as `file:line:col: message` with the source line and a caret, the format
/// the tests and users' scripts read; a diagnostics crate would only add a second way to print the same.
#[derive(Debug)]
pub struct ScenarioError {
    pub file: String,
    pub text: String,
    pub problems: Vec<Problem>,
    /// The other texts the scenario was built from (files it extends, `--set` overrides), placed after
    /// `text` in one offset space; a problem's span says which text it is in.
    pub more_sources: Vec<Source>,
}

impl std::error::Error for ScenarioError {}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let mut boundary = offset;
    while !text.is_char_boundary(boundary) {
        boundary -= 1;
    }
    let before = &text[..boundary];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

/// Source lines longer than this many characters are shown as an excerpt around the problem.
const MAX_SHOWN_CHARS: usize = 120;
/// Characters of context an excerpt keeps before the problem's column.
const CONTEXT_CHARS: usize = 40;

/// The part of `line` to print under a message, the caret's 0-based column in it and the caret's width,
/// for a problem at 1-based character column `col` spanning `width` characters. A long line (a generated
/// file, or thousands of brackets) is cut to a window around the column, marked with `…` where cut.
/// `text` with every control character (ESC, BEL, the C1 controls...) shown as U+FFFD, one for one so that
/// carets under an excerpt stay aligned: a scenario's text must not set the terminal's title or colours when
/// an error quotes it. Tabs stay, as the file's own layout.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() && c != '\t' { '\u{FFFD}' } else { c })
        .collect()
}

fn excerpt(line: &str, col: usize, width: usize) -> (String, usize, usize) {
    let n_chars = line.chars().count();
    let col_idx = col.saturating_sub(1).min(n_chars);
    let (start, end) = if n_chars <= MAX_SHOWN_CHARS {
        (0, n_chars)
    } else {
        let start = col_idx.saturating_sub(CONTEXT_CHARS);
        (start, (start + MAX_SHOWN_CHARS).min(n_chars))
    };
    let mut shown: String = line.chars().skip(start).take(end - start).collect();
    let mut caret_col = col_idx - start;
    if start > 0 {
        shown.insert(0, '…');
        caret_col += 1;
    }
    if end < n_chars {
        shown.push('…');
    }
    let caret_width = width.min(end.saturating_sub(col_idx)).max(1);
    (shown, caret_col, caret_width)
}

/// Most problems printed for one file; the rest are counted. One wrong type can make thousands of problems
/// in a generated file, and printing them all buried the first (20,000 unknown keys printed 4.8 MB).
pub const MAX_PROBLEMS_SHOWN: usize = 50;

/// Where each line of a text starts, found once, so that locating many problems costs a binary search each
/// instead of a scan from the top of the file (which made a file of 40,000 problems quadratic to report).
struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> LineIndex<'a> {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { text, starts }
    }

    /// The 1-based line and column (in characters) of a byte offset, as `line_col` gives them.
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let mut boundary = offset.min(self.text.len());
        while !self.text.is_char_boundary(boundary) {
            boundary -= 1;
        }
        let line_idx = self.starts.partition_point(|&start| start <= boundary) - 1;
        let col = self.text[self.starts[line_idx]..boundary].chars().count() + 1;
        (line_idx + 1, col)
    }

    /// The text of a 1-based line without its line ending, as `str::lines` gives it.
    fn line(&self, line: usize) -> Option<&'a str> {
        let start = *self.starts.get(line.checked_sub(1)?)?;
        let end = self.starts.get(line).map_or(self.text.len(), |&next| next - 1);
        if start > self.text.len() || (start == self.text.len() && line > 1) {
            return None;
        }
        let text = &self.text[start..end.max(start)];
        Some(text.strip_suffix('\r').unwrap_or(text))
    }
}

impl ScenarioError {
    /// The text a span is in: its file name, its text, and the span moved into that text.
    fn locate(&self, span: &Span) -> (&str, &str, Span) {
        match self
            .more_sources
            .iter()
            .rev()
            .find(|s| s.offset <= span.start && s.offset > 0)
        {
            Some(source) => (
                &source.file,
                &source.text,
                span.start - source.offset..span.end.saturating_sub(source.offset),
            ),
            None => (&self.file, &self.text, span.clone()),
        }
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_report(f, "scenario")
    }
}

impl ScenarioError {
    /// Writes the report `Display` gives, headed `FILE is not a valid WHAT`: `what` is the kind of file, so that
    /// a sweep file's problems are not reported as a scenario's.
    pub fn write_report(&self, f: &mut fmt::Formatter<'_>, what: &str) -> fmt::Result {
        let n = self.problems.len();
        writeln!(
            f,
            "{} is not a valid {what}: {n} problem{}",
            self.file,
            if n == 1 { "" } else { "s" }
        )?;
        let top_lines = LineIndex::new(&self.text);
        let more_lines: Vec<LineIndex> = self.more_sources.iter().map(|s| LineIndex::new(&s.text)).collect();
        let lines_of = |text: &str| {
            self.more_sources
                .iter()
                .position(|s| std::ptr::eq(s.text.as_str(), text))
                .map_or(&top_lines, |idx| &more_lines[idx])
        };
        for problem in self.problems.iter().take(MAX_PROBLEMS_SHOWN) {
            let location = match &problem.span {
                Some(span) => {
                    let (file, text, span) = self.locate(span);
                    let (line, col) = lines_of(text).line_col(span.start);
                    format!("{file}:{line}:{col}")
                }
                None => format!("{}:1:1", self.file),
            };
            writeln!(f, "  {}: {}", printable(&location), printable(&problem.message))?;
            if let Some(span) = &problem.span {
                let (_, text, span) = self.locate(span);
                let lines = lines_of(text);
                let (line, col) = lines.line_col(span.start);
                if let Some(source_line) = lines.line(line) {
                    let width = text
                        .get(span.clone())
                        .and_then(|s| s.lines().next())
                        .map_or(1, |l| l.chars().count().max(1));
                    let (shown, caret_col, caret_width) = excerpt(source_line, col, width);
                    writeln!(f, "  {line:>5} | {}", printable(&shown))?;
                    writeln!(f, "        | {}{}", " ".repeat(caret_col), "^".repeat(caret_width))?;
                }
            } else if !problem.key_path.is_empty() {
                writeln!(f, "        | (set by a sweep override of `{}`)", problem.key_path)?;
            }
        }
        if n > MAX_PROBLEMS_SHOWN {
            writeln!(
                f,
                "  ... and {} more problems not shown: fix these and check again",
                n - MAX_PROBLEMS_SHOWN
            )?;
        }
        Ok(())
    }
}

/// Largest scenario or sweep file read, in bytes (the shipped ones are under 40 KB).
pub const MAX_SOURCE_BYTES: u64 = 16 * 1024 * 1024;

/// Reads a scenario or sweep file as text. A file that is not UTF-8 is refused at its first bad byte,
/// located like any other problem, instead of with the bare "stream did not contain valid UTF-8".
pub fn read_source(path: &Path) -> Result<String, ScenarioError> {
    let file = path.display().to_string();
    let refuse = |message: String| ScenarioError {
        file: file.clone(),
        text: String::new(),
        problems: vec![Problem {
            span: None,
            key_path: String::new(),
            message,
        }],
        more_sources: vec![],
    };
    // Issue 30, defect 17: a device (/dev/zero), a FIFO or a huge file must be refused, not read until memory
    // runs out or the writer never comes.
    let metadata = std::fs::metadata(path).map_err(|e| refuse(format!("cannot read the file: {e}")))?;
    if !metadata.is_file() {
        return Err(refuse("cannot read the file: it is not a regular file".into()));
    }
    if metadata.len() > MAX_SOURCE_BYTES {
        return Err(refuse(format!(
            "cannot read the file: it has {} bytes, more than the {MAX_SOURCE_BYTES} a scenario or sweep file may have",
            metadata.len()
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| refuse(format!("cannot read the file: {e}")))?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(e) => {
            let bad_at = e.utf8_error().valid_up_to();
            let bad_byte = e.as_bytes()[bad_at];
            // The lossy text keeps every byte before the bad one, so offsets up to it are unchanged, and
            // the bad byte becomes U+FFFD (3 bytes), which the message's caret then points at.
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            Err(ScenarioError {
                file,
                text,
                problems: vec![Problem {
                    span: Some(bad_at..bad_at + char::REPLACEMENT_CHARACTER.len_utf8()),
                    key_path: String::new(),
                    message: format!(
                        "the file is not UTF-8 text: byte 0x{bad_byte:02X} cannot start or continue a character (save the file as UTF-8)"
                    ),
                }],
                more_sources: vec![],
            })
        }
    }
}

impl Scenario {
    /// Reads and validates a scenario file, and the files it extends.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        Scenario::load_with(path, &[])
    }

    /// `load`, then the `--set key.path=value` overrides applied in order before validation.
    pub fn load_with(path: &Path, sets: &[String]) -> Result<Scenario, ScenarioError> {
        let file = path.display().to_string();
        let text = read_source(path)?;
        let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Scenario::build(&text, &file, &base_dir, sets, None).map(|mut s| {
            s.path = path.to_path_buf();
            s
        })
    }

    /// Validates scenario text; `file` names it in messages, `base_dir` resolves relative paths (the files it
    /// extends and its data files).
    pub fn from_text(text: &str, file: &str, base_dir: &Path) -> Result<Scenario, ScenarioError> {
        Scenario::from_text_with(text, file, base_dir, &[])
    }

    /// `from_text`, then the `--set key.path=value` overrides applied in order before validation.
    pub fn from_text_with(text: &str, file: &str, base_dir: &Path, sets: &[String]) -> Result<Scenario, ScenarioError> {
        Scenario::build(text, file, base_dir, sets, None)
    }

    /// `from_text_with`, with the files it extends given as recorded (nearest first) instead of read from disk:
    /// how `merge` rebuilds the scenario a shard ran.
    pub fn from_recorded_text(
        text: &str,
        file: &str,
        base_dir: &Path,
        sets: &[String],
        extended_texts: &[String],
    ) -> Result<Scenario, ScenarioError> {
        Scenario::build(text, file, base_dir, sets, Some(extended_texts.to_vec()))
    }

    fn build(
        text: &str,
        file: &str,
        base_dir: &Path,
        sets: &[String],
        recorded: Option<Vec<String>>,
    ) -> Result<Scenario, ScenarioError> {
        let mut builder = extends::Builder::new();
        builder.recorded = recorded;
        let identity = base_dir.join(Path::new(file).file_name().unwrap_or_default());
        let identity = identity.canonicalize().unwrap_or(identity);
        let tree = builder.read_file(file.to_string(), text.to_string(), base_dir.to_path_buf(), identity);
        let tree = tree.map(|mut tree| {
            builder.apply_sets(&mut tree, sets);
            tree
        });
        let extends::Builder {
            sources,
            problems,
            merge_problems,
            ..
        } = builder;
        let tree = tree.unwrap_or(Node {
            span: None,
            value: raw::Value::Table(raw::Table::default()),
        });
        let mut scenario = Scenario::validate_reporting(tree, sources, problems, merge_problems)?;
        scenario.sets = sets.to_vec();
        Ok(scenario)
    }

    /// Validates an already parsed (possibly overridden) tree of one text.
    pub fn from_tree(
        tree: Node,
        text: &str,
        file: &str,
        base_dir: &Path,
        problems: Problems,
    ) -> Result<Scenario, ScenarioError> {
        let source = Source {
            file: file.to_string(),
            text: text.to_string(),
            dir: base_dir.to_path_buf(),
            offset: 0,
        };
        Scenario::validate(tree, vec![source], problems)
    }

    /// Validates a changed copy of this scenario's tree (a sweep cell's), with the texts it was built from.
    pub fn revalidate(&self, tree: Node) -> Result<Scenario, ScenarioError> {
        let mut scenario = Scenario::validate(tree, self.sources.clone(), Problems::default())?;
        scenario.path = self.path.clone();
        scenario.sets = self.sets.clone();
        Ok(scenario)
    }

    /// The parameters of a changed copy of this scenario's tree that `revalidate` accepted before: the same
    /// `Params` it gave, read again without its readings at the ends of the uncertain parameters' ranges
    /// (most of a validation's time), so that a sweep can rebuild a cell's parameters instead of holding
    /// them. A tree that is no longer valid (a data file it reads changed) is validated in full, for the
    /// located problems.
    pub fn rebuild_params(&self, tree: &Node) -> Result<Params, ScenarioError> {
        let mut problems = Problems::default();
        match validate::read_params_with(tree, &self.sources, &mut problems, validate::RangeEnds::Skip) {
            Some(params) if problems.is_empty() => Ok(params),
            _ => self.revalidate(tree.clone()).map(|scenario| scenario.params),
        }
    }

    /// Validates a tree whose spans are offsets into `sources` (the first is the scenario's own file).
    pub fn validate(tree: Node, sources: Vec<Source>, problems: Problems) -> Result<Scenario, ScenarioError> {
        Scenario::validate_reporting(tree, sources, problems, Problems::default())
    }

    /// `validate`, reporting `found` with the problems validation finds: problems that did not stop the
    /// tree being built, as `problems` does.
    fn validate_reporting(
        tree: Node,
        mut sources: Vec<Source>,
        mut problems: Problems,
        found: Problems,
    ) -> Result<Scenario, ScenarioError> {
        if sources.is_empty() {
            sources.push(Source {
                file: String::new(),
                text: String::new(),
                dir: PathBuf::new(),
                offset: 0,
            });
        }
        let params = if problems.is_empty() {
            validate::read_params(&tree, &sources, &mut problems)
        } else {
            None
        };
        problems.list.extend(found.list);
        let top = sources.remove(0);
        match params {
            Some(params) if problems.is_empty() => {
                let (path, text) = (PathBuf::from(&top.file), top.text.clone());
                sources.insert(0, top);
                Ok(Scenario {
                    path,
                    text,
                    sources,
                    sets: vec![],
                    tree,
                    params,
                })
            }
            _ => {
                let mut list = problems.list;
                list.sort_by_key(|p| p.span.as_ref().map_or(usize::MAX, |s| s.start));
                list.dedup();
                Err(ScenarioError {
                    file: top.file,
                    text: top.text,
                    problems: list,
                    more_sources: sources,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The model crate's `fixtures::small` is the test scenario `tests/data/small.toml` as validated here,
    /// defaults included, so the model's unit tests run on parameters a scenario file can state.
    #[test]
    fn the_model_fixture_is_the_small_test_scenario() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/small.toml");
        let loaded = Scenario::load(&path).expect("the small test scenario loads").params;
        assert_eq!(
            format!("{:#?}", hashcycle_model::fixtures::small()),
            format!("{loaded:#?}")
        );
    }

    /// Issue 30, defect 19: an error that quotes a scenario's text shows its control characters as U+FFFD,
    /// one for one, so no escape sequence reaches the terminal.
    #[test]
    fn issue_30_control_characters_in_an_excerpt_are_not_echoed() {
        let text = "[simulation]\nname = \"a\u{1b}]0;owned\u{7}b\"\nstart_month = \"2025-01\"\n";
        let err = Scenario::from_text(text, "x.toml", Path::new(".")).expect_err("the name is refused");
        let shown = err.to_string();
        assert!(!shown.chars().any(|c| c.is_control() && c != '\n'), "{shown:?}");
        assert!(shown.contains("a\u{FFFD}]0;owned\u{FFFD}b"), "{shown}");
    }

    #[test]
    fn short_lines_are_shown_whole_with_the_caret_under_the_problem() {
        assert_eq!(excerpt("a = = 1", 5, 1), ("a = = 1".to_string(), 4, 1));
        assert_eq!(excerpt("key = \"long\"", 7, 50), ("key = \"long\"".to_string(), 6, 6));
    }

    #[test]
    fn long_lines_are_cut_to_a_window_around_the_problem() {
        let line = format!("x = {}{}", "[".repeat(500), "]".repeat(500));
        let (shown, caret_col, caret_width) = excerpt(&line, 300, 1);
        assert_eq!(
            shown.chars().count(),
            MAX_SHOWN_CHARS + 2,
            "the window and two ellipses"
        );
        assert!(shown.starts_with('…') && shown.ends_with('…'));
        assert_eq!(caret_col, CONTEXT_CHARS + 1);
        assert_eq!(caret_width, 1);
        assert_eq!(shown.chars().nth(caret_col), line.chars().nth(299));
    }

    #[test]
    fn every_problem_location_prints_even_at_the_end_of_the_text() {
        let text = "a = [";
        let error = ScenarioError {
            file: "f.toml".into(),
            text: text.into(),
            problems: vec![Problem {
                span: Some(5..9),
                key_path: String::new(),
                message: "unterminated".into(),
            }],
            more_sources: vec![],
        };
        assert!(error.to_string().contains("f.toml:1:6: unterminated"), "{error}");
    }

    /// The line index locates offsets and returns lines exactly as `line_col` and `str::lines` do, CRLF,
    /// multi-byte characters, a missing final newline and offsets past the end included.
    #[test]
    fn the_line_index_agrees_with_line_col_and_lines() {
        for text in ["a = 1\nbb = 2\n", "x = \"é\"\r\ny = 2", "", "\n\n", "only"] {
            let index = LineIndex::new(text);
            for offset in 0..=text.len() + 2 {
                assert_eq!(index.line_col(offset), line_col(text, offset), "{text:?} at {offset}");
            }
            for (n, line) in text.lines().enumerate() {
                assert_eq!(index.line(n + 1), Some(line), "{text:?} line {}", n + 1);
            }
        }
    }

    #[test]
    fn line_col_counts_from_one() {
        let text = "a = 1\nbb = 2\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        assert_eq!(line_col(text, 11), (2, 6));
    }
}
