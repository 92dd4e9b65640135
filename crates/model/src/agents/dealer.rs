//! Channel dealers, aggregated into one population: stock by generation, cash, and installment contracts.
//!
//! In bull regimes dealers stockpile and resell with a mark-up; in bear regimes they dump below the
//! manufacturers' price and sign low-down-payment installment contracts for manufacturers' excess stock.
//! While their stock is large it sets the used price and takes spot demand from the manufacturers.

use rand::RngExt;

use crate::agents::manufacturer::Manufacturer;
use crate::agents::manufacturer::Stock;
use crate::agents::miner::books::SegmentBooks;
use crate::math::{floor_units, units_f64};
use crate::params::DealerParams;
use crate::rng::PathRng;

/// An installment contract: the dealer took `units` and owes the balance in monthly payments.
#[derive(Clone, Debug)]
pub struct Installment {
    pub installment_id: u64,
    pub manufacturer_idx: usize,
    pub generation_idx: usize,
    pub units: u64,
    pub balance_usd: f64,
    pub payment_usd: f64,
    pub months_left: u32,
}

#[derive(Clone, Debug, Default)]
pub struct DealerFlows {
    pub units_bought_spot: u64,
    pub units_bought_installment: u64,
    pub units_sold: u64,
    pub units_returned: u64,
    pub units_scrapped: u64,
    pub purchases_usd: f64,
    pub down_payments_usd: f64,
    pub installments_paid_usd: f64,
    pub sales_usd: f64,
    pub scrap_proceeds_usd: f64,
    pub interest_usd: f64,
    pub cogs_usd: f64,
    pub writedowns_usd: f64,
    pub n_defaults: u64,
    pub defaulted_balance_usd: f64,
    /// Units buyers asked dealers for this month (demand signal for stocking).
    pub units_demanded: u64,
}

impl DealerFlows {
    pub fn net_cash_usd(&self) -> f64 {
        self.sales_usd + self.scrap_proceeds_usd
            - self.purchases_usd
            - self.down_payments_usd
            - self.installments_paid_usd
            - self.interest_usd
    }

    /// The sum of the sizes of the month's cash flows, which bounds the rounding in `net_cash_usd`.
    pub fn gross_usd(&self) -> f64 {
        self.sales_usd.abs()
            + self.scrap_proceeds_usd.abs()
            + self.purchases_usd.abs()
            + self.down_payments_usd.abs()
            + self.installments_paid_usd.abs()
            + self.interest_usd.abs()
    }
}

#[derive(Clone, Debug, Default)]
pub struct DealerTotals {
    pub units_in: u64,
    pub units_sold: u64,
    pub units_returned: u64,
    pub units_scrapped: u64,
}

#[derive(Clone, Debug)]
pub struct Dealer {
    /// Written only here, by the postings below, so every change is matched by a recorded flow.
    cash_usd: f64,
    pub credit_line_usd: f64,
    pub stock: Vec<Stock>,
    pub installments: Vec<Installment>,
    /// Smoothed units per month buyers asked dealers for.
    pub demand_units_smoothed: f64,
    /// This month's selling price per generation (0 when not offered).
    pub price_usd: Vec<f64>,
    /// Discount of the dealer price below the manufacturers' price (negative for a mark-up).
    pub dump_discount_share: f64,
    /// The month's flows, written only here, with the balances they explain.
    flows: DealerFlows,
    totals: DealerTotals,
    next_installment_id: u64,
}

impl Dealer {
    pub fn new(cash_usd: f64, credit_line_usd: f64, n_generations: usize) -> Dealer {
        Dealer {
            cash_usd,
            credit_line_usd,
            stock: vec![Stock::default(); n_generations],
            installments: Vec::with_capacity(32),
            demand_units_smoothed: 0.0,
            price_usd: vec![0.0; n_generations],
            dump_discount_share: 0.0,
            flows: DealerFlows::default(),
            totals: DealerTotals::default(),
            next_installment_id: 0,
        }
    }

    pub fn cash_usd(&self) -> f64 {
        self.cash_usd
    }

    pub fn flows(&self) -> &DealerFlows {
        &self.flows
    }

    pub fn totals(&self) -> &DealerTotals {
        &self.totals
    }

    /// Clears the month's flows.
    pub fn open_month(&mut self) {
        self.flows = DealerFlows::default();
    }

    fn next_installment_id(&mut self) -> u64 {
        self.next_installment_id += 1;
        self.next_installment_id
    }

    pub fn stock_units(&self) -> u64 {
        self.stock.iter().map(|s| s.units).sum()
    }

    pub fn stock_value_usd(&self) -> f64 {
        self.stock.iter().map(|s| s.book_value_usd).sum()
    }

    pub fn installments_outstanding_usd(&self) -> f64 {
        self.installments.iter().map(|i| i.balance_usd).sum()
    }

