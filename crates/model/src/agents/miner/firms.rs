//! Key-account firms: the key accounts as a set of firms with balance sheets, which can fail.
//!
//! The key accounts' machines and futures stay pooled in the fleet's key-account cohorts and the
//! manufacturers' books; each firm owns a share of that fleet (`fleet_share`, by TH/s installed and in
//! transit) and of the pending futures (`book_share`, by contract value), and has its own cash, credit line,
//! term loans, convertible notes and BTC treasury. Each month the segment's cash movements are apportioned
//! to the firms by what caused them: mining, power and everything else the fleet does by fleet share,
//! futures deliveries by book share, purchases by each firm's share of the segment's buying power. Then each
//! firm pays its overheads and debt service, borrows against new machines, raises equity in bull markets
//! and keeps or sells its BTC. A firm whose cash and credit cannot cover what fell due is insolvent; the
//! phase in `crate::market::key_accounts` defaults its futures and sells its fleet.
//!
//! Every firm-level movement of money books the same amount on the segment's books, so the firms' cash
//! always adds up to the segment's.
#![warn(missing_docs)]

use rand::RngExt;
use rand_distr::StandardNormal;

use crate::agents::miner::books::SegmentBooks;
use crate::params::KeyAccountFirmsParams;
use crate::rng::PathRng;
use crate::units::Month;

/// One key-account firm.
#[derive(Clone, Debug, Default)]
pub struct Firm {
    /// Whether the firm still trades; an insolvent firm is wound up and stays out.
    pub alive: bool,
    /// Its share of the key accounts' TH/s installed and in transit ([0, 1]; the living firms' add up to 1).
    pub fleet_share: f64,
    /// Its share of the key accounts' pending futures, by value ([0, 1]; the living firms' add up to 1).
    pub book_share: f64,
    /// Cash in USD; negative while its credit line is drawn.
    pub cash_usd: f64,
    /// The credit line it was granted, in USD.
    pub credit_line_usd: f64,
    /// How far its cash may go below zero now, in USD: the line, but no more than the lenders' loan-to-value
    /// limit leaves above its term loans and notes (set each month by `finance`).
    pub credit_available_usd: f64,
    /// Term loans outstanding, in USD, repaid in equal parts of the balance each month.
    pub term_debt_usd: f64,
    /// Convertible notes outstanding, in USD, repaid whole (or refinanced) at `notes_due`.
    pub notes_usd: f64,
    /// Month the notes fall due.
    pub notes_due: Month,
    /// BTC kept in treasury.
    pub treasury_btc: f64,
    /// Share of its mined BTC it keeps.
    pub btc_hold_share: f64,
    /// Its share of the segment's buying power this month (set by `set_purchase_shares`; the living firms'
    /// add up to 1).
    pub purchase_share: f64,
    /// Its fixed charges last month (overheads, interest and principal due), in USD: what its cash reserve
    /// is counted in.
    pub fixed_charges_usd: f64,
    /// Hosting income kept for its AI business (less the conversions it paid for), in USD: part of its cash,
    /// but not spent on machines.
    pub hosting_reserve_usd: f64,
}

impl Firm {
    /// Term loans and notes, in USD (the credit line drawn is the negative part of cash).
    pub fn debt_usd(&self) -> f64 {
        self.term_debt_usd + self.notes_usd
    }
}

