//! How a row type declares its columns once: what a column holds (`CellKind`, `Cell`), the `Row` trait with
//! its `COLUMNS`, and the `row_table!` macro that declares a row struct and its columns together. The output
//! layer turns any `Row` into buffers and a table without naming its columns again.
#![warn(missing_docs)]

use crate::params::{Regime, Segment};
use crate::record::{EventKind, Subject};
use crate::units::Month;

/// What a column holds, for the output layer to choose its type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellKind {
    /// An unsigned 32-bit integer.
    U32,
    /// An unsigned 64-bit integer.
    U64,
    /// A float.
    F64,
    /// A boolean.
    Bool,
    /// A float that may be missing, written as null.
    OptF64,
    /// An unsigned 64-bit integer that may be missing, written as null.
    OptU64,
    /// A month index, written as the date of the month's first day.
    Month,
    /// A fixed name (a regime, a segment, an event kind, a unit).
    Label,
    /// Free text.
    Text,
    /// An index into one of the scenario's lists (`NameList`), written as the name.
    Index,
    /// An index that may be missing, written as the name or null.
    OptIndex,
    /// What an event is about, written as its name.
    Subject,
}

/// Which of the scenario's lists of names an index column points into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameList {
    /// The scenario's regions (`Params::regions`).
    Regions,
    /// The scenario's manufacturers (`Params::manufacturers`).
    Manufacturers,
    /// Where machines are made (`Params::origins`), the origins tariffs name.
    Origins,
}

/// One value of a row, as the output layer receives it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cell<'a> {
    /// A value of a [`CellKind::U32`] column.
    U32(u32),
    /// A value of a [`CellKind::U64`] column.
    U64(u64),
    /// A value of a [`CellKind::F64`] column.
    F64(f64),
    /// A value of a [`CellKind::Bool`] column.
    Bool(bool),
    /// A value of a [`CellKind::OptF64`] column (`None` is written as null).
    OptF64(Option<f64>),
    /// A value of a [`CellKind::OptU64`] column (`None` is written as null).
    OptU64(Option<u64>),
    /// A value of a [`CellKind::Month`] column.
    Month(Month),
    /// A value of a [`CellKind::Label`] column.
    Label(&'static str),
    /// A value of a [`CellKind::Text`] column.
    Text(&'a str),
    /// A value of a [`CellKind::Index`] column.
    Index(usize),
    /// A value of a [`CellKind::OptIndex`] column (`None` is written as null).
    OptIndex(Option<usize>),
    /// A value of a [`CellKind::Subject`] column.
    Subject(Subject),
}

/// A field type that can be a column: its kind, and its value as a cell.
pub trait ToCell {
    /// The kind of column a field of this type makes.
    const KIND: CellKind;
    /// The value as a cell of that kind.
    fn to_cell(&self) -> Cell<'_>;
}

macro_rules! to_cell {
    ($($ty:ty => $kind:ident($value:expr)),* $(,)?) => {
        $(impl ToCell for $ty {
            const KIND: CellKind = CellKind::$kind;
            fn to_cell(&self) -> Cell<'_> {
                let to: for<'a> fn(&'a $ty) -> Cell<'a> = $value;
                to(self)
            }
        })*
    };
}

to_cell! {
    u32 => U32(|v| Cell::U32(*v)),
    u64 => U64(|v| Cell::U64(*v)),
    f64 => F64(|v| Cell::F64(*v)),
    bool => Bool(|v| Cell::Bool(*v)),
    Option<f64> => OptF64(|v| Cell::OptF64(*v)),
    Option<u64> => OptU64(|v| Cell::OptU64(*v)),
    Month => Month(|v| Cell::Month(*v)),
    usize => Index(|v| Cell::Index(*v)),
    Option<usize> => OptIndex(|v| Cell::OptIndex(*v)),
    // A month before any regime was drawn has none: an empty name.
    Option<Regime> => Label(|v| Cell::Label(v.map_or("", |g| g.as_str()))),
    Segment => Label(|v| Cell::Label(v.as_str())),
    EventKind => Label(|v| Cell::Label(v.as_str())),
    &'static str => Label(|v| Cell::Label(v)),
    String => Text(|v| Cell::Text(v.as_str())),
    Subject => Subject(|v| Cell::Subject(*v)),
}