    /// Cash plus unused credit.
    pub fn liquidity_usd(&self) -> f64 {
        (self.cash_usd + self.credit_line_usd).max(0.0)
    }

    /// Pays this month's installment on every contract, or defaults on it: a contract under water defaults
    /// with the month's probability (one draw from `rng` per contract, whatever happens), and any contract
    /// defaults when the dealer cannot pay. On a default the machines still held go back to the
    /// manufacturer at the used price (`on_default` is told the contract and the units returned).
    pub fn settle_installments(
        &mut self,
        manufacturers: &mut [Manufacturer],
        secondary_price_usd: &[f64],
        default_probability_per_month: f64,
        rng: &mut PathRng,
        mut on_default: impl FnMut(&Installment, u64),
    ) {
        let mut i = 0;
        while i < self.installments.len() {
            let inst = &self.installments[i];
            let g = inst.generation_idx;
            let m_idx = inst.manufacturer_idx;
            let held_units = inst.units.min(self.stock[g].units);
            let value_held = units_f64(held_units) * secondary_price_usd[g];
            let underwater = inst.balance_usd > value_held;
            let u: f64 = rng.random();
            let payment = inst.payment_usd.min(inst.balance_usd);
            let defaults = (underwater && u < default_probability_per_month) || self.liquidity_usd() < payment;
            if defaults {
                let inst = self.installments.swap_remove(i);
                let recovered_value = units_f64(held_units) * secondary_price_usd[g];
                self.default_on_installment(&mut manufacturers[m_idx], &inst, held_units, recovered_value);
                on_default(&inst, held_units);
                continue;
            }
            let m = &mut manufacturers[m_idx];
            self.pay_installment(m, payment);
            let inst = &mut self.installments[i];
            inst.balance_usd -= payment;
            inst.months_left = inst.months_left.saturating_sub(1);
            if inst.balance_usd <= 1e-6 || inst.months_left == 0 {
                // Rounding residue of the last payment is forgiven.
                let residue = inst.balance_usd.max(0.0);
                m.write_off_bad_debt(residue);
                self.installments.swap_remove(i);
            } else {
                i += 1;
            }
        }
    }

    /// Bull regimes: stockpiles towards `bull_stock_months` of smoothed demand, buying at most
    /// `allocation_units` of generation `g` from `seller` at the wholesale price, as far as its liquidity
    /// goes. Returns the units bought.
    pub fn stockpile(
        &mut self,
        seller: &mut Manufacturer,
        g: usize,
        wholesale_usd: f64,
        allocation_units: u64,
        params: &DealerParams,
    ) -> u64 {
        let target = params.bull_stock_months * self.demand_units_smoothed;
        let need = floor_units(target - self.stock_units() as f64);
        let affordable = floor_units(self.liquidity_usd() / wholesale_usd);
        let n = need.min(allocation_units).min(affordable);
        if n > 0 {
            self.buy_spot(seller, g, n, units_f64(n) * wholesale_usd);
        }
        n
    }

    /// Bear regimes: takes its share of `excess_units` of a manufacturer's stock of generation `g` on an
    /// installment contract, as far as its liquidity covers the down payments. Returns the units taken and
    /// their value at the wholesale price (no units: nothing signed).
    pub fn take_excess_on_installment(
        &mut self,
        seller: &mut Manufacturer,
        manufacturer_idx: usize,
        g: usize,
        excess_units: f64,
        terms: InstallmentTerms,
        params: &DealerParams,
    ) -> (u64, f64) {
        let mut n = floor_units(params.bear_installment_take_share * excess_units);
        let down_per_unit = terms.wholesale_usd * terms.down_payment_share;
        if down_per_unit > 0.0 {
            n = n.min(floor_units(self.liquidity_usd() / down_per_unit));
        }
        if n == 0 {
            return (0, 0.0);
        }
        let value = self.buy_on_installment(seller, manufacturer_idx, g, n, terms);
        (n, value)
    }

    /// Scraps stock worth only scrap (except the newest generation released) and carries the rest at no
    /// more than it would fetch.
    pub fn scrap_and_write_down(
        &mut self,
        secondary_price_usd: &[f64],
        replacement_price_usd: &[f64],
        scrap_usd_per_unit: f64,
        newest_generation_idx: usize,
    ) {
        let scrap = scrap_usd_per_unit;
        for g in 0..self.stock.len() {
            let stock = &mut self.stock[g];
            if stock.units == 0 {
                continue;
            }
            if secondary_price_usd[g] <= scrap * (1.0 + 1e-9) && g != newest_generation_idx {
                let n = stock.units;
                let proceeds = units_f64(n) * scrap;
                let book = stock.take(n);
                self.flows.writedowns_usd += (book - proceeds).max(0.0);
                self.cash_usd += proceeds;
                self.flows.scrap_proceeds_usd += proceeds;
                self.flows.units_scrapped += n;
                continue;
            }
            let value = units_f64(stock.units) * replacement_price_usd[g].max(scrap);
            if stock.book_value_usd > value {
                self.flows.writedowns_usd += stock.book_value_usd - value;
                stock.book_value_usd = value;
            }
        }
    }

