//! Each miners' segment's books: cash (negative while drawing on credit), what it owes and has prepaid on
//! futures, and the month's recorded flows.
//!
//! Cash and flows change only through the methods here, each moving the balance and recording the flow
//! that explains it together, so the money check (cash change = recorded flows) holds by construction. The
//! halves a seller's two-sided posting calls (`pay_spot`, `pay_prepayment`, ...) are crate-visible for that
//! purpose only; phases call the seller's posting.
#![warn(missing_docs)]

/// A segment's money.
#[derive(Clone, Debug, Default)]
pub struct SegmentBooks {
    cash_usd: f64,
    credit_line_usd: f64,
    /// Futures balances the segment still owes at delivery.
    committed_balance_usd: f64,
    /// Prepayments paid on futures not yet delivered.
    prepaid_outstanding_usd: f64,
    /// Hosting income kept for the AI business (less the conversions it paid for): part of cash, but not
    /// spent on machines.
    hosting_reserve_usd: f64,
    flows: SegmentFlows,
}

/// A segment's cash movements in one month (and the prepayments it forfeited, which move no cash).
#[derive(Clone, Debug, Default)]
pub struct SegmentFlows {
    /// Mining revenue (subsidy and fees at the month's price) of the segment's running machines, in USD.
    pub revenue_usd: f64,
    /// Power bill of the segment's running machines, in USD.
    pub power_cost_usd: f64,
    /// Paid for machines bought spot, from manufacturers or dealers, in USD (duties apart).
    pub spot_purchases_usd: f64,
    /// Prepayments paid on futures signed this month, in USD.
    pub prepayments_paid_usd: f64,
    /// Futures balances paid at delivery, in USD (duties apart).
    pub balances_paid_usd: f64,
    /// Prepayments refunded on futures batches cancelled for being late, in USD.
    pub refunds_received_usd: f64,
    /// Import duties paid on machines landed in a region with a tariff on their origin, in USD.
    pub duties_paid_usd: f64,
    /// Freight and re-installation of machines moved after a ban, in USD.
    pub relocation_paid_usd: f64,
    /// New money from outside (retail inflow in bull regimes), in USD.
    pub inflow_usd: f64,
    /// Money from machines sold: to the other segment, outside the simulated regions, or as scrap, in USD.
    pub sale_proceeds_usd: f64,
    /// Paid to the other segment for machines taken over from it, in USD.
    pub takeover_paid_usd: f64,
    /// Interest paid on credit drawn (cash below zero), in USD.
    pub interest_usd: f64,
    /// Prepayments lost by walking away from futures, in USD: they move no cash this month (the cash left at
    /// signing), so `net_cash_usd` leaves them out.
    pub prepayments_forfeited_usd: f64,
    /// Value of the futures signed this month (prepayment plus balance owed), in USD; no cash beyond the
    /// prepayment moves, so `net_cash_usd` leaves it out.
    pub futures_signed_usd: f64,
    // The key-account firms' own movements (`crate::agents::miner::firms`); zero for a pooled segment.
    /// Overheads paid, in USD.
    pub overheads_usd: f64,
    /// Interest paid on term loans, notes and credit drawn by firms, and principal repaid, in USD.
    pub debt_service_usd: f64,
    /// New term loans against machines bought, in USD.
    pub debt_raised_usd: f64,
    /// Equity raised by firms in bull months, in USD.
    pub equity_raised_usd: f64,
    /// Sites firms built for the machines that grew their fleet, in USD.
    pub site_capex_usd: f64,
    /// Mined BTC firms kept in treasury instead of selling, in USD at the month's price.
    pub btc_retained_usd: f64,
    /// BTC firms sold from treasury, in USD.
    pub btc_sold_usd: f64,
    /// Credit drawn by failed firms that their lenders wrote off, in USD (cash the firm no longer owes).
    pub credit_written_off_usd: f64,
    /// What failed firms' estates paid their shareholders once creditors were paid, in USD.
    pub estate_distributed_usd: f64,
    // AI/HPC hosting (`crate::market::hosting`); zero for retail.
    /// What tenants paid for the sites hosting AI this month, in USD.
    pub hosting_revenue_usd: f64,
    /// What operating those sites cost, in USD.
    pub hosting_operating_cost_usd: f64,
    /// Paid to convert mining sites to AI hosting, in USD.
    pub conversion_capex_usd: f64,
}