/// The month's movements of the firms' debt, equity, treasury and failures, over all firms.
#[derive(Clone, Debug, Default)]
pub struct FirmFlows {
    /// Overheads paid, in USD.
    pub overheads_usd: f64,
    /// Interest on term loans, notes and credit drawn, in USD.
    pub debt_interest_usd: f64,
    /// Principal repaid on term loans and notes (by living firms and, from what their estates raise, by
    /// failed ones), in USD.
    pub debt_repaid_usd: f64,
    /// New term loans against machines bought, in USD.
    pub debt_raised_usd: f64,
    /// Notes refinanced at maturity, in USD (no cash moves).
    pub notes_refinanced_usd: f64,
    /// Term loans and notes the lenders of failed firms lost, in USD.
    pub debt_written_off_usd: f64,
    /// Credit drawn by failed firms that their lenders lost, in USD.
    pub credit_written_off_usd: f64,
    /// Equity raised in bull months, in USD.
    pub equity_raised_usd: f64,
    /// Sites built for the machines that grew the fleet, in USD.
    pub site_capex_usd: f64,
    /// Mined BTC kept in treasury, valued at the month's price, in USD.
    pub btc_retained_usd: f64,
    /// BTC sold from treasury, in USD.
    pub btc_sold_usd: f64,
    /// Firms that became insolvent this month.
    pub defaults: u32,
    /// Futures units the failed firms defaulted on (their prepayments kept by the manufacturers).
    pub units_defaulted: u64,
    /// Balances the failed firms left unpaid on those units, in USD.
    pub balance_defaulted_usd: f64,
    /// Prepayments the manufacturers kept on those units, in USD.
    pub prepayments_kept_usd: f64,
    /// Machines of failed firms sold at fire-sale prices: to surviving firms, to retail or outside the fleet.
    pub fire_sale_units: u64,
    /// What those machines fetched, in USD.
    pub fire_sale_value_usd: f64,
    /// Of the machines sold at fire-sale prices, those surviving firms bought (consolidation).
    pub units_consolidated: u64,
    /// Of the machines sold at fire-sale prices, those retail took over.
    pub units_fire_sold_retail: u64,
    /// Of the machines sold at fire-sale prices, those sold outside the simulated fleet (installed or on their
    /// way).
    pub units_fire_sold_outside: u64,
    /// What failed firms' shareholders got back after the creditors were paid, in USD.
    pub estate_distributed_usd: f64,
}

/// Tallies over the path: the months' flows added up (`FirmTotals::add`), and the debt at the start.
#[derive(Clone, Debug, Default)]
pub struct FirmTotals {
    /// Debt at the start, in USD.
    pub debt_start_usd: f64,
    /// New term loans, in USD.
    pub debt_raised_usd: f64,
    /// Principal repaid, in USD.
    pub debt_repaid_usd: f64,
    /// Term loans and notes written off, in USD.
    pub debt_written_off_usd: f64,
    /// Firms that failed.
    pub defaults: u32,
    /// Futures units defaulted on.
    pub units_defaulted: u64,
    /// Balances left unpaid on them, in USD.
    pub balance_defaulted_usd: f64,
    /// Prepayments kept on them, in USD.
    pub prepayments_kept_usd: f64,
    /// Machines sold at fire-sale prices.
    pub fire_sale_units: u64,
    /// What they fetched, in USD.
    pub fire_sale_value_usd: f64,
}

impl FirmTotals {
    /// Adds a month's flows.
    fn add(&mut self, f: &FirmFlows) {
        self.debt_raised_usd += f.debt_raised_usd;
        self.debt_repaid_usd += f.debt_repaid_usd;
        self.debt_written_off_usd += f.debt_written_off_usd;
        self.defaults += f.defaults;
        self.units_defaulted += f.units_defaulted;
        self.balance_defaulted_usd += f.balance_defaulted_usd;
        self.prepayments_kept_usd += f.prepayments_kept_usd;
        self.fire_sale_units += f.fire_sale_units;
        self.fire_sale_value_usd += f.fire_sale_value_usd;
    }
}

/// The segment's cash and purchases at points of the month, from which its movements are apportioned.
#[derive(Clone, Copy, Debug, Default)]
pub struct Marks {
    /// Segment cash at the start of the month.
    pub cash_open_usd: f64,
    /// ... when futures deliveries start.
    pub cash_before_deliveries_usd: f64,
    /// ... when they end.
    pub cash_after_deliveries_usd: f64,
    /// ... when buyers start buying.
    pub cash_before_purchases_usd: f64,
    /// ... when they end.
    pub cash_after_purchases_usd: f64,
    /// TH/s the segment was shipped by futures deliveries this month.
    pub ths_delivered: f64,
    /// TH/s it was shipped by spot purchases this month.
    pub ths_bought_spot: f64,
}

/// The key-account firms of a path (empty when the key accounts are one pooled book).
#[derive(Clone, Debug, Default)]
pub struct KeyAccountFirms {
    /// The firms, in the order they were drawn or listed.
    pub firms: Vec<Firm>,
    /// Their names: listed names, or `key_account_1`, `key_account_2`, ... when drawn.
    pub names: Vec<String>,
    /// Segment cash no living firm owns (after the last one failed), in USD.
    pub unowned_cash_usd: f64,
    /// The sizes of every amount apportioned or booked so far, summed, in USD: the firms' cash is a running
    /// sum of them, so its rounding grows with this, not with today's balances.
    pub gross_booked_usd: f64,
    /// The month's flows.
    pub flows: FirmFlows,
    /// The path's tallies.
    pub totals: FirmTotals,
    /// The month's marks.
    pub marks: Marks,
}

