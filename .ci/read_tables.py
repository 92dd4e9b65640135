"""Reads every Parquet table under the directories given with each reader installed here (pyarrow, pandas,
polars, duckdb) and checks what an analyst relies on: the file opens, every reader sees the same rows, and
integers are signed 64-bit (no unsigned type, whose differences wrap in pandas). Prints one line per
reader and exits with status 1 listing every failure. .ci/readers installs the readers; the test
`issue_31_tables_open_in_old_and_new_readers` runs this."""

import importlib
import importlib.metadata
import pathlib
import sys


def available(name):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def main(dirs):
    files = sorted(p for d in dirs for p in pathlib.Path(d).rglob("*.parquet"))
    if not files:
        print(f"read_tables: no Parquet file under {' '.join(dirs)}", file=sys.stderr)
        return 1
    pa = available("pyarrow")
    if pa is None:
        print("read_tables: pyarrow is missing", file=sys.stderr)
        return 1
    import pyarrow.parquet as pq

    pd = available("pandas")
    pl = available("polars")
    duckdb = available("duckdb")
    failures = []
    for path in files:
        try:
            table = pq.read_table(path)
        except Exception as e:  # noqa: BLE001, any reader error is the finding
            failures.append(f"pyarrow cannot read {path}: {e}")
            continue
        n_rows = table.num_rows
        for field in table.schema:
            if pa.types.is_unsigned_integer(field.type):
                failures.append(f"{path}: column {field.name} is {field.type}, not int64")
            elif pa.types.is_integer(field.type) and field.type != pa.int64():
                failures.append(f"{path}: column {field.name} is {field.type}, not int64")
        readers = []
        if pd is not None:
            readers.append(("pandas", lambda: pd.read_parquet(path)))
        if pl is not None:
            readers.append(("polars", lambda: pl.read_parquet(path)))
        if duckdb is not None:
            readers.append(("duckdb", lambda: duckdb.sql(f"SELECT * FROM read_parquet('{path}')").fetchall()))
        for name, read in readers:
            try:
                rows = len(read())
            except Exception as e:  # noqa: BLE001, any reader error is the finding
                failures.append(f"{name} cannot read {path}: {e}")
                continue
            if rows != n_rows:
                failures.append(f"{name} reads {rows} rows of {path}, pyarrow {n_rows}")
        if pd is not None and not any(f.startswith(f"pandas cannot read {path}") for f in failures):
            frame = pd.read_parquet(path)
            for column in frame.columns:
                kind = frame[column].dtype.kind
                if kind == "u":
                    failures.append(f"{path}: pandas reads column {column} as {frame[column].dtype}")

    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}"
        for name, module in (("pyarrow", pa), ("pandas", pd), ("polars", pl), ("duckdb", duckdb))
        if module is not None
    )
    if failures:
        print(f"read_tables: {versions}: {len(failures)} failures in {len(files)} files", file=sys.stderr)
        for failure in failures:
            print(f"  {failure}", file=sys.stderr)
        return 1
    print(f"read_tables: {versions}: {len(files)} files read")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
