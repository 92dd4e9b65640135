//! Channel dealers, aggregated into one population: stock by generation, cash, and installment contracts.
//!
//! In bull regimes dealers stockpile and resell with a mark-up; in bear regimes they dump below the
//! manufacturers' price and sign low-down-payment installment contracts for manufacturers' excess stock.
//! While their stock is large it sets the used price and takes spot demand from the manufacturers.
//!
//! The dealers' own steps (installments, stocking, scrapping, interest) and the two-sided postings of their
//! trade with manufacturers and miners are here: the dealers' cash and stock change nowhere else.
#![warn(missing_docs)]

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
    /// Number of the contract, unique within a path and counted from 1; the event log names contracts by it.
    pub installment_id: u64,
    /// Index of the manufacturer that holds the contract.
    pub manufacturer_idx: usize,
    /// Index of the generation of the machines taken.
    pub generation_idx: usize,
    /// Machines taken on the contract; it does not fall as the dealers resell them.
    pub units: u64,
    /// What the dealers still owe on the contract, in USD.
    pub balance_usd: f64,
    /// The equal monthly payment agreed at signing, in USD; the last one is capped at the balance left.
    pub payment_usd: f64,
    /// Monthly payments still to make.
    pub months_left: u32,
}

/// The dealers' movements of machines and money in one month. The cash fields are those `net_cash_usd` adds up;
/// `cogs_usd`, `writedowns_usd` and `defaulted_balance_usd` are book entries that move no cash.
#[derive(Clone, Debug, Default)]
pub struct DealerFlows {
    /// Machines bought spot from manufacturers.
    pub units_bought_spot: u64,
    /// Machines taken from manufacturers on installment contracts.
    pub units_bought_installment: u64,
    /// Machines sold to miners.
    pub units_sold: u64,
    /// Machines given back to manufacturers on defaulted installment contracts.
    pub units_returned: u64,
    /// Machines scrapped because they would fetch no more than scrap.
    pub units_scrapped: u64,
    /// Paid for spot purchases from manufacturers, in USD.
    pub purchases_usd: f64,
    /// Down payments paid on installment contracts signed this month, in USD.
    pub down_payments_usd: f64,
    /// Installments paid to manufacturers, in USD.
    pub installments_paid_usd: f64,
    /// Received from miners for machines sold, in USD.
    pub sales_usd: f64,
    /// Received for machines scrapped, in USD.
    pub scrap_proceeds_usd: f64,
    /// Interest paid on credit drawn (cash below zero), in USD.
    pub interest_usd: f64,
    /// Book value of the machines sold, in USD.
    pub cogs_usd: f64,
    /// Book value written off stock that would fetch less than it is carried at, in USD.
    pub writedowns_usd: f64,
    /// Number of installment contracts defaulted.
    pub n_defaults: u64,
    /// Balances left on the contracts defaulted, in USD: the manufacturer recovers the machines held and writes off
    /// the rest.
    pub defaulted_balance_usd: f64,
    /// Units buyers asked dealers for this month (demand signal for stocking).
    pub units_demanded: u64,
}