/// What the month's apportioning needs of the segment.
#[derive(Clone, Copy, Debug)]
pub struct MonthInputs {
    /// Segment cash now, in USD.
    pub cash_usd: f64,
    /// TH/s the segment has installed and in transit now.
    pub fleet_ths: f64,
    /// Value of the pending futures (balances owed plus prepayments outstanding) now, in USD.
    pub book_usd: f64,
    /// Value of the futures signed this month, in USD.
    pub signed_usd: f64,
}

impl KeyAccountFirms {
    /// Firms for a path: the listed ones, or `n_firms` drawn from `rng` with log-normal sizes and cash
    /// and uniform leverage and treasury policy. `segment_cash_usd` and `segment_credit_line_usd` are split
    /// over drawn firms; `fleet_value_usd` is the segment's fleet at used prices, against which debt is drawn.
    pub fn start(
        params: &KeyAccountFirmsParams,
        segment_cash_usd: f64,
        segment_credit_line_usd: f64,
        fleet_value_usd: f64,
        rng: &mut PathRng,
    ) -> KeyAccountFirms {
        let mut out = KeyAccountFirms::default();
        if !params.firms.is_empty() {
            for spec in &params.firms {
                out.names.push(spec.name.clone());
                out.firms.push(Firm {
                    alive: true,
                    fleet_share: spec.fleet_share,
                    book_share: spec.fleet_share,
                    cash_usd: spec.cash_usd,
                    credit_line_usd: spec.credit_line_usd,
                    credit_available_usd: 0.0,
                    term_debt_usd: spec.term_debt_usd,
                    notes_usd: spec.notes_usd,
                    notes_due: Month(spec.notes_maturity_months),
                    treasury_btc: 0.0,
                    btc_hold_share: spec.btc_hold_share,
                    purchase_share: 0.0,
                    fixed_charges_usd: 0.0,
                    hosting_reserve_usd: 0.0,
                });
            }
        } else {
            let n = params.n_firms as usize;
            let mut sizes = Vec::with_capacity(n);
            let mut cash_weights = Vec::with_capacity(n);
            for _ in 0..n {
                let z: f64 = rng.sample(StandardNormal);
                let size = (params.size_dispersion_log * z).exp();
                let z_cash: f64 = rng.sample(StandardNormal);
                sizes.push(size);
                cash_weights.push(size * (params.cash_dispersion_log * z_cash).exp());
            }
            let size_sum: f64 = sizes.iter().sum();
            let cash_sum: f64 = cash_weights.iter().sum();
            for (i, (&size, &cash_weight)) in sizes.iter().zip(&cash_weights).enumerate() {
                let share = size / size_sum;
                let leverage = params.min_debt_to_fleet_value_share
                    + rng.random::<f64>()
                        * (params.max_debt_to_fleet_value_share - params.min_debt_to_fleet_value_share);
                let debt = leverage * share * fleet_value_usd.max(0.0);
                let maturity = 1 + (rng.random::<f64>() * params.notes_maturity_months as f64) as u32;
                let hold = params.min_btc_hold_share
                    + rng.random::<f64>() * (params.max_btc_hold_share - params.min_btc_hold_share);
                out.names.push(format!("key_account_{}", i + 1));
                out.firms.push(Firm {
                    alive: true,
                    fleet_share: share,
                    book_share: share,
                    cash_usd: segment_cash_usd * cash_weight / cash_sum,
                    credit_line_usd: segment_credit_line_usd * share,
                    credit_available_usd: 0.0,
                    term_debt_usd: debt * (1.0 - params.notes_share_of_debt),
                    notes_usd: debt * params.notes_share_of_debt,
                    notes_due: Month(maturity.min(params.notes_maturity_months)),
                    treasury_btc: 0.0,
                    btc_hold_share: hold,
                    purchase_share: 0.0,
                    fixed_charges_usd: 0.0,
                    hosting_reserve_usd: 0.0,
                });
            }
        }
        out.totals.debt_start_usd = out.firms.iter().map(Firm::debt_usd).sum();
        out.gross_booked_usd = out.firms.iter().map(|f| f.cash_usd.abs()).sum();
        for f in &mut out.firms {
            f.credit_available_usd = credit_available_usd(params, f, f.fleet_share * fleet_value_usd.max(0.0));
        }
        out
    }

