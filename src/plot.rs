//! `hashcycle plot DIR`: redraws the charts and report of a finished run, sweep or backtest directory from
//! its files alone, deciding which by the provenance file it holds.

use std::path::{Path, PathBuf};

use crate::batch::data::RunData;
use crate::output::OutputError;
use crate::sweep::data::SweepData;

/// Regenerates the charts, `report.html` and `report.xlsx` of a run or sweep directory from its Parquet files,
/// deciding which by the presence of `run.json` or `sweep.json`; a backtest directory (`backtest.json`) gets its
/// chart redrawn. Returns every file written.
pub fn plot_dir(dir: &Path) -> Result<Vec<PathBuf>, OutputError> {
    if !dir.is_dir() {
        return Err(OutputError::Missing {
            path: dir.to_path_buf(),
            message: "no such directory".to_string(),
        });
    }
    // The tables are read once for both the charts and the report.
    let mut written;
    if dir.join("run.json").is_file() {
        let data = RunData::load(dir)?;
        written = crate::batch::charts::render_run_data(dir, &data)?;
        written.push(crate::batch::report::run_report(dir, &data)?);
        written.push(crate::batch::workbook::write_run_workbook(dir, &data)?);
    } else if dir.join("sweep.json").is_file() {
        let data = SweepData::load(dir)?;
        written = crate::sweep::charts::render_sweep_data(dir, &data)?;
        written.push(crate::sweep::report::sweep_report(dir, &data)?);
        written.push(crate::sweep::workbook::write_sweep_workbook(dir, &data)?);
    } else if dir.join("sensitivity.json").is_file() {
        written = crate::sensitivity::redraw(dir)?;
    } else if dir.join("replay.json").is_file() {
        // A replay has its chart page but no report.
        written = crate::replay::charts::render_replay(dir)?;
    } else if dir.join("backtest.json").is_file() {
        // A backtest has its chart but no report.
        written = crate::backtest::charts::render_backtest(dir)?;
    } else {
        return Err(OutputError::Missing {
            path: dir.join("run.json"),
            message:
                "neither run.json, sweep.json, sensitivity.json, backtest.json nor replay.json is here, so this is not a hashcycle run, sweep, sensitivity, backtest or replay directory"
                    .to_string(),
        });
    }
    Ok(written)
}
