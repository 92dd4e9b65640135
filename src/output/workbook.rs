//! The workbook shell: `report.xlsx`, written beside `report.html` from the same figures, for people who work in
//! Excel. Each feature (a run in `batch`, a sweep in `sweep`) lays out its sheets; this module supplies the
//! workbook, its cell styles, tables with a label row and a column-name row, and Excel's limits.
//!
//! Excel's limits are kept by construction: every sheet name goes through `sheet_name` (at most 31 UTF-16 units,
//! none of `[]:*?/\`, unique), and every table through `rows_that_fit`, so no sheet is handed more than
//! 1,048,576 rows or 16,384 columns. The sheets hold aggregates only (per-month quantiles, one row per sweep
//! cell); per-path tables stay in Parquet.
//!
//! The workbook carries no timestamp: its creation date is fixed (`CREATED`), and the zip entries carry the
//! format's default date, so the same tables give the same bytes.

use std::path::{Path, PathBuf};

use hashcycle_model::units::YearMonth;
use rust_xlsxwriter::{
    Color, DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError,
};

use crate::output::OutputError;

/// Rows in one Excel sheet.
pub const MAX_ROWS: usize = 1_048_576;
/// Columns in one Excel sheet.
pub const MAX_COLS: usize = 16_384;
/// Length of a sheet name, in UTF-16 code units, as Excel counts.
pub const MAX_SHEET_NAME_UNITS: usize = 31;
/// The creation date stored in every workbook (year, month, day): fixed, so that the file depends on the
/// tables alone.
pub const CREATED: (u16, u8, u8) = (2000, 1, 1);

/// Characters Excel refuses in a sheet name.
const FORBIDDEN_IN_SHEET_NAMES: [char; 7] = ['[', ']', ':', '*', '?', '/', '\\'];