impl DealerFlows {
    /// The month's net cash flow in USD, which the money check compares with the change in cash.
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

/// The dealers' machine counts since the start of the path, for the conservation check.
#[derive(Clone, Debug, Default)]
pub struct DealerTotals {
    /// Machines bought from manufacturers, spot or on installment.
    pub units_in: u64,
    /// Machines sold to miners.
    pub units_sold: u64,
    /// Meant as machines returned on defaults since the start; nothing writes it at present (it stays 0): the
    /// check takes this total from `Ledger`, which sums the monthly flows.
    pub units_returned: u64,
    /// Meant as machines scrapped since the start; nothing writes it at present (it stays 0): the check takes this
    /// total from `Ledger`, which sums the monthly flows.
    pub units_scrapped: u64,
}

/// The channel dealers, one aggregated population: cash, stock by generation and installment contracts.
#[derive(Clone, Debug)]
pub struct Dealer {
    /// Written only here, by the postings below, so every change is matched by a recorded flow.
    cash_usd: f64,
    credit_line_usd: f64,
    stock: Vec<Stock>,
    installments: Vec<Installment>,
    /// Smoothed units per month buyers asked dealers for.
    demand_units_smoothed: f64,
    /// This month's selling price per generation (0 when not offered).
    price_usd: Vec<f64>,
    /// Discount of the dealer price below the manufacturers' price (negative for a mark-up).
    dump_discount_share: f64,
    /// Machines per generation the dealers release for sale this month: in bull regimes they stockpile,
    /// releasing a `bull_stock_months` share of the stock they held when the month's prices were set; in bear
    /// regimes all of it.
    release_units: Vec<u64>,
    /// The month's flows, written only here, with the balances they explain.
    flows: DealerFlows,
    totals: DealerTotals,
    next_installment_id: u64,
}

impl Dealer {
    /// Dealers with `cash_usd` at the start, a credit line of `credit_line_usd` and no stock, for `n_generations`
    /// generations.
    pub fn new(cash_usd: f64, credit_line_usd: f64, n_generations: usize) -> Dealer {
        Dealer {
            cash_usd,
            credit_line_usd,
            stock: vec![Stock::default(); n_generations],
            installments: Vec::with_capacity(32),
            demand_units_smoothed: 0.0,
            price_usd: vec![0.0; n_generations],
            dump_discount_share: 0.0,
            release_units: vec![0; n_generations],
            flows: DealerFlows::default(),
            totals: DealerTotals::default(),
            next_installment_id: 0,
        }
    }

    /// Cash at hand in USD; negative while the credit line is drawn.
    pub fn cash_usd(&self) -> f64 {
        self.cash_usd
    }

    /// The month's flows so far.
    pub fn flows(&self) -> &DealerFlows {
        &self.flows
    }

    /// Machine counts since the start of the path.
    pub fn totals(&self) -> &DealerTotals {
        &self.totals
    }

    /// Clears the month's flows.
    pub fn open_month(&mut self) {
        self.flows = DealerFlows::default();
    }

    /// Stock per generation.
    pub fn stock(&self) -> &[Stock] {
        &self.stock
    }

    /// The installment contracts still being paid.
    pub fn installments(&self) -> &[Installment] {
        &self.installments
    }

    /// Smoothed units per month buyers asked dealers for.
    pub fn demand_units_smoothed(&self) -> f64 {
        self.demand_units_smoothed
    }

    /// This month's selling price per generation (0 when not offered).
    pub fn prices_usd(&self) -> &[f64] {
        &self.price_usd
    }

    /// Discount of the dealer price below the manufacturers' price (negative for a mark-up).
    pub fn dump_discount_share(&self) -> f64 {
        self.dump_discount_share
    }

    /// Dealers mark up over the manufacturers' price in bull regimes and dump below it in bear regimes, and set
    /// what they release for sale this month.
    pub fn set_discount(&mut self, bull: bool, params: &DealerParams) {
        self.dump_discount_share = if bull {
            -params.bull_markup_share
        } else {
            params.bear_dump_discount_share
        };
        // Stockpiling towards `bull_stock_months` of demand, dealers sell one month's worth of what they hold;
        // machines bought this month wait for a later one. In bear regimes they dump it all.
        let months_held = params.bull_stock_months.max(1.0);
        for (release, stock) in self.release_units.iter_mut().zip(&self.stock) {
            *release = if bull {
                (units_f64(stock.units) / months_held).ceil() as u64
            } else {
                u64::MAX
            };
        }
    }

    /// Machines of generation `g` the dealers offer buyers now: their stock, within what they release this
    /// month.
    pub fn units_for_sale(&self, g: usize) -> u64 {
        self.stock[g].units.min(self.release_units[g])
    }

