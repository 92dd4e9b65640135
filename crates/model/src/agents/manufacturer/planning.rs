//! A manufacturer's sales-and-operations plan: a rolling demand forecast revised every few months, foundry
//! capacity booked ahead on take-or-pay terms, and the wafer order that follows the forecast.
//!
//! The forecast starts from what the manufacturer has been selling (smoothed) and moves it by how much more
//! or less buyers can be expected to spend on its machine, at its price, on the hashprice it expects when
//! the machines arrive, than they can now, net of what the channel already holds. The wafer order
//! brings stock plus pipeline, net of the futures backlog, to what that forecast needs; it never looks at how
//! many futures were signed this month, and `futures_share` only splits the plan between futures and spot.
#![warn(missing_docs)]

use crate::agents::manufacturer::Manufacturer;
use crate::agents::manufacturer::futures::{ContractTerms, FuturesContract};
use crate::agents::manufacturer::production::WaferLot;
use crate::agents::miner::books::SegmentBooks;
use crate::math::{apportion, units_f64};
use crate::params::{ManufacturerParams, RoadmapEntry, Segment};
use crate::units::Month;

/// The manufacturer's view of its demand: its market share and the hashprice trend, smoothed, and the
/// forecast they give, revised every `forecast_revision_months`.
#[derive(Clone, Debug)]
pub struct Forecast {
    /// Its smoothed share of the machines all manufacturers sold (starts at its share of foundry allotments).
    pub share: f64,
    /// Its smoothed demand, in machines per month: its sales and what buyers wanted of it but found sold out
    /// (starts at the run rate of the wafers in flight).
    pub sales_units_per_month: f64,
    /// Its smoothed sales, in machines per month: spot, to dealers and futures signed (starts at the run rate).
    pub sold_units_per_month: f64,
    /// The smoothed share of futures machines fallen due whose buyers walked away (starts at 0).
    pub walk_away_share: f64,
    /// The smoothed share of that demand served from stock (spot, to dealers, and what buyers found sold
    /// out) rather than signed as futures (starts at 1 − `futures_share`).
    pub spot_share: f64,
    /// Smoothed monthly change of the log of revenue per TH/s per day.
    pub trend_log_per_month: f64,
    /// Revenue per TH/s per day last month, in USD (0 before the first month).
    pub last_revenue_usd_per_th_day: f64,
    /// Forecast sales in the month the wafers ordered now arrive, in machines per month.
    pub units_per_month: f64,
    /// Forecast sales in the month the capacity booked now will be ordered for, in machines per month.
    pub booking_units_per_month: f64,
    /// Months since the last revision; a revision is due when it reaches `forecast_revision_months`.
    pub months_since_revision: u32,
    /// Whether the forecast has been made at least once.
    pub revised_once: bool,
}

impl Forecast {
    /// A forecast before the first month: `share` of the market and a run rate of `units_per_month`.
    pub fn new(share: f64, units_per_month: f64, spot_share: f64) -> Forecast {
        Forecast {
            share,
            spot_share,
            walk_away_share: 0.0,
            sold_units_per_month: units_per_month,
            sales_units_per_month: units_per_month,
            trend_log_per_month: 0.0,
            last_revenue_usd_per_th_day: 0.0,
            units_per_month,
            booking_units_per_month: units_per_month,
            months_since_revision: 0,
            revised_once: false,
        }
    }

    /// Notes this month's revenue per TH/s per day in the smoothed trend.
    pub fn observe_revenue(&mut self, revenue_usd_per_th_day: f64, smoothing_months: f64) {
        self.observe_revenue_sharing(revenue_usd_per_th_day, smoothing_months, &mut None);
    }

    /// [`Forecast::observe_revenue`], with `shared` the month's change in log revenue from a last revenue as
    /// (last revenue, revenue, change), worked out by a forecast before: every manufacturer sees the same
    /// revenue, so one logarithm serves them all. Set here when this forecast's revenues are not those.
    pub fn observe_revenue_sharing(
        &mut self,
        revenue_usd_per_th_day: f64,
        smoothing_months: f64,
        shared: &mut Option<(f64, f64, f64)>,
    ) {
        let last = self.last_revenue_usd_per_th_day;
        if last > 0.0 && revenue_usd_per_th_day > 0.0 {
            let change = match *shared {
                Some((shared_last, shared_revenue, change))
                    if shared_last == last && shared_revenue == revenue_usd_per_th_day =>
                {
                    change
                }
                _ => {
                    let change = (revenue_usd_per_th_day / last).ln();
                    *shared = Some((last, revenue_usd_per_th_day, change));
                    change
                }
            };
            self.trend_log_per_month += (change - self.trend_log_per_month) / smoothing_months.max(1.0);
        }
        if revenue_usd_per_th_day > 0.0 {
            self.last_revenue_usd_per_th_day = revenue_usd_per_th_day;
        }
    }

