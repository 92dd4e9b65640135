//! The month's event log: events are written as the phases run and kept only while the sink takes monthly
//! rows.
#![warn(missing_docs)]

use crate::record::{EventKind, EventRow, Subject};
use crate::units::Month;

/// The month's events, waiting for the sink. A sink that takes no monthly rows takes no events either, so
/// then nothing is kept: `push` hands out no row and the caller skips filling it.
#[derive(Clone, Debug)]
pub struct EventLog {
    rows: Vec<EventRow>,
    recording: bool,
}

impl EventLog {
    /// An empty log, keeping rows only when `recording`.
    pub fn new(recording: bool) -> EventLog {
        EventLog {
            rows: Vec::with_capacity(if recording { 32 } else { 0 }),
            recording,
        }
    }

    /// Starts or stops keeping rows; the engine sets it at the start of every month from the sink's
    /// `MONTHLY_ROWS`.
    pub fn set_recording(&mut self, recording: bool) {
        self.recording = recording;
    }

    /// A new row for an event of `kind` about `subject`, with every figure zero, for the caller to fill in;
    /// `None` when events are not being recorded.
    pub fn push(&mut self, path_idx: u32, month: Month, kind: EventKind, subject: Subject) -> Option<&mut EventRow> {
        if !self.recording {
            return None;
        }
        self.rows.push(EventRow {
            path_idx,
            month,
            kind,
            subject,
            block_height: None,
            region_idx: None,
            units: 0,
            amount_usd: 0.0,
            value: 0.0,
            value_unit: "",
            detail: String::new(),
            drawn: false,
        });
        self.rows.last_mut()
    }

    /// Takes the rows kept so far, in the order they happened.
    pub fn drain(&mut self) -> std::vec::Drain<'_, EventRow> {
        self.rows.drain(..)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_log_keeps_rows_only_while_recording() {
        let mut log = EventLog::new(false);
        assert!(
            log.push(3, Month(7), EventKind::WalkAway, Subject::Manufacturer(1))
                .is_none()
        );
        assert_eq!(log.drain().count(), 0);
        log.set_recording(true);
        let row = log
            .push(3, Month(7), EventKind::WalkAway, Subject::Manufacturer(1))
            .expect("recording");
        row.units = 5;
        log.push(3, Month(7), EventKind::ContractClosed, Subject::Manufacturer(2));
        let rows: Vec<EventRow> = log.drain().collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].kind, rows[0].units, rows[0].path_idx),
            (EventKind::WalkAway, 5, 3)
        );
        assert_eq!(
            (rows[1].kind, rows[1].units, rows[1].amount_usd),
            (EventKind::ContractClosed, 0, 0.0)
        );
        assert_eq!(log.drain().count(), 0, "drained rows are gone");
    }
}
