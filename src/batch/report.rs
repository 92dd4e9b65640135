//! A run's `report.html`: the scenario summary, the key figures across paths and every chart.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::batch::data::RunData;
use crate::output::OutputError;
use crate::output::charts::format;
use crate::output::report::{charts_html, esc, meta_table, write_page};
use crate::stats::Quantiles;

/// Writes `dir/report.html` for a run, embedding the charts in `dir/charts/` (drawing any that are missing).
pub fn write_run_report(dir: &Path) -> Result<PathBuf, OutputError> {
    run_report(dir, &RunData::load(dir)?)
}

pub fn run_report(dir: &Path, data: &RunData) -> Result<PathBuf, OutputError> {
    let charts = crate::batch::charts::run_charts(data);
    let info = &data.info;
    let mut body = String::new();

    let _ = writeln!(body, "<header>");
    let _ = writeln!(body, "<p class=\"kicker\">hashcycle run report</p>");
    let _ = writeln!(body, "<h1>Scenario {}</h1>", esc(&info.scenario_name));
    // `simulation.description` heads the report (the scenario's name when it has none), never the file's comments.
    let description = if info.description.is_empty() {
        &info.scenario_name
    } else {
        &info.description
    };
    let _ = writeln!(body, "<p class=\"lede\">{}</p>", esc(description));
    let horizon_end = data.start.plus_months(data.n_months.saturating_sub(1) as i64);
    meta_table(
        &mut body,
        &[
            ("Scenario file", info.shown_scenario_file()),
            (
                "Months",
                format!("{} to {} ({} months)", data.start, horizon_end, data.n_months),
            ),
            ("Paths", format::grouped(info.paths as f64, 0)),
            ("Seed", info.seed.to_string()),
            ("hashcycle", info.version.clone()),
            ("Paths stopped by a failed check", info.n_failed_paths().to_string()),
        ],
    );
    let _ = writeln!(body, "</header>");

    let _ = writeln!(body, "<section>\n<h2>Scenario summary</h2>");
    if !info.assumptions.is_empty() {
        let _ = writeln!(
            body,
            "<table class=\"figures plain assumptions\">\n<thead><tr><th>Assumption</th><th>In this scenario</th></tr></thead>\n<tbody>"
        );
        for a in &info.assumptions {
            let _ = writeln!(body, "<tr><td>{}</td><td>{}</td></tr>", esc(&a.topic), esc(&a.value));
        }
        let _ = writeln!(body, "</tbody>\n</table>");
    }
    let _ = writeln!(
        body,
        "<table class=\"figures plain\">\n<thead><tr><th>Manufacturer</th><th>Strategy in the scenario file</th></tr></thead>\n<tbody>"
    );
    for maker in &data.makers {
        let strategy = maker.strategy.as_ref().map_or("not set".to_string(), |s| s.describe());
        let _ = writeln!(
            body,
            "<tr><td>{}</td><td>{}</td></tr>",
            esc(&maker.name),
            esc(&strategy)
        );
    }
    let _ = writeln!(body, "</tbody>\n</table>");
    if data.markers.is_empty() {
        let _ = writeln!(body, "<p>No halving or scripted event falls in the horizon.</p>");
    } else {
        let _ = writeln!(body, "<p>Events marked on the time charts:</p>\n<ul class=\"events\">");
        for marker in &data.markers {
            let _ = writeln!(body, "<li>{}</li>", esc(&marker.label));
        }
        let _ = writeln!(body, "</ul>");
    }
    let _ = writeln!(body, "</section>");

    let _ = writeln!(body, "<section>\n<h2>Key figures</h2>");
    let _ = writeln!(
        body,
        "<p class=\"note\">Across {} paths at the end of the horizon. Money in USD; p5 and p95 are the 5th and 95th percentiles of paths.</p>",
        format::grouped(info.paths as f64, 0)
    );
    let _ = writeln!(
        body,
        "<table class=\"figures\">\n<thead><tr><th>Manufacturer</th><th>P(cash&nbsp;&lt;&nbsp;0)</th><th>P(distress)</th>\
         <th>Lowest cash, median</th><th>Ending cash p5</th><th>Ending cash median</th><th>Ending cash p95</th>\
         <th>Revenue, median</th><th>Gross margin, median</th><th>Walk-away rate, mean</th><th>Market share, mean</th></tr></thead>\n<tbody>"
    );
    for m in &data.maker_figures {
        let q = |q: &Option<Quantiles>, f: fn(&Quantiles) -> f64| {
            q.as_ref().map_or("n/a".to_string(), |q| format::usd(f(q)))
        };
        let _ = writeln!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&m.name),
            format::pct(m.p_cash_below_zero),
            format::pct(m.p_distressed),
            q(&m.min_cash_usd, |q| q.p50),
            q(&m.end_cash_usd, |q| q.p5),
            q(&m.end_cash_usd, |q| q.p50),
            q(&m.end_cash_usd, |q| q.p95),
            q(&m.revenue_usd, |q| q.p50),
            q(&m.gross_margin_usd, |q| q.p50),
            format::pct(m.walk_away_rate_mean),
            format::pct(m.market_share_mean),
        );
    }
    let _ = writeln!(body, "</tbody>\n</table>");
    let n = &data.network_figures;
    let range = |q: &Option<Quantiles>, show: fn(f64) -> String| {
        q.as_ref().map_or("n/a".to_string(), |q| {
            format!("{} ({} to {})", show(q.p50), show(q.p5), show(q.p95))
        })
    };
    meta_table(
        &mut body,
        &[
            (
                "BTC price at the end, median (p5 to p95)",
                range(&n.end_price_usd, format::usd),
            ),
            (
                "Network hashrate at the end, median (p5 to p95)",
                range(&n.end_hashrate_ehs, format::ehs),
            ),
            (
                "Largest hashrate drawdown, median (p5 to p95)",
                range(&n.max_drawdown_share, format::pct),
            ),
            (
                "Halvings in the horizon, median",
                format::grouped(n.n_halvings_median, 0),
            ),
        ],
    );
    let _ = writeln!(body, "</section>");

    history_section(&mut body, info.history_fit.as_ref(), "This run's");

    let glyphs = charts_html(dir, &charts, &mut body)?;
    let _ = writeln!(body, "<footer>{}</footer>", esc(&info.source_line()));
    let title = format!("hashcycle run report: scenario {}", info.scenario_name);
    write_page(dir, &title, &glyphs, &body)
}