/// A valid sheet name for `wanted`, distinct from every name in `taken` (Excel compares them ignoring case):
/// forbidden characters become `_`, leading and trailing apostrophes are dropped, the name is cut to 31 UTF-16
/// units, and a clash gets ` (2)`, ` (3)`... within the same length. An empty name becomes `Sheet`.
pub fn sheet_name(wanted: &str, taken: &[String]) -> String {
    let cleaned: String = wanted
        .chars()
        .map(|c| {
            if FORBIDDEN_IN_SHEET_NAMES.contains(&c) || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.trim_matches('\'').trim();
    // "History" is reserved by Excel for its change-tracking sheet.
    let base = if cleaned.is_empty() || cleaned.eq_ignore_ascii_case("history") {
        format!("{cleaned} sheet").trim().to_string()
    } else {
        cleaned.to_string()
    };
    let is_taken = |name: &str| taken.iter().any(|t| t.to_lowercase() == name.to_lowercase());
    let mut n = 1;
    loop {
        let suffix = if n == 1 { String::new() } else { format!(" ({n})") };
        let room = MAX_SHEET_NAME_UNITS - suffix.encode_utf16().count();
        let mut head = String::new();
        for c in base.chars() {
            if head.encode_utf16().count() + c.len_utf16() > room {
                break;
            }
            head.push(c);
        }
        // Cutting may leave an apostrophe at the end, which Excel refuses too.
        let candidate = format!("{}{suffix}", head.trim_end_matches('\'').trim_end());
        if !is_taken(&candidate) {
            return candidate;
        }
        n += 1;
    }
}

/// The rows of a table of `n_rows` to write when a sheet has room for `capacity`: all of them when they fit;
/// otherwise every row `keep` marks (the rows a reader must see, such as a sweep's reference cells) up to
/// `capacity`, then the earliest others. Returned in table order, so the sheet reads like the table.
pub fn rows_that_fit(n_rows: usize, capacity: usize, keep: impl Fn(usize) -> bool) -> Vec<usize> {
    if n_rows <= capacity {
        return (0..n_rows).collect();
    }
    let mut chosen = vec![false; n_rows];
    let mut n_chosen = 0;
    for (row, slot) in chosen.iter_mut().enumerate() {
        if n_chosen == capacity {
            break;
        }
        if keep(row) {
            *slot = true;
            n_chosen += 1;
        }
    }
    for slot in chosen.iter_mut() {
        if n_chosen == capacity {
            break;
        }
        if !*slot {
            *slot = true;
            n_chosen += 1;
        }
    }
    (0..n_rows).filter(|&row| chosen[row]).collect()
}

/// How a column's numbers are shown. The unit is in the column's label; the cell holds the plain number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Money, in whole USD.
    Usd,
    /// A share or probability, as a percentage.
    Share,
    /// A count of things (paths, units), whole.
    Count,
    /// Any other number, with `decimals` decimals.
    Decimal(u8),
    /// Text.
    Text,
    /// TRUE or FALSE.
    Flag,
    /// A calendar month, shown `yyyy-mm`.
    Month,
}

/// One column's values; blanks stand for missing figures (null, NaN or infinite), which Excel cannot hold.
pub enum Values {
    Numbers(Vec<f64>),
    Texts(Vec<String>),
    Flags(Vec<Option<bool>>),
    Months(Vec<YearMonth>),
}

impl Values {
    fn len(&self) -> usize {
        match self {
            Values::Numbers(v) => v.len(),
            Values::Texts(v) => v.len(),
            Values::Flags(v) => v.len(),
            Values::Months(v) => v.len(),
        }
    }
}

/// A column of a sheet's table: a label for people (with the unit) over the name of the column in the
/// Parquet table or of the figure, then the values.
pub struct Column {
    pub label: String,
    pub name: String,
    pub kind: Kind,
    pub values: Values,
}

impl Column {
    pub fn numbers(label: impl Into<String>, name: impl Into<String>, kind: Kind, values: Vec<f64>) -> Column {
        Column {
            label: label.into(),
            name: name.into(),
            kind,
            values: Values::Numbers(values),
        }
    }

    pub fn texts(label: impl Into<String>, name: impl Into<String>, values: Vec<String>) -> Column {
        Column {
            label: label.into(),
            name: name.into(),
            kind: Kind::Text,
            values: Values::Texts(values),
        }
    }

    pub fn flags(label: impl Into<String>, name: impl Into<String>, values: Vec<Option<bool>>) -> Column {
        Column {
            label: label.into(),
            name: name.into(),
            kind: Kind::Flag,
            values: Values::Flags(values),
        }
    }
}

/// Where a table landed on its sheet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placed {
    /// Sheet row of the first data row (after the label and name rows).
    pub first_row: u32,
    /// Sheet row of the last data row (`first_row - 1` when no row was written).
    pub last_row: u32,
    /// Sheet column of the first column.
    pub first_col: u16,
    /// Table rows left out for Excel's row limit, and columns for its column limit.
    pub n_rows_left_out: usize,
    pub n_cols_left_out: usize,
}

/// The cell styles every sheet shares.
pub struct Styles {
    pub title: Format,
    pub heading: Format,
    pub label: Format,
    /// `label` wrapping its text, for tables whose label row the sheet makes tall.
    pub label_wrapped: Format,
    pub name: Format,
    pub note: Format,
    pub key: Format,
    pub text: Format,
    pub usd: Format,
    pub share: Format,
    pub count: Format,
    pub month: Format,
    decimals: Vec<Format>,
}

const NAVY: u32 = 0x1F3B5C;
const MUTED: u32 = 0x6E6E6E;

impl Styles {
    fn new() -> Styles {
        Styles {
            title: Format::new()
                .set_bold()
                .set_font_size(16)
                .set_font_color(Color::RGB(NAVY)),
            heading: Format::new()
                .set_bold()
                .set_font_size(12)
                .set_font_color(Color::RGB(NAVY)),
            label: Format::new().set_bold().set_border_bottom(FormatBorder::Thin),
            label_wrapped: Format::new()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Top)
                .set_border_bottom(FormatBorder::Thin),
            name: Format::new()
                .set_italic()
                .set_font_size(8)
                .set_font_color(Color::RGB(MUTED)),
            note: Format::new().set_italic().set_font_color(Color::RGB(MUTED)),
            key: Format::new()
                .set_font_color(Color::RGB(MUTED))
                .set_align(FormatAlign::Top),
            text: Format::new().set_align(FormatAlign::Top),
            usd: Format::new().set_num_format("#,##0"),
            share: Format::new().set_num_format("0.0%"),
            count: Format::new().set_num_format("#,##0"),
            month: Format::new().set_num_format("yyyy-mm").set_align(FormatAlign::Left),
            decimals: (0..=6)
                .map(|d| {
                    let format = if d == 0 {
                        "#,##0".to_string()
                    } else {
                        format!("#,##0.{}", "0".repeat(d))
                    };
                    Format::new().set_num_format(format)
                })
                .collect(),
        }
    }

    /// The number format of a column kind (`None` for text and flags).
    pub fn of(&self, kind: Kind) -> Option<&Format> {
        match kind {
            Kind::Usd => Some(&self.usd),
            Kind::Share => Some(&self.share),
            Kind::Count => Some(&self.count),
            Kind::Decimal(d) => self.decimals.get(d as usize).or(self.decimals.last()),
            Kind::Month => Some(&self.month),
            Kind::Text | Kind::Flag => None,
        }
    }
}