    /// Prices generation `g` off `reference_usd` (the manufacturers' price, or the used price), no lower
    /// than scrap. Returns the price.
    pub fn set_price(&mut self, g: usize, reference_usd: f64, scrap_usd_per_unit: f64) -> f64 {
        let price = (reference_usd * (1.0 - self.dump_discount_share)).max(scrap_usd_per_unit);
        self.price_usd[g] = price;
        price
    }

    fn next_installment_id(&mut self) -> u64 {
        self.next_installment_id += 1;
        self.next_installment_id
    }

    /// Machines in stock, all generations together.
    pub fn stock_units(&self) -> u64 {
        self.stock.iter().map(|s| s.units).sum()
    }

    /// Book value of the stock in USD, all generations together.
    pub fn stock_value_usd(&self) -> f64 {
        self.stock.iter().map(|s| s.book_value_usd).sum()
    }

    /// Balances still owed to manufacturers on installment contracts, in USD.
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
        let free_before = seller.free_stock_units(g);
        if n > 0 {
            self.buy_spot(seller, g, n, units_f64(n) * wholesale_usd);
        }
        // The seller's share of the channel's gap, spread over the months the channel stocks for, is demand
        // it sees, as far as its free stock could not have covered it.
        let wanted = units_f64(need.min(affordable)) * seller.forecast().share / params.bull_stock_months.max(1.0);
        seller.note_unmet_demand(floor_units(wanted).saturating_sub(free_before));
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
        self.release_units[g] = self.release_units[g].saturating_sub(n);
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
    /// Share of the wholesale price paid at signing ([0, 1]); the rest is paid in `n_months` equal installments.
    pub down_payment_share: f64,
    /// Number of monthly installments, at least 1.
    pub n_months: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::manufacturer::books::tests::{assert_manufacturer_cash_matches_flows, manufacturer_with_stock};
    use crate::agents::miner::books::tests::assert_cash_matches_flows;

    fn dealer() -> Dealer {
        Dealer::new(1e6, 0.0, crate::fixtures::small().generations.len())
    }

    /// The money check of `crate::invariants`: the cash change equals the recorded flows.
    fn assert_dealer_cash_matches_flows(d: &Dealer, cash_open_usd: f64) {
        let change = d.cash_usd() - cash_open_usd;
        let net = d.flows().net_cash_usd();
        assert!(
            (change - net).abs() < 1e-9,
            "dealer cash change {change} != flows {net}"
        );
    }

    const TERMS: InstallmentTerms = InstallmentTerms {
        wholesale_usd: 2_500.0,
        down_payment_share: 0.2,
        n_months: 4,
    };

    #[test]
    fn buying_spot_moves_the_price_to_the_manufacturer_and_the_machines_to_the_dealer() {
        let (mut d, mut m) = (dealer(), manufacturer_with_stock());
        let m_open = m.cash_usd();
        d.buy_spot(&mut m, 0, 10, 25_000.0);
        assert_eq!(d.cash_usd(), 1e6 - 25_000.0);
        assert_eq!(m.cash_usd() - m_open, 25_000.0);
        assert_eq!(
            (d.stock[0].units, d.stock[0].book_value_usd, m.stock[0].units),
            (10, 25_000.0, 90)
        );
        assert_eq!(
            (
                d.flows().purchases_usd,
                d.flows().units_bought_spot,
                d.totals().units_in
            ),
            (25_000.0, 10, 10)
        );
        let f = m.flows();
        assert_eq!(
            (f.spot_sales_cash_usd, f.revenue_usd, f.cogs_usd),
            (25_000.0, 25_000.0, 20_000.0)
        );
        assert_eq!(f.units_sold_dealers, 10);
        assert_dealer_cash_matches_flows(&d, 1e6);
        assert_manufacturer_cash_matches_flows(&m, m_open);
    }