/// "How well does this model match history": the shipped replay's fit, when the run draws the behaviour it was
/// measured with; otherwise why it does not apply.
pub fn history_section(body: &mut String, fit: Option<&crate::batch::manifest::HistoryFit>, whose: &str) {
    let _ = writeln!(body, "<section>\n<h2>How well does this model match history</h2>");
    let Some(fit) = fit else {
        let _ = writeln!(
            body,
            "<p>{whose} behaviour parameters are not the calibrated ones: it does not draw exactly the [[uncertainty]] \
             ranges scenarios/base.toml carries (a parameter it states is not drawn). The replay of 2019-2025 that measured \
             the calibrated model does not describe it; run <code>hashcycle replay</code> on a replay scenario with the same \
             behaviour to measure it.</p>\n</section>",
            whose = esc(whose)
        );
        return;
    };
    let _ = writeln!(
        body,
        "<p class=\"note\">The full model with {} behaviour, replayed from December 2018 on the real BTC price \
         ({}); behaviour fitted on the months to {}. Error: median over the months of |ln(model median / real \
         hashrate)|; bias: the same with its sign (negative: the model runs below history); coverage: share of months \
         whose real hashrate lies inside the model's p10-p90 band.</p>",
        esc(&whose.to_lowercase()),
        esc(&fit.measured_by),
        esc(&fit.calibrate_until_month)
    );
    if !fit.stated_here.is_empty() {
        let _ = writeln!(
            body,
            "<p class=\"note\">{} states some of the parameters the replay drew per path (all or some of their \
             places): {}. The figures below describe the model with them drawn.</p>",
            esc(&whose.replace("'s", "")),
            esc(&fit.stated_here.join(", "))
        );
    }
    let _ = writeln!(
        body,
        "<table class=\"figures\">\n<thead><tr><th>Period</th><th>Sample</th><th>Hashrate error</th><th>Bias</th><th>Real inside p10-p90</th></tr></thead>\n<tbody>"
    );
    let num = |x: Option<f64>| x.map_or("n/a".to_string(), |x| format!("{x:.3}"));
    for row in &fit.rows {
        let period = match row.period.as_str() {
            "in_sample" => "All in-sample months".to_string(),
            "out_of_sample" => "All out-of-sample months".to_string(),
            year => year.to_string(),
        };
        let _ = writeln!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&period),
            if row.in_sample { "fitted" } else { "not fitted" },
            num(row.median_abs_log_error),
            num(row.median_log_error),
            row.coverage_p10_p90_share.map_or("n/a".to_string(), format::pct)
        );
    }
    let _ = writeln!(body, "</tbody>\n</table>\n</section>");
}