    /// Adds the month's gross movements to `gross_booked_usd`.
    pub fn note_gross(&mut self, gross_usd: f64) {
        self.gross_booked_usd += gross_usd.abs();
    }

    /// Whether the key accounts are firms at all.
    pub fn enabled(&self) -> bool {
        !self.firms.is_empty()
    }

    /// The firms still trading.
    pub fn living(&self) -> impl Iterator<Item = &Firm> {
        self.firms.iter().filter(|f| f.alive)
    }

    /// Cash of every firm, living or wound up, plus cash no firm owns, in USD: the segment's cash.
    pub fn cash_usd(&self) -> f64 {
        self.firms.iter().map(|f| f.cash_usd).sum::<f64>() + self.unowned_cash_usd
    }

    /// Term loans and notes outstanding, in USD.
    pub fn debt_usd(&self) -> f64 {
        self.firms.iter().map(Firm::debt_usd).sum()
    }

    /// BTC in the firms' treasuries.
    pub fn treasury_btc(&self) -> f64 {
        self.firms.iter().map(|f| f.treasury_btc).sum()
    }

    /// Adds the month's flows to the path's tallies; the firms' month calls it once, at its end.
    pub fn roll_up_month(&mut self) {
        self.totals.add(&self.flows);
    }

    /// Starts the month: clears the flows and marks the segment's opening cash.
    pub fn open_month(&mut self, segment_cash_usd: f64) {
        self.flows = FirmFlows::default();
        self.marks = Marks {
            cash_open_usd: segment_cash_usd,
            ..Marks::default()
        };
    }

    /// Funds a firm can still commit to machines: cash and the credit it can draw, less its share of the
    /// balances owed and the reserve it keeps against `cash_reserve_months` of its fixed charges. Its BTC
    /// treasury is a reserve, not a budget: it counts as collateral for credit and is sold when cash runs
    /// out.
    pub fn available_usd(f: &Firm, committed_balance_usd: f64, cash_reserve_months: f64) -> f64 {
        if !f.alive {
            return 0.0;
        }
        (f.cash_usd + f.credit_available_usd
            - f.book_share * committed_balance_usd
            - cash_reserve_months * f.fixed_charges_usd
            - f.hosting_reserve_usd.min(f.cash_usd.max(0.0)))
        .max(0.0)
    }

    /// Sets each living firm's share of the segment's buying power (its available funds) and returns the
    /// segment's available funds and what it can pay today (cash and the credit it can draw, less its
    /// reserve), summed over firms.
    pub fn set_purchase_shares(&mut self, committed_balance_usd: f64, cash_reserve_months: f64) -> (f64, f64) {
        let mut available = 0.0;
        let mut liquidity = 0.0;
        for f in &mut self.firms {
            f.purchase_share = Self::available_usd(f, committed_balance_usd, cash_reserve_months);
            available += f.purchase_share;
            if f.alive {
                liquidity += (f.cash_usd + f.credit_available_usd - cash_reserve_months * f.fixed_charges_usd).max(0.0);
            }
        }
        // With no buying power anywhere nothing is bought; the shares still add up to 1, by fleet.
        for f in &mut self.firms {
            f.purchase_share = if !f.alive {
                0.0
            } else if available > 0.0 {
                f.purchase_share / available
            } else {
                f.fleet_share
            };
        }
        (available, liquidity)
    }

