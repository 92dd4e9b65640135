//! A sweep's `report.html`: the reference, safest and riskiest cells of each scenario, every chart, and
//! every cell.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::output::OutputError;
use crate::output::charts::format;
use crate::output::report::{charts_html, esc, meta_table, write_page};
use crate::sweep::data::{Cell, SweepData};
use crate::sweep::robust::Choices;

/// Writes `dir/report.html` for a sweep, embedding the charts in `dir/charts/` (drawing any that are missing).
pub fn write_sweep_report(dir: &Path) -> Result<PathBuf, OutputError> {
    sweep_report(dir, &SweepData::load(dir)?)
}

pub fn sweep_report(dir: &Path, data: &SweepData) -> Result<PathBuf, OutputError> {
    let charts = crate::sweep::charts::sweep_charts(data);
    let info = &data.info;
    let mut body = String::new();

    let _ = writeln!(body, "<header>");
    let _ = writeln!(body, "<p class=\"kicker\">hashcycle strategy sweep report</p>");
    let _ = writeln!(body, "<h1>Sweep {}</h1>", esc(&info.sweep_name));
    let _ = writeln!(
        body,
        "<p class=\"lede\">How the strategy of {} fares across {} scenario(s): {} strategy cells per scenario, each run on the \
         same {} paths (common random numbers, so cells differ only by strategy).</p>",
        esc(&info.focus_manufacturer),
        data.scenarios.len(),
        data.cells.len() / data.scenarios.len().max(1),
        format::grouped(info.n_paths as f64, 0)
    );
    let scenarios: Vec<String> = info
        .scenarios
        .iter()
        .map(|(name, file)| format!("{name} ({file})"))
        .collect();
    meta_table(
        &mut body,
        &[
            ("Scenarios", scenarios.join(", ")),
            ("Swept parameters", data.parameters.join(", ")),
            ("Focus manufacturer", info.focus_manufacturer.clone()),
            ("Paths per cell", format::grouped(info.n_paths as f64, 0)),
            ("Seed", info.seed.to_string()),
            ("hashcycle", info.version.clone()),
        ],
    );
    let _ = writeln!(body, "</header>");

    let _ = writeln!(body, "<section>\n<h2>Key figures</h2>");
    let reference_note = data.reference_note();
    let _ = writeln!(
        body,
        "<p class=\"note\">For each scenario: {reference_note}the sweep's safest and riskiest cells, with the lowest and highest \
         probability that cash falls below zero (or the figure every cell shares, when they tie). ± is one standard error. \
         Money in USD.</p>"
    );
    let head = "<thead><tr><th>Scenario</th><th>Cell</th><th>Strategy</th><th>P(cash&nbsp;&lt;&nbsp;0)</th><th>P(distress)</th>\
                <th>Ending cash p5</th><th>Ending cash median</th><th>Lowest cash, median</th><th>Revenue, median</th>\
                <th>Gross margin, median</th><th>Walk-away rate, mean</th><th>Market share, mean</th></tr></thead>";
    let _ = writeln!(body, "<table class=\"figures\">\n{head}\n<tbody>");
    // A row that states a fact about a scenario's cells across the columns of figures.
    let note_row = |body: &mut String, scenario: &str, text: &str| {
        let _ = writeln!(
            body,
            "<tr><td>{}</td><td colspan=\"11\">{}</td></tr>",
            esc(scenario),
            esc(text)
        );
    };
    for scenario in &data.scenarios {
        match data.reference(scenario) {
            Some(cell) => cell_row(&mut body, data, scenario, "Reference", cell),
            None => note_row(&mut body, scenario, "No cell matches the scenario file's own strategy"),
        }
        if let Some(risk) = data.risk_tie(scenario) {
            let text = format!(
                "All {} strategies tie at P(cash < 0) {}: none is safer or riskier than another",
                data.cells_of(scenario).count(),
                format::pct(risk)
            );
            note_row(&mut body, scenario, &text);
            continue;
        }
        for (role, cell) in [("Safest", data.best(scenario)), ("Riskiest", data.worst(scenario))] {
            if let Some(cell) = cell {
                cell_row(&mut body, data, scenario, role, cell);
            }
        }
    }
    let _ = writeln!(body, "</tbody>\n</table>\n</section>");

    robust_section(&mut body, data);
    waterfall_section(&mut body, data);
    assumptions_section(&mut body, data);

    // How well the model matches history: once when every scenario draws the calibrated behaviour alike.
    let fits = &info.history_fits;
    if !fits.is_empty() && fits.iter().all(|f| f.is_some() && f == &fits[0]) {
        crate::batch::report::history_section(&mut body, fits[0].as_ref(), "These scenarios'");
    } else {
        for ((name, _), fit) in info.scenarios.iter().zip(fits) {
            crate::batch::report::history_section(&mut body, fit.as_ref(), &format!("Scenario {name}'s"));
        }
    }

    let glyphs = charts_html(dir, &charts, &mut body)?;

    let _ = writeln!(body, "<section class=\"all-cells\">\n<h2>Every cell</h2>");
    let _ = writeln!(body, "<table class=\"figures compact\">\n{head}\n<tbody>");
    for scenario in &data.scenarios {
        for cell in data.cells_of(scenario) {
            let role = if cell.is_reference { "Reference" } else { "" };
            cell_row(&mut body, data, scenario, role, cell);
        }
    }
    let _ = writeln!(body, "</tbody>\n</table>\n</section>");
    let _ = writeln!(body, "<footer>{}</footer>", esc(&info.source_line()));
    let title = format!("hashcycle sweep report: {}", info.sweep_name);
    write_page(dir, &title, &glyphs, &body)
}