impl SegmentFlows {
    /// The month's net cash flow in USD, which the money check compares with the change in cash.
    pub fn net_cash_usd(&self) -> f64 {
        self.revenue_usd
            - self.power_cost_usd
            - self.spot_purchases_usd
            - self.prepayments_paid_usd
            - self.balances_paid_usd
            + self.refunds_received_usd
            - self.duties_paid_usd
            - self.relocation_paid_usd
            + self.inflow_usd
            + self.sale_proceeds_usd
            - self.takeover_paid_usd
            - self.interest_usd
            - self.overheads_usd
            - self.debt_service_usd
            + self.debt_raised_usd
            + self.equity_raised_usd
            - self.site_capex_usd
            - self.btc_retained_usd
            + self.btc_sold_usd
            + self.credit_written_off_usd
            - self.estate_distributed_usd
            + self.hosting_revenue_usd
            - self.hosting_operating_cost_usd
            - self.conversion_capex_usd
    }

    /// The sum of the sizes of the month's cash flows, which bounds the rounding in `net_cash_usd`.
    pub fn gross_usd(&self) -> f64 {
        self.revenue_usd.abs()
            + self.power_cost_usd.abs()
            + self.spot_purchases_usd.abs()
            + self.prepayments_paid_usd.abs()
            + self.balances_paid_usd.abs()
            + self.refunds_received_usd.abs()
            + self.duties_paid_usd.abs()
            + self.relocation_paid_usd.abs()
            + self.inflow_usd.abs()
            + self.sale_proceeds_usd.abs()
            + self.takeover_paid_usd.abs()
            + self.interest_usd.abs()
            + self.overheads_usd.abs()
            + self.debt_service_usd.abs()
            + self.debt_raised_usd.abs()
            + self.equity_raised_usd.abs()
            + self.site_capex_usd.abs()
            + self.btc_retained_usd.abs()
            + self.btc_sold_usd.abs()
            + self.credit_written_off_usd.abs()
            + self.estate_distributed_usd.abs()
            + self.hosting_revenue_usd.abs()
            + self.hosting_operating_cost_usd.abs()
            + self.conversion_capex_usd.abs()
    }
}

impl SegmentBooks {
    /// Books with `cash_usd` at the start and a credit line of `credit_line_usd`, nothing owed and no flows.
    pub fn new(cash_usd: f64, credit_line_usd: f64) -> SegmentBooks {
        SegmentBooks {
            cash_usd,
            credit_line_usd,
            ..SegmentBooks::default()
        }
    }

    /// Cash at hand in USD; negative while the credit line is drawn.
    pub fn cash_usd(&self) -> f64 {
        self.cash_usd
    }

    /// The month's flows so far.
    pub fn flows(&self) -> &SegmentFlows {
        &self.flows
    }

    /// Clears the month's flows.
    pub fn open_month(&mut self) {
        self.flows = SegmentFlows::default();
    }

    /// Balances owed on futures not yet delivered, in USD.
    pub fn committed_balance_usd(&self) -> f64 {
        self.committed_balance_usd
    }

    /// Sets the credit line (the key-account firms' lines summed).
    pub(crate) fn set_credit_line(&mut self, credit_line_usd: f64) {
        self.credit_line_usd = credit_line_usd;
    }

    /// Moves the starting cash to `cash_usd` (the key-account firms' cash summed), before the first month.
    pub(crate) fn set_starting_cash(&mut self, cash_usd: f64) {
        self.cash_usd = cash_usd;
    }

    // A key-account firm's own movements, each booked here as well as on the firm.

    /// A firm pays its overheads.
    pub(crate) fn pay_overheads(&mut self, usd: f64) {
        self.cash_usd -= usd;
        self.flows.overheads_usd += usd;
    }

    /// A firm pays interest and repays principal.
    pub(crate) fn pay_debt_service(&mut self, interest_usd: f64, principal_usd: f64) {
        self.cash_usd -= interest_usd + principal_usd;
        self.flows.debt_service_usd += interest_usd + principal_usd;
    }

    /// A firm borrows.
    pub(crate) fn borrow(&mut self, usd: f64) {
        self.cash_usd += usd;
        self.flows.debt_raised_usd += usd;
    }

    /// A firm raises equity.
    pub(crate) fn raise_equity(&mut self, usd: f64) {
        self.cash_usd += usd;
        self.flows.equity_raised_usd += usd;
    }

    /// A firm builds sites.
    pub(crate) fn pay_site_capex(&mut self, usd: f64) {
        self.cash_usd -= usd;
        self.flows.site_capex_usd += usd;
    }

    /// A firm keeps mined BTC worth `usd` instead of selling it.
    pub(crate) fn retain_btc(&mut self, usd: f64) {
        self.cash_usd -= usd;
        self.flows.btc_retained_usd += usd;
    }