    /// Notes what buyers asked dealers for this month and folds it into the smoothed demand.
    pub fn note_demand(&mut self, demand_units: f64, smoothing_share: f64) {
        self.flows.units_demanded = crate::math::to_units(demand_units);
        self.demand_units_smoothed =
            (1.0 - smoothing_share) * self.demand_units_smoothed + smoothing_share * demand_units;
    }

    /// Interest on credit drawn.
    pub fn pay_interest(&mut self, rate_per_month: f64) {
        let interest = (-self.cash_usd).max(0.0) * rate_per_month;
        self.cash_usd -= interest;
        self.flows.interest_usd += interest;
    }

    // Two-sided postings: each moves both parties' balances and records both sides' flows.

    /// Buys `n` machines of generation `g` from a manufacturer for `value_usd`, paid now.
    pub fn buy_spot(&mut self, seller: &mut Manufacturer, g: usize, n: u64, value_usd: f64) {
        seller.sell_to_dealer_spot(g, n, value_usd);
        self.cash_usd -= value_usd;
        self.flows.purchases_usd += value_usd;
        self.flows.units_bought_spot += n;
        self.stock[g].put(n, value_usd);
        self.totals.units_in += n;
    }

    /// Takes `n` machines of generation `g` from a manufacturer at the wholesale price of `terms`, paying the
    /// down payment now and the rest in equal monthly installments. Returns the machines' value.
    pub fn buy_on_installment(
        &mut self,
        seller: &mut Manufacturer,
        manufacturer_idx: usize,
        g: usize,
        n: u64,
        terms: InstallmentTerms,
    ) -> f64 {
        let value_usd = units_f64(n) * terms.wholesale_usd;
        let down_usd = units_f64(n) * (terms.wholesale_usd * terms.down_payment_share);
        seller.sell_to_dealer_on_installment(g, n, value_usd, down_usd);
        self.cash_usd -= down_usd;
        self.flows.down_payments_usd += down_usd;
        self.flows.units_bought_installment += n;
        self.stock[g].put(n, value_usd);
        self.totals.units_in += n;
        let installment_id = self.next_installment_id();
        let months = terms.n_months.max(1);
        self.installments.push(Installment {
            installment_id,
            manufacturer_idx,
            generation_idx: g,
            units: n,
            balance_usd: value_usd - down_usd,
            payment_usd: (value_usd - down_usd) / months as f64,
            months_left: months,
        });
        value_usd
    }

    /// Pays one installment to the manufacturer that holds the contract.
    pub fn pay_installment(&mut self, to: &mut Manufacturer, payment_usd: f64) {
        self.cash_usd -= payment_usd;
        self.flows.installments_paid_usd += payment_usd;
        to.receive_installment(payment_usd);
    }

    /// Defaults on an installment contract (already taken out of the book): the `held_units` machines still
    /// held go back to the manufacturer at `recovered_value_usd`, which writes off the rest of the balance.
    pub fn default_on_installment(
        &mut self,
        to: &mut Manufacturer,
        inst: &Installment,
        held_units: u64,
        recovered_value_usd: f64,
    ) {
        let g = inst.generation_idx;
        self.stock[g].take(held_units);
        to.take_back_from_dealer(g, held_units, recovered_value_usd, inst.balance_usd);
        self.flows.units_returned += held_units;
        self.flows.n_defaults += 1;
        self.flows.defaulted_balance_usd += inst.balance_usd;
    }

    /// Sells `n` machines of generation `g` to a segment for `value_usd`; the buyer also pays `duty_usd` at
    /// the border.
    pub fn sell_spot(&mut self, buyer: &mut SegmentBooks, g: usize, n: u64, value_usd: f64, duty_usd: f64) {
        let cogs = self.stock[g].take(n);
        self.cash_usd += value_usd;
        self.flows.sales_usd += value_usd;
        self.flows.cogs_usd += cogs;
        self.flows.units_sold += n;
        self.totals.units_sold += n;
        buyer.pay_spot(value_usd, duty_usd);
    }
}

/// The terms of an installment contract a manufacturer offers dealers.
#[derive(Clone, Copy, Debug)]
pub struct InstallmentTerms {
    /// The price per machine, the manufacturer's spot price less the dealers' discount.
    pub wholesale_usd: f64,
    pub down_payment_share: f64,
    pub n_months: u32,
}