    /// Notes this month's futures machines fallen due: `walked` walked away from, `delivered` delivered.
    pub fn observe_deliveries(&mut self, walked: u64, delivered: u64, smoothing_months: f64) {
        let resolved = walked + delivered;
        if resolved > 0 {
            let share = units_f64(walked) / units_f64(resolved);
            self.walk_away_share += (share - self.walk_away_share) / smoothing_months.max(1.0);
        }
    }

    /// Revenue per TH/s per day the manufacturer expects `months_ahead` from now: today's, moved by the share
    /// of the trend it extrapolates.
    pub fn expected_revenue_usd_per_th_day(
        &self,
        revenue_usd_per_th_day: f64,
        months_ahead: f64,
        trend_weight: f64,
    ) -> f64 {
        revenue_usd_per_th_day
            * (trend_weight * self.trend_log_per_month * months_ahead)
                .clamp(-5.0, 5.0)
                .exp()
    }

    /// Notes this month's sales in the smoothed market share: `own_units` of `all_units` sold by every
    /// manufacturer. A month in which nobody sold leaves the share alone.
    pub fn observe_sales(&mut self, own_units: u64, all_units: u64, smoothing_months: f64) {
        if all_units == 0 {
            return;
        }
        let share = units_f64(own_units) / units_f64(all_units);
        self.share += (share - self.share) / smoothing_months.max(1.0);
    }

    /// Notes this month's demand (what buyers asked for) and sales, `spot_units` of them from stock, in the
    /// smoothed demand, sales and spot share.
    pub fn observe_own_sales(&mut self, demand_units: u64, sold_units: u64, spot_units: u64, smoothing_months: f64) {
        let smoothing = smoothing_months.max(1.0);
        self.sales_units_per_month += (units_f64(demand_units) - self.sales_units_per_month) / smoothing;
        self.sold_units_per_month += (units_f64(sold_units) - self.sold_units_per_month) / smoothing;
        if demand_units > 0 {
            self.spot_share += (units_f64(spot_units) / units_f64(demand_units) - self.spot_share) / smoothing;
        }
    }

    /// How far smoothed demand runs ahead of smoothed sales, as a share of sales (0 when it does not; at most
    /// 2): what a sold-out manufacturer prices on.
    pub fn excess_demand_share(&self) -> f64 {
        if self.sold_units_per_month <= 0.0 {
            return 0.0;
        }
        (self.sales_units_per_month / self.sold_units_per_month - 1.0).clamp(0.0, 2.0)
    }

    /// Whether a revision is due this month (always in the first month).
    pub fn revision_due(&self, revision_months: u32) -> bool {
        !self.revised_once || self.months_since_revision >= revision_months.max(1)
    }

    /// Sets the revised forecasts and restarts the count to the next revision.
    pub fn revise(&mut self, units_per_month: f64, booking_units_per_month: f64) {
        self.units_per_month = units_per_month.max(0.0);
        self.booking_units_per_month = booking_units_per_month.max(0.0);
        self.months_since_revision = 0;
        self.revised_once = true;
    }

    /// Counts a month towards the next revision.
    pub fn age(&mut self) {
        self.months_since_revision += 1;
    }
}

/// What the plan for a month's wafer order needs from the market.
#[derive(Clone, Copy, Debug)]
pub struct PlanInputs {
    /// Index of the generation the wafers are for: the roadmap entry current in the month they arrive.
    pub generation_idx: usize,
    /// Unit cost of that generation, in USD.
    pub unit_cost_usd: f64,
    /// What a machine of that generation fetches now, in USD: taking take-or-pay wafers pays when it covers
    /// the assembly and the part of the wafers the penalty would not save.
    pub market_value_usd: f64,
}