    /// Apportions the segment's month of cash movements to the firms (mining and the rest of the fleet's
    /// movements by fleet share, deliveries by book share, purchases by buying power), then moves the
    /// shares: the TH/s bought go to their buyers, the futures signed to their signers.
    pub fn apportion_month(&mut self, inputs: MonthInputs) {
        let m = self.marks;
        let by_fleet = (m.cash_before_deliveries_usd - m.cash_open_usd)
            + (m.cash_before_purchases_usd - m.cash_after_deliveries_usd)
            + (inputs.cash_usd - m.cash_after_purchases_usd);
        let by_book = m.cash_after_deliveries_usd - m.cash_before_deliveries_usd;
        let by_purchase = m.cash_after_purchases_usd - m.cash_before_purchases_usd;
        let any_alive = self.firms.iter().any(|f| f.alive);
        if !any_alive {
            self.unowned_cash_usd += by_fleet + by_book + by_purchase;
            return;
        }
        // Shares: what everyone held moves together (retirements, bans, sales); what was bought is the buyer's.
        let bought = m.ths_delivered + m.ths_bought_spot;
        let held_before = (inputs.fleet_ths - bought).max(0.0);
        let signed_before = (inputs.book_usd - inputs.signed_usd).max(0.0);
        let (mut fleet_sum, mut book_sum) = (0.0, 0.0);
        for f in self.firms.iter_mut().filter(|f| f.alive) {
            // The cash by the shares the month started with, then the shares moved.
            f.cash_usd += f.fleet_share * by_fleet + f.book_share * by_book + f.purchase_share * by_purchase;
            f.fleet_share =
                f.fleet_share * held_before + f.book_share * m.ths_delivered + f.purchase_share * m.ths_bought_spot;
            f.book_share = f.book_share * signed_before + f.purchase_share * inputs.signed_usd;
            fleet_sum += f.fleet_share;
            book_sum += f.book_share;
        }
        self.normalise(fleet_sum, book_sum);
    }

    /// Scales the living firms' shares (given as amounts summing to `fleet_sum` and `book_sum`) to shares;
    /// with nothing to share, by the number of firms.
    fn normalise(&mut self, fleet_sum: f64, book_sum: f64) {
        // The living firms are counted only when there is nothing to share of either.
        let even_share = if fleet_sum > 0.0 && book_sum > 0.0 {
            0.0
        } else {
            1.0 / self.firms.iter().filter(|f| f.alive).count() as f64
        };
        for f in self.firms.iter_mut().filter(|f| f.alive) {
            f.fleet_share = if fleet_sum > 0.0 {
                f.fleet_share / fleet_sum
            } else {
                even_share
            };
            f.book_share = if book_sum > 0.0 {
                f.book_share / book_sum
            } else {
                even_share
            };
        }
    }

    /// Surviving firms bid `consolidation_spend_share` of their available funds for failed firm `i`'s
    /// fleet, worth `lot_value_usd` at fire-sale prices: they take the share of it their bids pay for (at
    /// most all), paying in proportion to their bids, and their fleet shares grow by what each bought.
    /// Returns (share of the lot taken, paid). The machines do not move, so the segment's cash does not.
    pub fn consolidate(
        &mut self,
        i: usize,
        lot_value_usd: f64,
        committed_balance_usd: f64,
        consolidation_spend_share: f64,
        cash_reserve_months: f64,
        books: &mut SegmentBooks,
    ) -> (f64, f64) {
        let lot_share = self.firms[i].fleet_share;
        let bid = |j: usize, f: &Firm| {
            if j == i || !f.alive {
                0.0
            } else {
                consolidation_spend_share * Self::available_usd(f, committed_balance_usd, cash_reserve_months)
            }
        };
        let bid_sum: f64 = self.firms.iter().enumerate().map(|(j, f)| bid(j, f)).sum();
        let taken_share = if lot_value_usd > 0.0 {
            (bid_sum / lot_value_usd).min(1.0)
        } else if bid_sum > 0.0 {
            1.0
        } else {
            0.0
        };
        if bid_sum <= 0.0 || taken_share <= 0.0 {
            return (0.0, 0.0);
        }
        let paid = taken_share * lot_value_usd;
        for j in 0..self.firms.len() {
            let part = bid(j, &self.firms[j]) / bid_sum;
            if part > 0.0 {
                let f = &mut self.firms[j];
                f.cash_usd -= paid * part;
                // Its holding grows by its part of the lot (shares of the whole fleet, renormalised when the
                // failed firm leaves).
                f.fleet_share += taken_share * lot_share * part;
            }
        }
        self.firms[i].cash_usd += paid;
        books.transfer_within(paid);
        (taken_share, paid)
    }

