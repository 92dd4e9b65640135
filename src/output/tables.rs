//! What every table shares: the calendar that turns month indexes into dates, the scenario's names that
//! label rows, and `RowColumns`, the column buffers of any row type declared with the model's `row_table!`.

use polars::prelude::*;

use std::marker::PhantomData;

use hashcycle_model::params::Params;
use hashcycle_model::record::Subject;
use hashcycle_model::record::columns::{Cell, CellKind, NameList, Row};
use hashcycle_model::units::Month;

/// Turns month indexes into Arrow dates (days since 1970-01-01 of the first day of the month).
pub struct Calendar {
    days: Vec<i32>,
}

impl Calendar {
    pub fn new(params: &Params, extra_months: usize) -> Calendar {
        let n = params.simulation.horizon_months as usize + extra_months + 1;
        let days = (0..n)
            .map(|m| params.simulation.start.plus_months(m as i64).days_since_unix_epoch())
            .collect();
        Calendar { days }
    }

    pub fn day(&self, month: Month) -> i32 {
        self.days
            .get(month.idx())
            .copied()
            .unwrap_or_else(|| *self.days.last().unwrap_or(&0))
    }

    /// The month index whose first day is `day` (days since 1970-01-01), the inverse of `day`; `None` for a
    /// day that is not the first of a month of this calendar.
    pub fn month_of_day(&self, day: i32) -> Option<Month> {
        self.days.iter().position(|&d| d == day).map(|idx| Month(idx as u32))
    }
}

/// Names of the scenario's agents, to label rows.
pub struct Names<'a> {
    pub scenario: &'a str,
    pub origins: Vec<&'a str>,
    pub regions: Vec<&'a str>,
    pub manufacturers: Vec<&'a str>,
    pub segments: [&'static str; 2],
}

impl<'a> Names<'a> {
    /// No names, for columns that name nothing.
    pub fn unnamed() -> Names<'static> {
        Names {
            scenario: "",
            origins: vec![],
            regions: vec![],
            manufacturers: vec![],
            segments: ["key_account", "retail"],
        }
    }

    pub fn new(params: &'a Params) -> Names<'a> {
        Names {
            scenario: &params.simulation.name,
            origins: params.origins.iter().map(String::as_str).collect(),
            regions: params.regions.iter().map(|r| r.name.as_str()).collect(),
            manufacturers: params.manufacturers.iter().map(|m| m.name.as_str()).collect(),
            segments: ["key_account", "retail"],
        }
    }
}

/// One column's values, typed by its `CellKind`.
#[derive(Clone, Debug)]
enum Buffer {
    U32(Vec<u32>),
    U64(Vec<u64>),
    F64(Vec<f64>),
    Bool(Vec<bool>),
    OptF64(Vec<Option<f64>>),
    OptU64(Vec<Option<u64>>),
    Month(Vec<Month>),
    Label(Vec<&'static str>),
    Text(Vec<String>),
    Index(Vec<usize>),
    OptIndex(Vec<Option<usize>>),
    Subject(Vec<Subject>),
}

impl Buffer {
    fn new(kind: CellKind) -> Buffer {
        match kind {
            CellKind::U32 => Buffer::U32(vec![]),
            CellKind::U64 => Buffer::U64(vec![]),
            CellKind::F64 => Buffer::F64(vec![]),
            CellKind::Bool => Buffer::Bool(vec![]),
            CellKind::OptF64 => Buffer::OptF64(vec![]),
            CellKind::OptU64 => Buffer::OptU64(vec![]),
            CellKind::Month => Buffer::Month(vec![]),
            CellKind::Label => Buffer::Label(vec![]),
            CellKind::Text => Buffer::Text(vec![]),
            CellKind::Index => Buffer::Index(vec![]),
            CellKind::OptIndex => Buffer::OptIndex(vec![]),
            CellKind::Subject => Buffer::Subject(vec![]),
        }
    }

    fn push(&mut self, cell: Cell<'_>) {
        match (self, cell) {
            (Buffer::U32(b), Cell::U32(v)) => b.push(v),
            (Buffer::U64(b), Cell::U64(v)) => b.push(v),
            (Buffer::F64(b), Cell::F64(v)) => b.push(v),
            (Buffer::Bool(b), Cell::Bool(v)) => b.push(v),
            (Buffer::OptF64(b), Cell::OptF64(v)) => b.push(v),
            (Buffer::OptU64(b), Cell::OptU64(v)) => b.push(v),
            (Buffer::Month(b), Cell::Month(v)) => b.push(v),
            (Buffer::Label(b), Cell::Label(v)) => b.push(v),
            (Buffer::Text(b), Cell::Text(v)) => b.push(v.to_string()),
            (Buffer::Index(b), Cell::Index(v)) => b.push(v),
            (Buffer::OptIndex(b), Cell::OptIndex(v)) => b.push(v),
            (Buffer::Subject(b), Cell::Subject(v)) => b.push(v),
            (buffer, cell) => panic!("a column declared {buffer:?} was given {cell:?}: a row_table! declaration bug"),
        }
    }

