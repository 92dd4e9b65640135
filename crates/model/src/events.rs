//! The event queue: things due at a known future month, applied in insertion order within their month.
//!
//! A calendar queue (one bucket per month) is enough because every delay is a whole number of months;
//! it is deterministic, allocation-free once warm, and keeps first-in-first-out order for ties. It holds
//! the scenario's scripted events; what arrives on a fixed schedule is kept by its owner (machines in
//! transit by the fleet, wafer lots in each manufacturer's book).
#![warn(missing_docs)]

use crate::units::Month;

/// Something due in a known month, held by the [`EventQueue`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Event {
    /// A scripted event from the scenario, by its index in `Params::events`.
    Scripted {
        /// Index of the event in `Params::events`, the order of `[[events]]` in the scenario.
        event_idx: usize,
    },
}

/// The calendar queue: one bucket of events per month of the horizon.
#[derive(Clone, Debug, Default)]
pub struct EventQueue {
    buckets: Vec<Vec<Event>>,
    /// Emptied buckets of past months, handed to months that get their first event, so that scheduling
    /// allocates nothing once a path has warmed up.
    spare: Vec<Vec<Event>>,
}

impl EventQueue {
    /// An empty queue covering months 0 to `n_months - 1`.
    pub fn with_horizon(n_months: usize) -> EventQueue {
        EventQueue {
            buckets: (0..n_months).map(|_| Vec::new()).collect(),
            spare: Vec::new(),
        }
    }

    /// Empties every month's bucket, so that the queue can be reused by the next path.
    pub fn clear(&mut self) {
        self.buckets.iter_mut().for_each(Vec::clear);
    }

    /// Schedules `event` for `month`; events beyond the horizon are dropped (they would never be applied).
    pub fn schedule(&mut self, month: Month, event: Event) {
        if let Some(bucket) = self.buckets.get_mut(month.idx()) {
            if bucket.capacity() == 0
                && let Some(spare) = self.spare.pop()
            {
                *bucket = spare;
            }
            bucket.push(event);
        }
    }

    /// Takes the events due in `month`, in the order they were scheduled.
    pub fn take_due(&mut self, month: Month, out: &mut Vec<Event>) {
        out.clear();
        if let Some(bucket) = self.buckets.get_mut(month.idx()) {
            // `out` takes the bucket's events and allocation; `out`'s old allocation, now empty, is kept for
            // a later month.
            std::mem::swap(out, bucket);
            let old = std::mem::take(bucket);
            if old.capacity() > 0 {
                self.spare.push(old);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_month_events_keep_insertion_order() {
        let mut q = EventQueue::with_horizon(4);
        q.schedule(Month(2), Event::Scripted { event_idx: 1 });
        q.schedule(Month(1), Event::Scripted { event_idx: 0 });
        q.schedule(Month(2), Event::Scripted { event_idx: 2 });
        q.schedule(Month(9), Event::Scripted { event_idx: 3 });
        let mut out = vec![];
        q.take_due(Month(2), &mut out);
        assert_eq!(
            out,
            vec![Event::Scripted { event_idx: 1 }, Event::Scripted { event_idx: 2 }]
        );
        q.take_due(Month(2), &mut out);
        assert!(out.is_empty());
    }
}