    #[test]
    fn buying_on_installment_pays_the_down_payment_and_owes_the_rest() {
        let (mut d, mut m) = (dealer(), manufacturer_with_stock());
        let m_open = m.cash_usd();
        let value = d.buy_on_installment(&mut m, 0, 0, 10, TERMS);
        assert_eq!(value, 25_000.0);
        assert_eq!(d.cash_usd(), 1e6 - 5_000.0);
        assert_eq!(m.cash_usd() - m_open, 5_000.0);
        let inst = &d.installments[0];
        assert_eq!(
            (inst.balance_usd, inst.payment_usd, inst.months_left),
            (20_000.0, 5_000.0, 4)
        );
        assert_eq!(
            (d.flows().down_payments_usd, d.flows().units_bought_installment),
            (5_000.0, 10)
        );
        let f = m.flows();
        assert_eq!(
            (f.dealer_down_payments_usd, f.revenue_usd, f.units_sold_dealers),
            (5_000.0, 25_000.0, 10)
        );
        assert_dealer_cash_matches_flows(&d, 1e6);
        assert_manufacturer_cash_matches_flows(&m, m_open);
    }

    #[test]
    fn an_installment_moves_from_dealer_to_manufacturer() {
        let (mut d, mut m) = (dealer(), manufacturer_with_stock());
        let m_open = m.cash_usd();
        d.pay_installment(&mut m, 5_000.0);
        assert_eq!(d.cash_usd(), 1e6 - 5_000.0);
        assert_eq!(m.cash_usd() - m_open, 5_000.0);
        assert_eq!(d.flows().installments_paid_usd, 5_000.0);
        assert_eq!(m.flows().installments_collected_usd, 5_000.0);
        assert_dealer_cash_matches_flows(&d, 1e6);
        assert_manufacturer_cash_matches_flows(&m, m_open);
    }

    #[test]
    fn a_default_returns_the_machines_held_and_writes_off_the_rest() {
        let (mut d, mut m) = (dealer(), manufacturer_with_stock());
        d.buy_on_installment(&mut m, 0, 0, 10, TERMS);
        let (d_open, m_open) = (d.cash_usd(), m.cash_usd());
        d.open_month();
        m.open_month();
        let inst = d.installments.swap_remove(0);
        d.default_on_installment(&mut m, &inst, 10, 15_000.0);
        assert_eq!((d.cash_usd(), m.cash_usd()), (d_open, m_open));
        assert_eq!((d.stock[0].units, m.stock[0].units), (0, 100));
        assert_eq!((m.flows().units_recovered, m.flows().bad_debt_usd), (10, 5_000.0));
        let f = d.flows();
        assert_eq!(
            (f.units_returned, f.n_defaults, f.defaulted_balance_usd),
            (10, 1, 20_000.0)
        );
        assert_dealer_cash_matches_flows(&d, d_open);
        assert_manufacturer_cash_matches_flows(&m, m_open);
    }

    #[test]
    fn a_dealer_spot_sale_moves_the_price_to_the_dealer_and_the_duty_to_the_border() {
        let (mut d, mut m) = (dealer(), manufacturer_with_stock());
        d.buy_spot(&mut m, 0, 10, 25_000.0);
        let d_open = d.cash_usd();
        d.open_month();
        let mut buyer = SegmentBooks::new(1e6, 0.0);
        d.sell_spot(&mut buyer, 0, 4, 12_000.0, 1_200.0);
        assert_eq!(d.cash_usd() - d_open, 12_000.0);
        assert_eq!(buyer.cash_usd(), 1e6 - 13_200.0);
        let f = d.flows();
        assert_eq!(
            (f.sales_usd, f.cogs_usd, f.units_sold, d.totals().units_sold),
            (12_000.0, 10_000.0, 4, 4)
        );
        assert_eq!(
            (buyer.flows().spot_purchases_usd, buyer.flows().duties_paid_usd),
            (12_000.0, 1_200.0)
        );
        assert_dealer_cash_matches_flows(&d, d_open);
        assert_cash_matches_flows(&buyer, 1e6);
    }
}
