//! Channel dealers, aggregated into one population: stock by generation, cash, and installment contracts.
//!
//! In bull regimes dealers stockpile and resell with a mark-up; in bear regimes they dump below the
//! manufacturers' price and sign low-down-payment installment contracts for manufacturers' excess stock.
//! While their stock is large it sets the used price and takes spot demand from the manufacturers.

use crate::agents::manufacturer::Stock;

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
    pub cash_usd: f64,
    pub credit_line_usd: f64,
    pub stock: Vec<Stock>,
    pub installments: Vec<Installment>,
    /// Smoothed units per month buyers asked dealers for.
    pub demand_units_smoothed: f64,
    /// This month's selling price per generation (0 when not offered).
    pub price_usd: Vec<f64>,
    /// Discount of the dealer price below the manufacturers' price (negative for a mark-up).
    pub dump_discount_share: f64,
    pub flows: DealerFlows,
    pub totals: DealerTotals,
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

    pub fn next_installment_id(&mut self) -> u64 {
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
}