impl Manufacturer {
    /// Sets the starting plan consistent with the wafers in flight: a market share of `share`, a forecast
    /// of `initial_wafer_units_per_month` and the capacity for the first `foundry_booking_months` orders booked
    /// on it.
    pub(crate) fn start_plan(&mut self, params: &ManufacturerParams, share: f64) {
        let run_rate = params.initial_wafer_units_per_month as f64;
        self.forecast = Forecast::new(share, run_rate, 1.0 - params.strategy.futures_share);
        let booked = ((params.strategy.foundry_booking_share * run_rate).ceil() as u64)
            .min(params.foundry_allotment_units_per_month)
            .min(params.capacity_units_per_month);
        self.bookings.fill(booked);
    }

    /// The futures book at the start, consistent with the wafers in flight: as if the futures share of
    /// `initial_wafer_units_per_month` had been signed in each month before the start, for the generation of
    /// the wafers arriving when each contract starts delivering, at `unit_price_usd` of its roadmap entry, so
    /// the contracts still delivering are those signed in the last lead plus delivery months. Each buyer
    /// segment holds a part in proportion to `segment_weights`, its machines bound for the regions in
    /// proportion to `region_weights` (the first region when they are all 0); their prepayments were paid
    /// before the start, into the manufacturer's cash (on top of its `cash_usd`), and their balances are owed.
    pub(crate) fn open_initial_book(
        &mut self,
        params: &ManufacturerParams,
        unit_price_usd: impl Fn(&RoadmapEntry) -> f64,
        segment_weights: &[f64; 2],
        segments: &mut [SegmentBooks; 2],
        region_weights: &[Vec<f64>; 2],
    ) {
        let strategy = &params.strategy;
        let monthly = (strategy.futures_share * params.initial_wafer_units_per_month as f64).floor() as u64;
        if monthly == 0 {
            return;
        }
        let lead = i64::from(strategy.wafer_lead_months);
        let n_batches = i64::from(strategy.delivery_months.max(1));
        let mut parts = [0u64; 2];
        let n_regions = region_weights[0].len().max(1);
        let mut region_parts = vec![0u64; n_regions];
        // Signed `age` months before the start: batches fell due from `lead - age` months after the start.
        for age in (1..lead + n_batches).rev() {
            let first_due = lead - age;
            let batches_left = (n_batches + first_due.min(0)).min(n_batches);
            let units = monthly * batches_left as u64 / n_batches as u64;
            // The machines are those of the wafers arriving when the contract starts delivering.
            let entry = &params.roadmap[Self::current_roadmap_idx(params, first_due.max(0))];
            let price = unit_price_usd(entry);
            if units == 0 || price.is_nan() || price <= 0.0 {
                continue;
            }
            let prepaid_per_unit = price * strategy.prepay_share;
            apportion(units, segment_weights, &mut parts);
            for buyer in Segment::ALL {
                let n = parts[buyer.idx()];
                if n == 0 {
                    continue;
                }
                let terms = ContractTerms {
                    buyer,
                    generation_idx: entry.generation_idx,
                    signed: Month(0),
                    first_delivery: Month(first_due.max(0) as u32),
                    n_batches: batches_left as u32,
                    unit_price_usd: price,
                    prepaid_per_unit_usd: prepaid_per_unit,
                };
                let contract_id = self.next_contract_id();
                let mut contract = FuturesContract::open(contract_id, terms, Vec::with_capacity(n_regions));
                let weights = &region_weights[buyer.idx()];
                if weights.iter().any(|&w| w > 0.0) {
                    apportion(n, weights, &mut region_parts);
                } else {
                    region_parts.fill(0);
                    region_parts[0] = n;
                }
                for (region_idx, &k) in region_parts.iter().enumerate().filter(|&(_, &k)| k > 0) {
                    contract.add_part(region_idx, k, 0.0);
                }
                contract.set_batches();
                self.futures.push(contract);
                self.totals.contracts_signed += 1;
                let prepayment = units_f64(n) * prepaid_per_unit;
                let balance = units_f64(n) * price - prepayment;
                segments[buyer.idx()].hold_prepayment_from_before_the_start(prepayment, balance);
                // The advance was paid in before the start and is held in cash, so strategies with different
                // prepayment shares start from the same position net of what they owe in machines.
                self.cash_usd += prepayment;
                self.totals.units_contracted += n;
                self.totals.prepayments_received_usd += prepayment;
            }
        }
    }

    /// The forecast the plan follows.
    pub fn forecast(&self) -> &Forecast {
        &self.forecast
    }