/// `XlsxError` as an `OutputError` naming the workbook.
pub fn xlsx_error(path: &Path, e: XlsxError) -> OutputError {
    OutputError::Chart {
        path: path.to_path_buf(),
        message: format!("cannot write the workbook: {e}"),
    }
}

/// A workbook being laid out, with its styles and the names its sheets took.
pub struct Book {
    pub workbook: Workbook,
    pub styles: Styles,
    /// Where the workbook will be written, for error messages.
    pub path: PathBuf,
    names: Vec<String>,
}

impl Book {
    /// A workbook for `dir/report.xlsx`, titled `title`, with `comments` (the source line) in its properties.
    pub fn new(dir: &Path, title: &str, comments: &str) -> Result<Book, OutputError> {
        let path = dir.join("report.xlsx");
        let created = ExcelDateTime::from_ymd(CREATED.0, CREATED.1, CREATED.2).map_err(|e| xlsx_error(&path, e))?;
        let properties = DocProperties::new()
            .set_title(title)
            .set_author("hashcycle")
            .set_comment(comments)
            .set_creation_datetime(&created);
        let mut workbook = Workbook::new();
        workbook.set_properties(&properties);
        Ok(Book {
            workbook,
            styles: Styles::new(),
            path,
            names: vec![],
        })
    }

    /// Adds a sheet named `wanted` (made valid and unique by `sheet_name`) and returns its index and name.
    pub fn add_sheet(&mut self, wanted: &str) -> Result<(usize, String), OutputError> {
        let name = sheet_name(wanted, &self.names);
        let sheet = self.workbook.add_worksheet();
        sheet.set_name(&name).map_err(|e| xlsx_error(&self.path, e))?;
        // Printed on landscape pages, as the HTML report is.
        sheet.set_landscape();
        self.names.push(name.clone());
        Ok((self.names.len() - 1, name))
    }

    /// Writes `dir/report.xlsx` atomically and returns its path.
    pub fn save(mut self) -> Result<PathBuf, OutputError> {
        let bytes = self.workbook.save_to_buffer().map_err(|e| xlsx_error(&self.path, e))?;
        crate::output::dir::write_atomic(&self.path, &bytes)?;
        Ok(self.path)
    }
}

/// A writer of cells that turns the crate's errors into `OutputError`s naming the workbook.
pub struct Cells<'a> {
    pub sheet: &'a mut Worksheet,
    pub styles: &'a Styles,
    pub path: &'a Path,
    /// Whether tables wrap their labels (for a label row made tall; see `tall_label_row`).
    pub wrap_labels: bool,
}