fn cell_row(body: &mut String, data: &SweepData, scenario: &str, role: &str, cell: &Cell) {
    let role = if role.is_empty() {
        format!("{}", cell.cell)
    } else {
        format!("{} ({role})", cell.cell)
    };
    let _ = writeln!(
        body,
        "<tr{}><td>{}</td><td>{}</td><td>{}</td><td>{} ({})</td><td>{} ± {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        if cell.is_reference { " class=\"reference\"" } else { "" },
        esc(scenario),
        esc(&role),
        esc(&data.describe(cell)),
        format::pct(cell.p_cash_below_zero),
        if cell.p_cash_below_zero_lo95.is_finite() {
            format!(
                "95%: {}-{}",
                format::pct(cell.p_cash_below_zero_lo95),
                format::pct(cell.p_cash_below_zero_hi95)
            )
        } else {
            format!("± {}", format::pct(cell.p_cash_below_zero_se))
        },
        format::pct(cell.p_distress),
        format::pct(cell.p_distress_se),
        format::usd(cell.end_cash_usd.p5),
        format::usd(cell.end_cash_usd.p50),
        format::usd(cell.min_cash_usd.p50),
        format::usd(cell.revenue_usd.p50),
        format::usd(cell.gross_margin_usd.p50),
        format::pct(cell.walk_away_rate_mean),
        format::pct(cell.market_share_mean),
    );
}

/// "Robust choices across scenarios": the best worst case and the least regret on P(cash < 0) and on median
/// ending cash, beside the reference.
fn robust_section(body: &mut String, data: &SweepData) {
    if data.scenarios.len() < 2 {
        return;
    }
    let rows = |f: fn(&Cell) -> f64| -> Vec<(String, String, f64, bool)> {
        data.cells
            .iter()
            .map(|c| (c.scenario.clone(), c.strategy.clone(), f(c), c.is_reference))
            .collect()
    };
    let risk = crate::sweep::robust::robust_choices(&rows(|c| c.p_cash_below_zero), true);
    let cash = crate::sweep::robust::robust_choices(&rows(|c| c.end_cash_usd.p50), false);
    if risk.is_none() && cash.is_none() {
        return;
    }
    let _ = writeln!(body, "<section>\n<h2>Robust choices across scenarios</h2>");
    let _ = writeln!(
        body,
        "<p class=\"note\">Best worst case: the strategy whose worst scenario is best. Least regret: the strategy never far from \
         the best strategy of each scenario; its regret is its largest shortfall from that best.</p>"
    );
    let _ = writeln!(
        body,
        "<table class=\"figures\">\n<thead><tr><th>Measure</th><th>Choice</th><th>Strategy</th><th>Worst case</th><th>In</th><th>Largest regret</th></tr></thead>\n<tbody>"
    );
    type Show = fn(f64) -> String;
    let measures: [(&str, Option<Choices>, Show, Show); 2] = [
        ("P(cash < 0)", risk, format::pct, |r| format!("{:.1} points", 100.0 * r)),
        ("Median ending cash", cash, format::usd, format::usd),
    ];
    for (measure, choices, show, show_regret) in measures {
        let Some((maximin, regret, reference)) = choices else {
            continue;
        };
        let mut picks = vec![("Best worst case", maximin), ("Least regret", regret)];
        if let Some(r) = reference {
            picks.push(("Reference", r));
        }
        for (role, s) in picks {
            let _ = writeln!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(measure),
                esc(role),
                esc(&s.strategy),
                show(s.worst),
                esc(&s.worst_scenario),
                show_regret(s.max_regret)
            );
        }
    }
    let _ = writeln!(body, "</tbody>\n</table>\n</section>");
}