    /// Notes the month's revenue per TH/s per day in the forecast's hashprice trend; `shared` is the change
    /// in log revenue another manufacturer worked out (see [`Forecast::observe_revenue_sharing`]).
    pub fn observe_revenue(
        &mut self,
        params: &ManufacturerParams,
        revenue_usd_per_th_day: f64,
        shared: &mut Option<(f64, f64, f64)>,
    ) {
        self.forecast.observe_revenue_sharing(
            revenue_usd_per_th_day,
            params.strategy.forecast_smoothing_months,
            shared,
        );
    }

    /// Revises the forecast when a revision is due, with `expected` giving the market's demand for its
    /// machine in machines per month at a number of months ahead; returns whether it revised. The forecast
    /// for the month its wafers ordered now arrive, and for the month the capacity booked now will be ordered
    /// for, is its smoothed demand moved by how that demand then compares with the demand now (within
    /// `forecast_max_outlook_ratio` times either way, and unchanged when there is no demand either way), less its
    /// share of `channel_units_per_month`, what dealers hold to sell.
    pub fn revise_forecast(
        &mut self,
        params: &ManufacturerParams,
        channel_units_per_month: f64,
        expected: impl Fn(f64) -> f64,
    ) -> bool {
        let strategy = &params.strategy;
        if !self.forecast.revision_due(strategy.forecast_revision_months) {
            return false;
        }
        let lead = f64::from(strategy.wafer_lead_months);
        let now = expected(0.0);
        let max_ratio = strategy.forecast_max_outlook_ratio;
        let outlook = |months_ahead: f64| {
            let then = expected(months_ahead);
            if now > 0.0 {
                (then / now).clamp(1.0 / max_ratio, max_ratio)
            } else if then > 0.0 {
                max_ratio
            } else {
                1.0
            }
        };
        let booking_ahead = lead + f64::from(strategy.foundry_booking_months);
        let sales = self.forecast.sales_units_per_month;
        let (at_lead, at_booking) = if sales >= 1.0 {
            (sales * outlook(lead), sales * outlook(booking_ahead))
        } else {
            // Nothing sold or asked for yet (a manufacturer starting without a pipeline): its market share
            // of what buyers will spend.
            let share = self.forecast.share;
            (share * expected(lead), share * expected(booking_ahead))
        };
        // What dealers already hold of the market, its share of it, will be sold before its machines.
        let channel = self.forecast.share * channel_units_per_month;
        self.forecast.revise(at_lead - channel, at_booking - channel);
        true
    }

    /// Closes the month's plan: the month's sales (`all_units` by every manufacturer) go into the smoothed
    /// share, and the month counts towards the next revision.
    pub fn close_plan_month(&mut self, params: &ManufacturerParams, all_units: u64) {
        let own = self.units_sold_this_month();
        let smoothing = params.strategy.forecast_smoothing_months;
        self.forecast.observe_sales(own, all_units, smoothing);
        // Demand is what was sold and what buyers wanted of it but found sold out; what they found sold out
        // they would have taken from stock.
        let unmet = self.flows.units_unmet_demand;
        let demand = own + unmet;
        let from_stock = self.flows.units_sold_spot + self.units_sold_dealers_outright() + unmet;
        self.forecast.observe_own_sales(demand, own, from_stock, smoothing);
        let (walked, delivered) = (self.flows.units_walked_away, self.flows.units_delivered);
        self.forecast.observe_deliveries(walked, delivered, smoothing);
        self.forecast.age();
    }

    /// Notes machines buyers wanted of it in one buying pass but found sold out (nothing else bought them).
    pub(crate) fn note_unmet_demand(&mut self, units: u64) {
        self.flows.units_unmet_demand += units;
    }

    /// Machines sold this month that buyers chose to buy: spot to miners, to dealers outright, and signed
    /// for on futures. Stock pushed onto dealers on installment in bear markets is not demand.
    pub fn units_sold_this_month(&self) -> u64 {
        self.flows.units_sold_spot + self.units_sold_dealers_outright() + self.flows.units_sold_futures
    }

    /// Machines sold to dealers this month for cash (not on installment).
    fn units_sold_dealers_outright(&self) -> u64 {
        self.flows.units_sold_dealers - self.flows.units_sold_dealers_on_installment
    }