    /// A failed firm defaulted on `units` futures machines, leaving `balance_usd` unpaid; the manufacturers
    /// kept `kept_usd` of prepayments.
    pub fn note_default(&mut self, units: u64, balance_usd: f64, kept_usd: f64) {
        self.flows.units_defaulted += units;
        self.flows.balance_defaulted_usd += balance_usd;
        self.flows.prepayments_kept_usd += kept_usd;
    }

    /// A failed firm's machines were sold at fire-sale prices for `value_usd`: `consolidated` to surviving
    /// firms, `to_retail` to retail and `outside` outside the fleet.
    pub fn note_fire_sale(&mut self, consolidated: u64, to_retail: u64, outside: u64, value_usd: f64) {
        let units = consolidated + to_retail + outside;
        self.flows.fire_sale_units += units;
        self.flows.fire_sale_value_usd += value_usd;
        self.flows.units_consolidated += consolidated;
        self.flows.units_fire_sold_retail += to_retail;
        self.flows.units_fire_sold_outside += outside;
    }

    /// Firm `i`, wound up, leaves: its shares go to zero and the living firms' are renormalised.
    pub fn close(&mut self, i: usize) {
        let f = &mut self.firms[i];
        f.alive = false;
        f.fleet_share = 0.0;
        f.book_share = 0.0;
        f.purchase_share = 0.0;
        self.renormalise();
        self.flows.defaults += 1;
    }

    /// Firm `i`'s tenants pay `revenue_usd` for its sites hosting AI, which cost `operating_cost_usd` to run;
    /// booked on the segment too.
    pub fn receive_hosting_income(
        &mut self,
        i: usize,
        revenue_usd: f64,
        operating_cost_usd: f64,
        fenced_usd: f64,
        books: &mut SegmentBooks,
    ) {
        let f = &mut self.firms[i];
        f.cash_usd += revenue_usd - operating_cost_usd;
        f.hosting_reserve_usd += fenced_usd.max(0.0);
        books.receive_hosting_income(revenue_usd, operating_cost_usd, fenced_usd);
    }

    /// Firm `i` pays `usd` to convert mining sites to AI hosting, out of its AI reserve first; booked on the
    /// segment too.
    pub fn pay_conversion_capex(&mut self, i: usize, usd: f64, books: &mut SegmentBooks) {
        let f = &mut self.firms[i];
        f.cash_usd -= usd;
        f.hosting_reserve_usd = (f.hosting_reserve_usd - usd).max(0.0);
        books.pay_conversion_capex(usd);
    }

    /// Firm `i` is paid for machines its conversion displaced and sold (the segment's books have recorded the
    /// sale).
    pub fn receive_displaced_sale_proceeds(&mut self, i: usize, usd: f64) {
        self.firms[i].cash_usd += usd;
    }

    /// Machines worth `displaced_ths` left the key accounts' sites converted to AI hosting, out of
    /// `fleet_ths_before` installed and in transit: each living firm's holding shrinks by its part of them
    /// (`parts`, summing to 1 over the converting firms) and the shares are renormalised.
    pub fn shrink_fleet_shares(&mut self, parts: &[f64], fleet_ths_before: f64, displaced_ths: f64) {
        if displaced_ths <= 0.0 || fleet_ths_before <= 0.0 || !self.firms.iter().any(|f| f.alive) {
            return;
        }
        let (mut fleet_sum, mut book_sum) = (0.0, 0.0);
        for (f, &part) in self.firms.iter_mut().zip(parts) {
            if f.alive {
                f.fleet_share = (f.fleet_share * fleet_ths_before - part * displaced_ths).max(0.0);
                fleet_sum += f.fleet_share;
                book_sum += f.book_share;
            }
        }
        self.normalise(fleet_sum, book_sum);
    }

    /// Failed firm `i` is paid for machines sold to retail or outside the fleet (the segment's books have
    /// recorded the sale).
    pub fn receive_fire_sale_proceeds(&mut self, i: usize, usd: f64) {
        self.firms[i].cash_usd += usd;
    }