impl<'a> Cells<'a> {
    /// The cells of sheet `idx` of `book`.
    pub fn of(book: &'a mut Book, idx: usize) -> Result<Cells<'a>, OutputError> {
        let path = book.path.as_path();
        let sheet = book
            .workbook
            .worksheet_from_index(idx)
            .map_err(|e| xlsx_error(path, e))?;
        Ok(Cells {
            sheet,
            styles: &book.styles,
            path,
            wrap_labels: false,
        })
    }

    fn check(path: &Path, r: Result<&mut Worksheet, XlsxError>) -> Result<(), OutputError> {
        r.map(|_| ()).map_err(|e| xlsx_error(path, e))
    }

    /// Text in a style.
    pub fn text(&mut self, row: u32, col: u16, text: &str, format: &Format) -> Result<(), OutputError> {
        let r = self.sheet.write_string_with_format(row, col, text, format);
        Self::check(self.path, r)
    }

    /// A number shown as `kind`; a missing figure (NaN, infinite) is left blank.
    pub fn number(&mut self, row: u32, col: u16, value: f64, kind: Kind) -> Result<(), OutputError> {
        if !value.is_finite() {
            return Ok(());
        }
        let r = match self.styles.of(kind) {
            Some(format) => self.sheet.write_number_with_format(row, col, value, format),
            None => self.sheet.write_number(row, col, value),
        };
        Self::check(self.path, r)
    }

    /// A number in a given format (such as a highlighted cell); a missing figure keeps only the format.
    pub fn number_with(&mut self, row: u32, col: u16, value: f64, format: &Format) -> Result<(), OutputError> {
        let r = if value.is_finite() {
            self.sheet.write_number_with_format(row, col, value, format)
        } else {
            self.sheet.write_blank(row, col, format)
        };
        Self::check(self.path, r)
    }

    /// A calendar month, as an Excel date on its first day; as text (`1850-01`) before 1900, where Excel's dates
    /// begin.
    pub fn month(&mut self, row: u32, col: u16, month: YearMonth) -> Result<(), OutputError> {
        if month.year < 1900 {
            let styles = self.styles;
            return self.text(row, col, &month.to_string(), &styles.month);
        }
        let date =
            ExcelDateTime::from_ymd(month.year as u16, month.month as u8, 1).map_err(|e| xlsx_error(self.path, e))?;
        let r = self
            .sheet
            .write_datetime_with_format(row, col, &date, &self.styles.month);
        Self::check(self.path, r)
    }

    /// A heading: a bold line.
    pub fn heading(&mut self, row: u32, text: &str) -> Result<(), OutputError> {
        let styles = self.styles;
        self.text(row, 0, text, &styles.heading)
    }

    /// A note: a muted line. A note that would fall past the sheet's last row (under a table cut to fit) is
    /// left out, as the table's own rows are.
    pub fn note(&mut self, row: u32, col: u16, text: &str) -> Result<(), OutputError> {
        if row as usize >= MAX_ROWS {
            return Ok(());
        }
        let styles = self.styles;
        self.text(row, col, text, &styles.note)
    }

    /// Label and value rows from `row`; returns the next free row.
    pub fn pairs(&mut self, row: u32, pairs: &[(&str, String)]) -> Result<u32, OutputError> {
        let styles = self.styles;
        for (i, (label, value)) in pairs.iter().enumerate() {
            self.text(row + i as u32, 0, label, &styles.key)?;
            self.text(row + i as u32, 1, value, &styles.text)?;
        }
        Ok(row + pairs.len() as u32)
    }

    /// Writes `columns` as a table at (`row`, `col`): the labels, the names, then the rows `rows` selects (all
    /// when `None`; at most what fits in the sheet). Columns past Excel's last are left out; `Placed` says how
    /// many of each.
    pub fn table(
        &mut self,
        row: u32,
        col: u16,
        columns: &[Column],
        rows: Option<&[usize]>,
    ) -> Result<Placed, OutputError> {
        let n_rows = columns.first().map_or(0, |c| c.values.len());
        let first_row = row + 2;
        if first_row as usize > MAX_ROWS {
            // No room for the label and name rows: the whole table is left out.
            return Ok(Placed {
                first_row,
                last_row: row + 1,
                first_col: col,
                n_rows_left_out: n_rows,
                n_cols_left_out: columns.len(),
            });
        }
        let room_cols = MAX_COLS.saturating_sub(col as usize);
        let n_cols = columns.len().min(room_cols);
        let room_rows = MAX_ROWS.saturating_sub(first_row as usize);
        let all: Vec<usize>;
        let wanted = match rows {
            Some(rows) => rows,
            None => {
                all = (0..n_rows).collect();
                &all
            }
        };
        let shown = &wanted[..wanted.len().min(room_rows)];
        let styles = self.styles;
        for (j, column) in columns.iter().take(n_cols).enumerate() {
            let c = col + j as u16;
            let label = if self.wrap_labels {
                &styles.label_wrapped
            } else {
                &styles.label
            };
            self.text(row, c, &column.label, label)?;
            self.text(row + 1, c, &column.name, &styles.name)?;
            for (i, &source) in shown.iter().enumerate() {
                let r = first_row + i as u32;
                match &column.values {
                    Values::Numbers(v) => self.number(r, c, v[source], column.kind)?,
                    Values::Texts(v) => self.text(r, c, &v[source], &styles.text)?,
                    Values::Flags(v) => {
                        if let Some(flag) = v[source] {
                            let result = self.sheet.write_boolean(r, c, flag);
                            Self::check(self.path, result)?;
                        }
                    }
                    Values::Months(v) => self.month(r, c, v[source])?,
                }
            }
        }
        Ok(Placed {
            first_row,
            last_row: (first_row + shown.len() as u32).saturating_sub(1),
            first_col: col,
            n_rows_left_out: n_rows.saturating_sub(shown.len()),
            n_cols_left_out: columns.len() - n_cols,
        })
    }

    /// Sets the widths of columns `first..first + widths.len()`, in characters.
    pub fn widths(&mut self, first: u16, widths: &[f64]) -> Result<(), OutputError> {
        for (j, &w) in widths.iter().enumerate() {
            let Some(c) = first.checked_add(j as u16).filter(|&c| (c as usize) < MAX_COLS) else {
                break;
            };
            let r = self.sheet.set_column_width(c, w);
            Self::check(self.path, r)?;
        }
        Ok(())
    }

    /// Makes `row` tall enough for labels wrapped on up to four lines, and wraps the labels of tables.
    pub fn tall_label_row(&mut self, row: u32) -> Result<(), OutputError> {
        self.wrap_labels = true;
        let r = self.sheet.set_row_height(row, 60);
        Self::check(self.path, r)
    }

    /// Freezes the rows above `row` and the columns left of `col`.
    pub fn freeze(&mut self, row: u32, col: u16) -> Result<(), OutputError> {
        let r = self.sheet.set_freeze_panes(row, col);
        Self::check(self.path, r)
    }
}

/// The sentence that says how many rows or columns of a table Excel's limits left out, if any.
pub fn left_out_note(placed: &Placed, what: &str, where_all: &str) -> Option<String> {
    match (placed.n_rows_left_out, placed.n_cols_left_out) {
        (0, 0) => None,
        (rows, 0) => Some(format!(
            "{rows} {what} rows are left out: an Excel sheet holds {MAX_ROWS} rows; every row is in {where_all}"
        )),
        (0, cols) => Some(format!(
            "{cols} columns are left out: an Excel sheet holds {MAX_COLS} columns; every column is in {where_all}"
        )),
        (rows, cols) => Some(format!(
            "{rows} {what} rows and {cols} columns are left out for Excel's limits ({MAX_ROWS} rows, {MAX_COLS} \
             columns); all are in {where_all}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(name: &str) -> bool {
        !name.is_empty()
            && name.encode_utf16().count() <= MAX_SHEET_NAME_UNITS
            && !name.contains(FORBIDDEN_IN_SHEET_NAMES)
            && !name.starts_with('\'')
            && !name.ends_with('\'')
    }

    #[test]
    fn sheet_names_are_made_valid_and_kept_when_already_valid() {
        assert_eq!(sheet_name("Summary", &[]), "Summary");
        assert_eq!(sheet_name("a/b:c*d?e[f]g\\h", &[]), "a_b_c_d_e_f_g_h");
        assert_eq!(sheet_name("'quoted'", &[]), "quoted");
        assert_eq!(sheet_name("", &[]), "sheet");
        assert_eq!(sheet_name("History", &[]), "History sheet");
        let long = "Heatmap of the probability that cash falls below zero";
        let cut = sheet_name(long, &[]);
        assert_eq!(cut, "Heatmap of the probability that");
        assert!(valid(&cut), "{cut}");
        // Characters outside the Basic Multilingual Plane count twice, as Excel counts them.
        let wide = sheet_name(&"𝔸".repeat(20), &[]);
        assert_eq!(wide.encode_utf16().count(), 30);
        assert!(valid(&wide));
    }

    #[test]
    fn clashing_sheet_names_get_a_number_within_the_length_limit() {
        let taken = vec!["Cells".to_string(), "cells (2)".to_string()];
        assert_eq!(sheet_name("CELLS", &taken), "CELLS (3)");
        let long = "x".repeat(40);
        let first = sheet_name(&long, &[]);
        let second = sheet_name(&long, std::slice::from_ref(&first));
        assert_eq!(first, "x".repeat(31));
        assert_eq!(second, format!("{} (2)", "x".repeat(27)));
        assert!(valid(&second));
    }

    #[test]
    fn every_row_is_kept_when_the_table_fits() {
        assert_eq!(rows_that_fit(3, 3, |_| false), [0, 1, 2]);
        assert_eq!(rows_that_fit(0, 0, |_| true), Vec::<usize>::new());
    }

    #[test]
    fn a_table_over_the_limit_keeps_the_marked_rows_then_the_earliest() {
        // Ten rows, room for four, rows 7 and 9 must be seen: they and the two earliest others, in order.
        assert_eq!(rows_that_fit(10, 4, |r| r == 7 || r == 9), [0, 1, 7, 9]);
        // More marked rows than room: the earliest marked.
        assert_eq!(rows_that_fit(10, 2, |r| r % 3 == 0), [0, 3]);
        let big = rows_that_fit(MAX_ROWS + 10, MAX_ROWS - 2, |r| r == MAX_ROWS + 5);
        assert_eq!(big.len(), MAX_ROWS - 2);
        assert_eq!(big.last(), Some(&(MAX_ROWS + 5)));
    }

    #[test]
    fn left_out_rows_and_columns_are_said_and_nothing_when_none() {
        let mut placed = Placed {
            first_row: 2,
            last_row: 4,
            first_col: 0,
            n_rows_left_out: 0,
            n_cols_left_out: 0,
        };
        assert_eq!(left_out_note(&placed, "cell", "sweep.parquet"), None);
        placed.n_rows_left_out = 5;
        let note = left_out_note(&placed, "cell", "sweep.parquet").unwrap();
        assert!(note.starts_with("5 cell rows are left out"), "{note}");
    }

    #[test]
    fn a_table_past_the_last_row_is_cut_to_the_sheet() {
        let dir = std::env::temp_dir();
        let mut book = Book::new(&dir, "t", "s").unwrap();
        let (idx, _) = book.add_sheet("T").unwrap();
        let mut cells = Cells::of(&mut book, idx).unwrap();
        let columns = [
            Column::numbers("A (USD)", "a_usd", Kind::Usd, vec![1.0, f64::NAN, 3.0, 4.0]),
            Column::texts("B", "b", vec!["w".into(), "x".into(), "y".into(), "z".into()]),
        ];
        // Two rows from the last: the label and name rows, then room for two of the four rows.
        let start = (MAX_ROWS - 4) as u32;
        let placed = cells.table(start, 0, &columns, None).unwrap();
        assert_eq!((placed.first_row, placed.last_row), (start + 2, start + 3));
        assert_eq!(placed.n_rows_left_out, 2);
        let placed = cells.table(0, (MAX_COLS - 1) as u16, &columns, Some(&[3])).unwrap();
        assert_eq!((placed.n_rows_left_out, placed.n_cols_left_out), (3, 1));
        // No room even for the labels: nothing is written, and everything is said to be left out.
        let placed = cells.table((MAX_ROWS - 1) as u32, 0, &columns, None).unwrap();
        assert_eq!((placed.n_rows_left_out, placed.n_cols_left_out), (4, 2));
        assert!(placed.last_row < placed.first_row);
        cells.note(MAX_ROWS as u32, 0, "past the last row").unwrap();
    }

    #[test]
    fn the_same_workbook_gives_the_same_bytes() {
        let bytes = || {
            let dir = std::env::temp_dir();
            let mut book = Book::new(&dir, "t", "s").unwrap();
            let (idx, _) = book.add_sheet("T").unwrap();
            let mut cells = Cells::of(&mut book, idx).unwrap();
            cells
                .table(0, 0, &[Column::numbers("A", "a", Kind::Share, vec![0.25])], None)
                .unwrap();
            book.workbook.save_to_buffer().unwrap()
        };
        let first = bytes();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        assert_eq!(first, bytes(), "a workbook must not depend on the clock");
    }
}