    /// Foundry capacity booked for the wafer order of `month`, in machines.
    pub fn booked_units(&self, month: Month) -> u64 {
        self.bookings[month.idx() % self.bookings.len()]
    }

    /// Books foundry capacity for the wafer order of `month`: `foundry_booking_share` of the booking forecast
    /// (or of `wanted_now_units`, what the plan wants this month, if more), up to what the foundries can book
    /// now (`allotment_units`). Nothing is booked while distressed.
    pub fn book_capacity(
        &mut self,
        params: &ManufacturerParams,
        month: Month,
        allotment_units: u64,
        wanted_now_units: f64,
    ) {
        let strategy = &params.strategy;
        // Booked on the forecast for the month booked for, or on what the plan wants now if that is more (a
        // stock-out or a growing backlog).
        let wanted = if self.distressed {
            0.0
        } else {
            strategy.foundry_booking_share * self.forecast.booking_units_per_month.max(wanted_now_units)
        };
        // Booking beyond what it can assemble would only buy penalties.
        let booked = (wanted.ceil().max(0.0) as u64)
            .min(allotment_units)
            .min(params.capacity_units_per_month);
        let slot = month.idx() % self.bookings.len();
        self.bookings[slot] = booked;
        self.flows.units_capacity_booked += booked;
    }

    /// The machines the plan wants ordered in `month` for the month the wafers arrive, `wafer_lead_months`
    /// later: the forecast, plus the gap between what stock must cover until the lot has arrived and served
    /// its month and what stock and the lots in flight will bring, closed over `plan_adjustment_months`. What
    /// stock must cover is the futures batches due by the month after the arrival month (stock is held back
    /// a month ahead; all but the last month's batches were signed already) less the share whose buyers
    /// have recently walked away, the share of the forecast recently sold from stock for the lead, and the
    /// target stock. Not bounded by bookings or capacity.
    pub fn wanted_units(&self, params: &ManufacturerParams, month: Month) -> f64 {
        let strategy = &params.strategy;
        let forecast = self.forecast.units_per_month;
        let lead = f64::from(strategy.wafer_lead_months);
        // Stock is held back for the batches due in the month after too (`refresh_reserved`), so the target
        // stock is free on top of them.
        let reserved_through = Month(month.0 + strategy.wafer_lead_months + 1);
        let futures_due: u64 = self
            .futures
            .iter()
            .map(|c| c.units_due_through(reserved_through) - (c.units_delivered + c.units_walked + c.units_refunded))
            .sum();
        // What buyers take from stock: the share of sales recently made spot (all of them when futures do
        // not sell).
        let spot_due = self.forecast.spot_share * forecast * lead;
        // Buyers who have been walking away will go on doing so: their batches need no machines.
        let deliveries_due = units_f64(futures_due) * (1.0 - self.forecast.walk_away_share);
        let required = strategy.target_inventory_months * forecast + deliveries_due + spot_due;
        let supply = units_f64(self.inventory_units() + self.wip_total_units());
        // In a steady state what is required exceeds what is coming by one month of the forecast.
        forecast + (required - supply - forecast) / strategy.plan_adjustment_months.max(1.0)
    }

    /// Plans the output of this month's wafer order (the futures offered against it are `futures_share` of
    /// it), before the month's sales: `wanted_units` (see [`Manufacturer::wanted_units`]) within capacity and
    /// the capacity booked for it.
    pub fn plan(&mut self, params: &ManufacturerParams, month: Month, wanted_units: f64) {
        self.futures_signed_units = 0;
        if self.distressed {
            self.planned_units = 0;
            self.futures_offer_units = 0;
            self.origins.set_futures_offer(0, 0, &[]);
            return;
        }
        let cap = self.booked_units(month).min(params.capacity_units_per_month);
        let planned = wanted_units.clamp(0.0, cap as f64);
        self.planned_units = planned.floor() as u64;
        self.futures_offer_units = (params.strategy.futures_share * planned).floor() as u64;
        if !params.production_lines.is_empty() {
            // The futures on offer come from the origins the plan's output will be assembled in when its
            // wafers arrive.
            let arrival = i64::from(month.0 + params.strategy.wafer_lead_months);
            let mut budgets = std::mem::take(&mut self.assembly_budgets);
            Self::assembly_split(params, arrival, self.planned_units, &mut budgets);
            let mut expected = std::mem::take(&mut self.planned_slot_units);
            expected.clear();
            expected.resize(self.origins.n_slots(), 0);
            for (line, &units) in budgets.iter().enumerate() {
                let slot = line.checked_sub(1).map_or(0, |i| self.origins.line_slot(i));
                expected[slot] += units;
            }
            self.origins
                .set_futures_offer(self.futures_offer_units, self.planned_units, &expected);
            self.assembly_budgets = budgets;
            self.planned_slot_units = expected;
        }
    }