/// Each scenario's cash waterfall: why the default alternative's cash differs from the reference's.
fn waterfall_section(body: &mut String, data: &SweepData) {
    let waterfalls = crate::sweep::waterfall::default_waterfalls(data);
    if waterfalls.is_empty() {
        return;
    }
    let _ = writeln!(body, "<section>\n<h2>Why the strategies' cash differs</h2>");
    let _ = writeln!(
        body,
        "<p class=\"note\">In each scenario the reference is set against the safest efficient strategy (no other is both \
         safer and richer). The difference in mean ending cash splits exactly into the differences of the cash flows, \
         path by path over the same paths; ± is two paired standard errors. Medians do not add, so they are shown \
         beside the split. Write-downs and the cost of goods move no cash: they are memo lines.</p>"
    );
    for w in &waterfalls {
        let _ = writeln!(
            body,
            "<h3>Scenario {}: {} against the reference ({})</h3>",
            esc(&w.scenario),
            esc(&w.to_strategy),
            esc(&w.from_strategy)
        );
        let _ = writeln!(
            body,
            "<table class=\"figures\">\n<thead><tr><th>Cash flow</th><th>Reference, mean</th><th>Alternative, mean</th>\
             <th>Difference</th></tr></thead>\n<tbody>"
        );
        let row = |body: &mut String, l: &crate::sweep::waterfall::Line, class: &str| {
            let se = if l.difference_se_usd.is_finite() {
                format!(" ± {}", format::usd(2.0 * l.difference_se_usd))
            } else {
                String::new()
            };
            let _ = writeln!(
                body,
                "<tr{class}><td>{}</td><td>{}</td><td>{}</td><td>{}{se}</td></tr>",
                esc(l.label),
                format::usd(l.from_mean_usd),
                format::usd(l.to_mean_usd),
                crate::sweep::waterfall::signed_usd(l.difference_usd),
            );
        };
        for l in &w.parts {
            row(body, l, "");
        }
        row(body, &w.total, " class=\"total\"");
        for l in &w.memo {
            row(body, l, " class=\"memo\"");
        }
        let _ = writeln!(body, "</tbody>\n</table>");
        let _ = writeln!(
            body,
            "<p>Median ending cash: {} for the alternative, {} for the reference ({} paired paths).</p>",
            format::usd(w.to_end_cash_p50_usd),
            format::usd(w.from_end_cash_p50_usd),
            format::grouped(w.n_paths as f64, 0)
        );
    }
    let _ = writeln!(body, "</section>");
}

/// Each scenario's description and assumptions, generated from its parameters (the first cell's: the swept
/// parameters vary across cells).
fn assumptions_section(body: &mut String, data: &SweepData) {
    let info = &data.info;
    if info.assumptions.iter().all(Vec::is_empty) {
        return;
    }
    let _ = writeln!(body, "<section>\n<h2>Scenarios and their assumptions</h2>");
    for (k, (name, file)) in info.scenarios.iter().enumerate() {
        let _ = writeln!(body, "<h3>Scenario {} ({})</h3>", esc(name), esc(file));
        if let Some(description) = info.descriptions.get(k).filter(|d| !d.is_empty()) {
            let _ = writeln!(body, "<p class=\"lede\">{}</p>", esc(description));
        }
        let _ = writeln!(
            body,
            "<table class=\"figures plain assumptions\">\n<thead><tr><th>Assumption</th><th>In this scenario (swept values: the first cell's)</th></tr></thead>\n<tbody>"
        );
        for a in info.assumptions.get(k).into_iter().flatten() {
            let _ = writeln!(body, "<tr><td>{}</td><td>{}</td></tr>", esc(&a.topic), esc(&a.value));
        }
        let _ = writeln!(body, "</tbody>\n</table>");
    }
    let _ = writeln!(body, "</section>");
}