    /// Failed firm `i`'s estate: its BTC is sold at `price_usd`, its lenders are paid what its cash covers and
    /// write off the rest (credit drawn included), and anything left goes to its shareholders. Returns
    /// (debt repaid, term loans and notes written off).
    pub fn settle_estate(&mut self, i: usize, price_usd: f64, books: &mut SegmentBooks) -> (f64, f64) {
        let flows = &mut self.flows;
        let f = &mut self.firms[i];
        if f.treasury_btc > 0.0 {
            let sold = f.treasury_btc * price_usd.max(0.0);
            f.treasury_btc = 0.0;
            f.cash_usd += sold;
            books.sell_btc(sold);
            flows.btc_sold_usd += sold;
        }
        let debt = f.debt_usd();
        let repaid = f.cash_usd.clamp(0.0, debt);
        f.cash_usd -= repaid;
        books.pay_debt_service(0.0, repaid);
        let written_off = debt - repaid;
        f.term_debt_usd = 0.0;
        f.notes_usd = 0.0;
        if f.cash_usd < 0.0 {
            let drawn = -f.cash_usd;
            books.write_off_credit(drawn);
            f.cash_usd = 0.0;
            flows.credit_written_off_usd += drawn;
        } else if f.cash_usd > 0.0 {
            let left = std::mem::take(&mut f.cash_usd);
            books.distribute_estate(left);
            flows.estate_distributed_usd += left;
        }
        flows.debt_repaid_usd += repaid;
        flows.debt_written_off_usd += written_off;
        (repaid, written_off)
    }

    /// Renormalises the living firms' shares after a firm left.
    pub fn renormalise(&mut self) {
        let fleet_sum = self.living().map(|f| f.fleet_share).sum();
        let book_sum = self.living().map(|f| f.book_share).sum();
        if self.firms.iter().any(|f| f.alive) {
            self.normalise(fleet_sum, book_sum);
        }
    }
}

/// What a firm's month of finance needs of the market.
#[derive(Clone, Copy, Debug)]
pub struct FinanceInputs {
    /// The month being simulated.
    pub month: Month,
    /// BTC price, in USD.
    pub price_usd: f64,
    /// Whether the month is a bull month.
    pub bull: bool,
    /// The segment's mining revenue this month, in USD.
    pub segment_revenue_usd: f64,
    /// The segment's TH/s installed and in transit.
    pub fleet_ths: f64,
    /// The segment's fleet at used prices, in USD.
    pub fleet_value_usd: f64,
    /// Cash the segment paid for machines this month (spot, futures balances and duties, less refunds), by
    /// buying power and by book share: (paid in purchases, paid in deliveries).
    pub paid_usd: (f64, f64),
    /// Interest on credit drawn, per month.
    pub credit_interest_rate_per_month: f64,
    /// What the segment's new sites cost this month (for the power its machines bought added beyond what it
    /// retired), in USD; shared by the firms that bought.
    pub site_capex_usd: f64,
}