    /// Orders wafers for the month `wafer_lead_months` ahead, after the month's sales: what the plan wants
    /// now, within the capacity booked and assembly capacity. Take-or-pay capacity left unordered is either
    /// ordered anyway, when the machines are worth more than the wafers the penalty would not save plus
    /// their assembly, or cancelled for the penalty. Pays the foundry prepayment now; the lot joins the end of
    /// the book.
    pub fn order_wafers(&mut self, params: &ManufacturerParams, month: Month, inputs: PlanInputs) {
        let strategy = &params.strategy;
        let booked = self.booked_units(month);
        let wafer_cost_per_unit = inputs.unit_cost_usd * params.wafer_cost_share;
        let mut units = if self.distressed {
            0
        } else {
            let cap = booked.min(params.capacity_units_per_month);
            (self.wanted_units(params, month).clamp(0.0, cap as f64)).floor() as u64
        };
        let must_take = ((strategy.take_or_pay_share * units_f64(booked)).floor() as u64).min(booked);
        if units < must_take {
            let assembly_per_unit = inputs.unit_cost_usd - wafer_cost_per_unit;
            let saved_by_cancelling = (1.0 - strategy.cancellation_penalty_share) * wafer_cost_per_unit;
            let worth_taking = inputs.market_value_usd > saved_by_cancelling + assembly_per_unit;
            if worth_taking && !self.distressed {
                units = must_take.min(params.capacity_units_per_month).max(units);
            }
            let cancelled = must_take.saturating_sub(units);
            if cancelled > 0 {
                let penalty = units_f64(cancelled) * wafer_cost_per_unit * strategy.cancellation_penalty_share;
                self.pay_cancellation_penalty(cancelled, penalty);
            }
        }
        self.planned_units = units;
        if units == 0 {
            return;
        }
        let wafer_cost = units_f64(units) * inputs.unit_cost_usd * params.wafer_cost_share;
        let prepaid = wafer_cost * strategy.wafer_prepay_share;
        self.pay_wafer_prepayment(units, prepaid);
        self.wafer_lots.push(WaferLot {
            ordered: month,
            arrival: Month(month.0 + strategy.wafer_lead_months),
            generation_idx: inputs.generation_idx,
            units,
            unit_cost_usd: inputs.unit_cost_usd,
            prepaid_usd: prepaid,
            balance_due_usd: wafer_cost - prepaid,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_share_and_the_trend_are_smoothed_over_the_months_set() {
        let mut f = Forecast::new(0.5, 1000.0, 0.2);
        f.observe_sales(100, 100, 4.0);
        assert!((f.share - 0.625).abs() < 1e-12);
        f.observe_sales(0, 0, 4.0);
        assert!((f.share - 0.625).abs() < 1e-12, "a month with no sales changes nothing");
        f.observe_revenue(0.05, 2.0);
        assert_eq!(f.trend_log_per_month, 0.0, "no trend from the first month");
        f.observe_revenue(0.1, 2.0);
        assert!((f.trend_log_per_month - 2f64.ln() / 2.0).abs() < 1e-12);
        let ahead = f.expected_revenue_usd_per_th_day(0.1, 4.0, 0.5);
        assert!((ahead - 0.1 * 2f64.sqrt() * 2f64.sqrt()).abs() < 1e-12);
        assert_eq!(f.expected_revenue_usd_per_th_day(0.1, 4.0, 0.0), 0.1);
    }

    #[test]
    fn revisions_fall_due_every_revision_months() {
        let mut f = Forecast::new(0.5, 1000.0, 0.2);
        assert!(f.revision_due(3));
        f.revise(900.0, 950.0);
        let mut due = vec![];
        for _ in 0..7 {
            f.age();
            due.push(f.revision_due(3));
            if f.revision_due(3) {
                f.revise(900.0, 950.0);
            }
        }
        assert_eq!(due, [false, false, true, false, false, true, false]);
    }
}