    /// A firm sells BTC from its treasury.
    pub(crate) fn sell_btc(&mut self, usd: f64) {
        self.cash_usd += usd;
        self.flows.btc_sold_usd += usd;
    }

    /// The lenders of a failed firm write off the credit it drew.
    pub(crate) fn write_off_credit(&mut self, usd: f64) {
        self.cash_usd += usd;
        self.flows.credit_written_off_usd += usd;
    }

    /// A failed firm's estate pays what is left to its shareholders.
    pub(crate) fn distribute_estate(&mut self, usd: f64) {
        self.cash_usd -= usd;
        self.flows.estate_distributed_usd += usd;
    }

    /// Tenants pay for sites hosting AI, which cost `operating_cost_usd` to run; `fenced_usd` of it is kept
    /// for the AI business.
    pub(crate) fn receive_hosting_income(&mut self, revenue_usd: f64, operating_cost_usd: f64, fenced_usd: f64) {
        self.cash_usd += revenue_usd - operating_cost_usd;
        self.flows.hosting_revenue_usd += revenue_usd;
        self.flows.hosting_operating_cost_usd += operating_cost_usd;
        self.hosting_reserve_usd += fenced_usd.max(0.0);
    }

    /// Pays to convert mining sites to AI hosting, out of the AI business's reserve first.
    pub(crate) fn pay_conversion_capex(&mut self, usd: f64) {
        self.cash_usd -= usd;
        self.flows.conversion_capex_usd += usd;
        self.hosting_reserve_usd = (self.hosting_reserve_usd - usd).max(0.0);
    }

    /// Hosting income kept for the AI business that is still in cash, in USD.
    pub fn hosting_reserve_usd(&self) -> f64 {
        self.hosting_reserve_usd.min(self.cash_usd.max(0.0))
    }

    /// One firm of the segment buys machines from another (a fire sale): both halves are booked here and
    /// the segment's cash does not move.
    pub(crate) fn transfer_within(&mut self, usd: f64) {
        self.flows.takeover_paid_usd += usd;
        self.flows.sale_proceeds_usd += usd;
    }

    /// Funds the segment can still commit: cash plus unused credit, less balances it already owes.
    pub fn available_usd(&self) -> f64 {
        (self.cash_usd + self.credit_line_usd - self.committed_balance_usd - self.hosting_reserve_usd()).max(0.0)
    }

    /// Cash plus unused credit, without netting future commitments (what it can pay today).
    pub fn liquidity_usd(&self) -> f64 {
        (self.cash_usd + self.credit_line_usd).max(0.0)
    }

    /// A cohort's month of mining: its share of the revenue in, its power bill out.
    #[inline]
    pub fn book_mining(&mut self, revenue_usd: f64, power_cost_usd: f64) {
        self.cash_usd += revenue_usd - power_cost_usd;
        self.flows.revenue_usd += revenue_usd;
        self.flows.power_cost_usd += power_cost_usd;
    }

    /// New money from outside (retail inflow in bull regimes).
    pub fn receive_inflow(&mut self, inflow_usd: f64) {
        self.cash_usd += inflow_usd;
        self.flows.inflow_usd += inflow_usd;
    }

    /// Interest on credit drawn.
    pub fn pay_interest(&mut self, rate_per_month: f64) {
        let interest = (-self.cash_usd).max(0.0) * rate_per_month;
        self.cash_usd -= interest;
        self.flows.interest_usd += interest;
    }

    /// Moving machines stopped by a ban to new sites.
    pub fn pay_relocation(&mut self, cost_usd: f64) {
        self.cash_usd -= cost_usd;
        self.flows.relocation_paid_usd += cost_usd;
    }

    /// Money for machines sold: to the other segment (the seller's half of [`SegmentBooks::take_over_from`]),
    /// outside the simulated regions, or as scrap.
    pub fn receive_sale_proceeds(&mut self, proceeds_usd: f64) {
        self.cash_usd += proceeds_usd;
        self.flows.sale_proceeds_usd += proceeds_usd;
    }

    /// Two-sided: this segment takes over machines from `seller` (the other segment), paying `paid_usd`.
    pub fn take_over_from(&mut self, seller: &mut SegmentBooks, paid_usd: f64) {
        self.cash_usd -= paid_usd;
        self.flows.takeover_paid_usd += paid_usd;
        seller.receive_sale_proceeds(paid_usd);
    }

    // The buyer's halves of the sellers' two-sided postings.