    fn append(&mut self, other: &mut Buffer) {
        match (self, other) {
            (Buffer::U32(a), Buffer::U32(b)) => a.append(b),
            (Buffer::U64(a), Buffer::U64(b)) => a.append(b),
            (Buffer::F64(a), Buffer::F64(b)) => a.append(b),
            (Buffer::Bool(a), Buffer::Bool(b)) => a.append(b),
            (Buffer::OptF64(a), Buffer::OptF64(b)) => a.append(b),
            (Buffer::OptU64(a), Buffer::OptU64(b)) => a.append(b),
            (Buffer::Month(a), Buffer::Month(b)) => a.append(b),
            (Buffer::Label(a), Buffer::Label(b)) => a.append(b),
            (Buffer::Text(a), Buffer::Text(b)) => a.append(b),
            (Buffer::Index(a), Buffer::Index(b)) => a.append(b),
            (Buffer::OptIndex(a), Buffer::OptIndex(b)) => a.append(b),
            (Buffer::Subject(a), Buffer::Subject(b)) => a.append(b),
            (a, b) => panic!("columns of one declaration differ: {a:?} and {b:?}"),
        }
    }

    /// A value that stands in a missing row until it is written as null.
    fn push_placeholder(&mut self) {
        match self {
            Buffer::U32(b) => b.push(0),
            Buffer::U64(b) => b.push(0),
            Buffer::F64(b) => b.push(0.0),
            Buffer::Bool(b) => b.push(false),
            Buffer::OptF64(b) => b.push(None),
            Buffer::OptU64(b) => b.push(None),
            Buffer::Month(b) => b.push(Month(0)),
            Buffer::Label(b) => b.push(""),
            Buffer::Text(b) => b.push(String::new()),
            // Index 0 may name nothing (an empty list), so a missing index is written as no name.
            Buffer::Index(b) => b.push(usize::MAX),
            Buffer::OptIndex(b) => b.push(None),
            Buffer::Subject(b) => b.push(Subject::Network),
        }
    }

    fn clear(&mut self) {
        match self {
            Buffer::U32(b) => b.clear(),
            Buffer::U64(b) => b.clear(),
            Buffer::F64(b) => b.clear(),
            Buffer::Bool(b) => b.clear(),
            Buffer::OptF64(b) => b.clear(),
            Buffer::OptU64(b) => b.clear(),
            Buffer::Month(b) => b.clear(),
            Buffer::Label(b) => b.clear(),
            Buffer::Text(b) => b.clear(),
            Buffer::Index(b) => b.clear(),
            Buffer::OptIndex(b) => b.clear(),
            Buffer::Subject(b) => b.clear(),
        }
    }