/// One column of a table of rows: its name, what it holds, the list an index points into, and how to read it
/// from a row.
pub struct Column<R: 'static> {
    /// The column's name in the table.
    pub name: &'static str,
    /// What the column holds; every cell `get` returns is of this kind.
    pub kind: CellKind,
    /// The list an index column points into, whose names are written instead of the indexes; `None` for
    /// any other column.
    pub names: Option<NameList>,
    /// Reads the column's value from a row.
    pub get: for<'a> fn(&'a R) -> Cell<'a>,
}

/// A row type whose columns are declared with it, by `row_table!`.
pub trait Row: Sized + 'static {
    /// Every column, in table order.
    const COLUMNS: &'static [Column<Self>];
}

/// Declares a row struct and its `Row::COLUMNS` in one place, so that adding a column is one field here plus
/// its value where the model builds the row. Each field is a column, in order, named as the field and typed by
/// its `ToCell` kind, unless it says otherwise after `=>`:
/// - `=> "path"`: another column name;
/// - `=> "region" in Regions`: an index written as the name it points to in one of the scenario's lists;
/// - `=> "origin" in Origins as OptIndex = |r| Cell::OptIndex(..)`: a value worked out from the row (without
///   `in`, one that names nothing).
///
/// Attributes written on the struct and on each field, doc comments among them (`///` is `#[doc = ".."]`),
/// are matched as `$(#[$meta:meta])*` and put back on the generated struct and fields, so the columns are
/// documented where they are declared.
macro_rules! row_table {
    ($(#[$struct_meta:meta])* pub struct $name:ident { $($body:tt)* }) => {
        row_table!(@munch ($(#[$struct_meta])*) $name [] [] $($body)*);
    };
    (@munch ($($struct_meta:tt)*) $name:ident [$($fields:tt)*] [$($columns:tt)*]) => {
        $($struct_meta)*
        pub struct $name { $($fields)* }
        impl Row for $name {
            const COLUMNS: &'static [Column<$name>] = &[$($columns)*];
        }
    };
    (@munch $struct_meta:tt $name:ident [$($fields:tt)*] [$($columns:tt)*]
        $(#[$meta:meta])* pub $field:ident : $ty:ty => $column:literal in $names:ident as $kind:ident = $get:expr,
        $($rest:tt)*) => {
        row_table!(@munch $struct_meta $name [$($fields)* $(#[$meta])* pub $field: $ty,]
            [$($columns)* Column { name: $column, kind: CellKind::$kind, names: Some(NameList::$names), get: $get },]
            $($rest)*);
    };
    (@munch $struct_meta:tt $name:ident [$($fields:tt)*] [$($columns:tt)*]
        $(#[$meta:meta])* pub $field:ident : $ty:ty => $column:literal as $kind:ident = $get:expr,
        $($rest:tt)*) => {
        row_table!(@munch $struct_meta $name [$($fields)* $(#[$meta])* pub $field: $ty,]
            [$($columns)* Column { name: $column, kind: CellKind::$kind, names: None, get: $get },]
            $($rest)*);
    };
    (@munch $struct_meta:tt $name:ident [$($fields:tt)*] [$($columns:tt)*]
        $(#[$meta:meta])* pub $field:ident : $ty:ty => $column:literal in $names:ident, $($rest:tt)*) => {
        row_table!(@munch $struct_meta $name [$($fields)* $(#[$meta])* pub $field: $ty,]
            [$($columns)* Column {
                name: $column,
                kind: <$ty as ToCell>::KIND,
                names: Some(NameList::$names),
                get: |row| ToCell::to_cell(&row.$field),
            },]
            $($rest)*);
    };
    (@munch $struct_meta:tt $name:ident [$($fields:tt)*] [$($columns:tt)*]
        $(#[$meta:meta])* pub $field:ident : $ty:ty => $column:literal, $($rest:tt)*) => {
        row_table!(@munch $struct_meta $name [$($fields)* $(#[$meta])* pub $field: $ty,]
            [$($columns)* Column {
                name: $column,
                kind: <$ty as ToCell>::KIND,
                names: None,
                get: |row| ToCell::to_cell(&row.$field),
            },]
            $($rest)*);
    };
    (@munch $struct_meta:tt $name:ident [$($fields:tt)*] [$($columns:tt)*]
        $(#[$meta:meta])* pub $field:ident : $ty:ty, $($rest:tt)*) => {
        row_table!(@munch $struct_meta $name [$($fields)* $(#[$meta])* pub $field: $ty,]
            [$($columns)* Column {
                name: stringify!($field),
                kind: <$ty as ToCell>::KIND,
                names: None,
                get: |row| ToCell::to_cell(&row.$field),
            },]
            $($rest)*);
    };
}