    /// Pays for machines bought spot: `value_usd` to the seller and `duty_usd` at the border.
    pub(crate) fn pay_spot(&mut self, value_usd: f64, duty_usd: f64) {
        self.cash_usd -= value_usd + duty_usd;
        self.flows.spot_purchases_usd += value_usd;
        self.flows.duties_paid_usd += duty_usd;
    }

    /// Signs futures: pays the prepayment now and owes `balance_owed_usd` at delivery.
    pub(crate) fn pay_prepayment(&mut self, prepayment_usd: f64, balance_owed_usd: f64) {
        self.cash_usd -= prepayment_usd;
        self.flows.prepayments_paid_usd += prepayment_usd;
        self.flows.futures_signed_usd += prepayment_usd + balance_owed_usd;
        self.committed_balance_usd += balance_owed_usd;
        self.prepaid_outstanding_usd += prepayment_usd;
    }

    /// Futures signed before the start: their prepayment was paid out of cash before the first month, and
    /// `balance_owed_usd` is still owed at delivery.
    pub(crate) fn hold_prepayment_from_before_the_start(&mut self, prepayment_usd: f64, balance_owed_usd: f64) {
        self.committed_balance_usd += balance_owed_usd;
        self.prepaid_outstanding_usd += prepayment_usd;
    }

    /// Prepayments paid on futures not yet delivered, walked away from or refunded, in USD.
    pub fn prepaid_outstanding_usd(&self) -> f64 {
        self.prepaid_outstanding_usd
    }

    /// Takes delivery of futures: pays the balance and the duty; the prepayment `prepaid_applied_usd` is used up.
    pub(crate) fn pay_balance(&mut self, balance_usd: f64, duty_usd: f64, prepaid_applied_usd: f64) {
        self.cash_usd -= balance_usd + duty_usd;
        self.flows.balances_paid_usd += balance_usd;
        self.flows.duties_paid_usd += duty_usd;
        self.committed_balance_usd -= balance_usd;
        self.prepaid_outstanding_usd -= prepaid_applied_usd;
    }

    /// Walks away from futures units: the prepayment is lost and the balance no longer owed. No cash moves.
    pub(crate) fn forfeit_prepayment(&mut self, forfeited_usd: f64, balance_released_usd: f64) {
        self.prepaid_outstanding_usd -= forfeited_usd;
        self.committed_balance_usd -= balance_released_usd;
        self.flows.prepayments_forfeited_usd += forfeited_usd;
    }

    /// A cancelled contract's prepayment comes back and its balance is no longer owed.
    pub(crate) fn receive_refund(&mut self, refund_usd: f64, balance_released_usd: f64) {
        self.cash_usd += refund_usd;
        self.flows.refunds_received_usd += refund_usd;
        self.prepaid_outstanding_usd -= refund_usd;
        self.committed_balance_usd -= balance_released_usd;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The money check of `crate::invariants`: the cash change equals the recorded flows.
    pub(crate) fn assert_cash_matches_flows(books: &SegmentBooks, cash_open_usd: f64) {
        let change = books.cash_usd() - cash_open_usd;
        assert!(
            (change - books.flows().net_cash_usd()).abs() < 1e-9,
            "segment cash change {change} != flows {}",
            books.flows().net_cash_usd()
        );
    }

    #[test]
    fn a_takeover_moves_the_price_from_buyer_to_seller_and_both_books_record_it() {
        let (mut buyer, mut seller) = (SegmentBooks::new(1_000.0, 0.0), SegmentBooks::new(-50.0, 100.0));
        buyer.take_over_from(&mut seller, 300.0);
        assert_eq!((buyer.cash_usd(), seller.cash_usd()), (700.0, 250.0));
        assert_eq!(buyer.flows().takeover_paid_usd, 300.0);
        assert_eq!(seller.flows().sale_proceeds_usd, 300.0);
        assert_cash_matches_flows(&buyer, 1_000.0);
        assert_cash_matches_flows(&seller, -50.0);
    }

    #[test]
    fn hosting_income_and_conversion_capex_move_cash_with_their_flows() {
        let mut books = SegmentBooks::new(1_000.0, 0.0);
        books.receive_hosting_income(500.0, 100.0, 400.0);
        assert_eq!(
            books.available_usd(),
            1_000.0,
            "the income kept for AI is not available for machines"
        );
        books.pay_conversion_capex(250.0);
        assert_eq!(books.cash_usd(), 1_150.0);
        assert_eq!(books.flows().hosting_revenue_usd, 500.0);
        assert_eq!(books.flows().conversion_capex_usd, 250.0);
        assert_cash_matches_flows(&books, 1_000.0);
    }
}