    /// The polars column: months as dates, indexes and subjects as the scenario's names.
    fn column(&self, name: &str, names_of: Option<NameList>, names: &Names, cal: &Calendar) -> PolarsResult<Column> {
        let list = |list: Option<NameList>| -> &[&str] {
            match list {
                Some(NameList::Regions) => &names.regions,
                Some(NameList::Manufacturers) => &names.manufacturers,
                Some(NameList::Origins) => &names.origins,
                None => &[],
            }
        };
        let name = name.into();
        Ok(match self {
            Buffer::U32(b) => Column::new(name, b.as_slice()),
            Buffer::U64(b) => Column::new(name, b.as_slice()),
            Buffer::F64(b) => Column::new(name, b.as_slice()),
            Buffer::Bool(b) => Column::new(name, b.as_slice()),
            Buffer::OptF64(b) => Column::new(name, b.as_slice()),
            Buffer::OptU64(b) => Column::new(name, b.as_slice()),
            Buffer::Month(b) => {
                Column::new(name, b.iter().map(|&m| cal.day(m)).collect::<Vec<i32>>()).cast(&DataType::Date)?
            }
            Buffer::Label(b) => Column::new(name, b.as_slice()),
            Buffer::Text(b) => Column::new(name, b.as_slice()),
            Buffer::Index(b) => match names_of {
                Some(_) => {
                    let list = list(names_of);
                    Column::new(
                        name,
                        b.iter()
                            .map(|&i| list.get(i).copied().unwrap_or(""))
                            .collect::<Vec<&str>>(),
                    )
                }
                None => Column::new(name, b.iter().map(|&i| i as u32).collect::<Vec<u32>>()),
            },
            Buffer::OptIndex(b) => match names_of {
                Some(_) => {
                    let list = list(names_of);
                    Column::new(
                        name,
                        b.iter()
                            .map(|i| i.and_then(|i| list.get(i).copied()))
                            .collect::<Vec<Option<&str>>>(),
                    )
                }
                None => Column::new(
                    name,
                    b.iter().map(|i| i.map(|i| i as u32)).collect::<Vec<Option<u32>>>(),
                ),
            },
            Buffer::Subject(b) => Column::new(
                name,
                b.iter()
                    .map(|s| match *s {
                        Subject::Network => "network",
                        Subject::Manufacturer(i) => names.manufacturers[i],
                        Subject::Region(i) => names.regions[i],
                        Subject::Segment(s) => names.segments[s.idx()],
                        Subject::Dealers => "dealers",
                        Subject::Path => "path",
                    })
                    .collect::<Vec<&str>>(),
            ),
        })
    }
}

/// The rows of a table declared with `row_table!`, column by column: a buffer per declared column, filled row
/// by row, turned into a DataFrame with a leading `scenario` column. A row can also be missing (a path's
/// summary when the scenario has no manufacturer): every column is null there.
#[derive(Clone, Debug)]
pub struct RowColumns<R: Row> {
    buffers: Vec<Buffer>,
    n_rows: usize,
    /// Indexes of the missing rows, in order.
    missing_rows: Vec<usize>,
    row: PhantomData<fn(&R)>,
}

impl<R: Row> Default for RowColumns<R> {
    fn default() -> RowColumns<R> {
        RowColumns {
            buffers: R::COLUMNS.iter().map(|c| Buffer::new(c.kind)).collect(),
            n_rows: 0,
            missing_rows: vec![],
            row: PhantomData,
        }
    }
}

impl<R: Row> RowColumns<R> {
    pub fn push(&mut self, row: &R) {
        for (column, buffer) in R::COLUMNS.iter().zip(&mut self.buffers) {
            buffer.push((column.get)(row));
        }
        self.n_rows += 1;
    }

    /// Adds a row whose every column is null.
    pub fn push_missing(&mut self) {
        self.buffers.iter_mut().for_each(Buffer::push_placeholder);
        self.missing_rows.push(self.n_rows);
        self.n_rows += 1;
    }

    pub fn len(&self) -> usize {
        self.n_rows
    }

    pub fn is_empty(&self) -> bool {
        self.n_rows == 0
    }

    pub fn append(&mut self, other: &mut RowColumns<R>) {
        for (buffer, theirs) in self.buffers.iter_mut().zip(&mut other.buffers) {
            buffer.append(theirs);
        }
        let offset = self.n_rows;
        self.missing_rows
            .extend(other.missing_rows.drain(..).map(|row_idx| row_idx + offset));
        self.n_rows += std::mem::take(&mut other.n_rows);
    }

    pub fn clear(&mut self) {
        self.buffers.iter_mut().for_each(Buffer::clear);
        self.missing_rows.clear();
        self.n_rows = 0;
    }

    /// The table: `scenario`, then every declared column in order.
    pub fn frame(&self, names: &Names, cal: &Calendar) -> PolarsResult<DataFrame> {
        let mut columns = vec![Column::new("scenario".into(), vec![names.scenario; self.n_rows])];
        columns.extend(self.columns(names, cal, &[])?);
        DataFrame::new(self.n_rows, columns)
    }

    /// The declared columns in order, but those named in `skip`, for a table that puts other columns around them.
    pub fn columns(&self, names: &Names, cal: &Calendar, skip: &[&str]) -> PolarsResult<Vec<Column>> {
        let keep: Option<BooleanChunked> = (!self.missing_rows.is_empty()).then(|| {
            let mut keep = vec![true; self.n_rows];
            for &row_idx in &self.missing_rows {
                keep[row_idx] = false;
            }
            BooleanChunked::from_slice("keep".into(), &keep)
        });
        let mut columns = vec![];
        for (column, buffer) in R::COLUMNS.iter().zip(&self.buffers) {
            if skip.contains(&column.name) {
                continue;
            }
            let values = buffer.column(column.name, column.names, names, cal)?;
            columns.push(match &keep {
                Some(keep) => {
                    let nulls = Column::full_null(column.name.into(), self.n_rows, values.dtype());
                    values.zip_with(keep, &nulls)?
                }
                None => values,
            });
        }
        Ok(columns)
    }
}