impl KeyAccountFirms {
    /// Each living firm's own month: it keeps its share of mined BTC, pays overheads, interest and principal,
    /// refinances or repays notes that fall due, borrows against the machines it bought, raises equity in
    /// bull months, pays interest on credit drawn and sells BTC to cover a cash shortfall. Returns whether
    /// any firm's cash and credit no longer cover what it owes today (the caller winds those up).
    pub fn finance(&mut self, params: &KeyAccountFirmsParams, inputs: FinanceInputs, books: &mut SegmentBooks) -> bool {
        let flows = &mut self.flows;
        let marks = self.marks;
        let bought_ths = marks.ths_delivered + marks.ths_bought_spot;
        let mut any_insolvent = false;
        for f in self.firms.iter_mut().filter(|f| f.alive) {
            // Treasury: the firm keeps its share of the BTC it mined.
            let kept = f.btc_hold_share * f.fleet_share * inputs.segment_revenue_usd;
            if kept > 0.0 && inputs.price_usd > 0.0 {
                f.cash_usd -= kept;
                f.treasury_btc += kept / inputs.price_usd;
                books.retain_btc(kept);
                flows.btc_retained_usd += kept;
            }
            let overheads = params.overhead_usd_per_ths_month * f.fleet_share * inputs.fleet_ths;
            f.cash_usd -= overheads;
            books.pay_overheads(overheads);
            flows.overheads_usd += overheads;
            let interest = params.debt_interest_rate_per_month * f.debt_usd();
            let principal = f.term_debt_usd / params.term_loan_months.max(1) as f64;
            f.fixed_charges_usd = overheads + interest + principal;
            f.term_debt_usd -= principal;
            f.cash_usd -= interest + principal;
            books.pay_debt_service(interest, principal);
            flows.debt_interest_usd += interest;
            flows.debt_repaid_usd += principal;
            let fleet_value = f.fleet_share * inputs.fleet_value_usd;
            let collateral = fleet_value + f.treasury_btc * inputs.price_usd;
            if f.notes_usd > 0.0 && inputs.month >= f.notes_due {
                if f.debt_usd() <= params.max_loan_to_value_share * collateral {
                    f.notes_due = Month(inputs.month.0 + params.notes_maturity_months);
                    flows.notes_refinanced_usd += f.notes_usd;
                } else {
                    let notes = std::mem::take(&mut f.notes_usd);
                    f.cash_usd -= notes;
                    books.pay_debt_service(0.0, notes);
                    flows.debt_repaid_usd += notes;
                }
            }
            // New machines beyond those retired need new sites, which the buyers build.
            let capex = if bought_ths > 0.0 && inputs.site_capex_usd > 0.0 {
                inputs.site_capex_usd * (f.book_share * marks.ths_delivered + f.purchase_share * marks.ths_bought_spot)
                    / bought_ths
            } else {
                0.0
            };
            if capex > 0.0 {
                f.cash_usd -= capex;
                books.pay_site_capex(capex);
                flows.site_capex_usd += capex;
            }
            // Machines and sites bought are partly financed by lenders, within their loan-to-value limit.
            let paid = f.purchase_share * inputs.paid_usd.0 + f.book_share * inputs.paid_usd.1 + capex;
            let headroom = (params.max_loan_to_value_share * collateral - f.debt_usd()).max(0.0);
            let loan = (params.equipment_loan_share * paid.max(0.0)).min(headroom);
            if loan > 0.0 {
                f.term_debt_usd += loan;
                f.cash_usd += loan;
                books.borrow(loan);
                flows.debt_raised_usd += loan;
            }
            if inputs.bull && params.bull_equity_raise_share_per_month > 0.0 {
                let raised = params.bull_equity_raise_share_per_month * fleet_value;
                f.cash_usd += raised;
                books.raise_equity(raised);
                flows.equity_raised_usd += raised;
            }
            if f.cash_usd < 0.0 {
                let revolver_interest = inputs.credit_interest_rate_per_month * -f.cash_usd;
                f.cash_usd -= revolver_interest;
                books.pay_debt_service(revolver_interest, 0.0);
                flows.debt_interest_usd += revolver_interest;
            }
            // Credit drawn is repaid from the treasury first.
            if f.cash_usd < 0.0 && f.treasury_btc > 0.0 && inputs.price_usd > 0.0 {
                let treasury_usd = f.treasury_btc * inputs.price_usd;
                let sold_usd = if treasury_usd <= -f.cash_usd {
                    // All of it: none left, exactly.
                    f.treasury_btc = 0.0;
                    treasury_usd
                } else {
                    let sold_usd = -f.cash_usd;
                    f.treasury_btc = (f.treasury_btc - sold_usd / inputs.price_usd).max(0.0);
                    sold_usd
                };
                f.cash_usd += sold_usd;
                books.sell_btc(sold_usd);
                flows.btc_sold_usd += sold_usd;
            }
            f.credit_available_usd = credit_available_usd(params, f, fleet_value + f.treasury_btc * inputs.price_usd);
            any_insolvent |= Self::insolvent(f);
        }
        any_insolvent
    }

    /// Whether a living firm's cash has gone beyond the credit its lenders still extend.
    pub fn insolvent(f: &Firm) -> bool {
        f.alive && f.cash_usd < -f.credit_available_usd
    }

    /// The credit the living firms can still draw, summed, in USD (the segment's credit line).
    pub fn credit_available_usd(&self) -> f64 {
        self.living().map(|f| f.credit_available_usd).sum()
    }
}

/// The credit a firm can draw: its line, but no more than the lenders' loan-to-value limit on its
/// `collateral_usd` (fleet at used prices and BTC) leaves above its term loans and notes. When machine
/// prices fall, the line shrinks with them: the margin call that turned 2022's fall into bankruptcies.
fn credit_available_usd(params: &KeyAccountFirmsParams, f: &Firm, collateral_usd: f64) -> f64 {
    f.credit_line_usd
        .min((params.max_loan_to_value_share * collateral_usd - f.debt_usd()).max(0.0))
}
