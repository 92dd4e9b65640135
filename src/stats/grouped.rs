//! Exact quantiles of many groups of values that are too many to hold: the values are streamed, as often as
//! needed, and memory is bounded by a budget rather than by the number of values.
//!
//! The first pass counts each group and keeps every value while they fit in the budget; when they do, the
//! quantiles are those of [`quantiles`](super::quantiles) at once. Otherwise each order statistic a quantile
//! interpolates between is narrowed down, pass after pass, to the range of keys that holds it: a range is
//! either kept whole (when few enough values fall in it) or split into 256 buckets by its next 8 bits, each
//! bucket remembering how many values fell in it and the smallest and largest. A bucket whose smallest and
//! largest are equal holds the statistic exactly. Ranges of 64-bit keys shrink 256-fold a pass, so at most
//! eight passes after the first resolve every statistic; in practice two or three.
//!
//! The figures are bit-for-bit those of sorting each group's finite values and interpolating between order
//! statistics, whatever the budget: the same order (`f64::total_cmp`), the same statistics, the same formula.

use super::Quantiles;

/// The quantiles reported, as fractions, in the order of [`Quantiles`]' fields.
const LEVELS: [f64; 5] = [0.05, 0.25, 0.50, 0.75, 0.95];

/// Bytes a histogram of one range takes (256 buckets of a count and two keys): what it costs against the budget.
const HISTOGRAM_BYTES: usize = 256 * std::mem::size_of::<Bucket>();

/// Memory that [`grouped_quantiles`] may hold at once for values and histograms, by default: 64 MiB.
pub const DEFAULT_BUDGET_BYTES: usize = 64 << 20;

/// An f64 as a u64 whose unsigned order is `f64::total_cmp`'s order.
fn key_of(value: f64) -> u64 {
    let bits = value.to_bits();
    if bits >> 63 == 1 { !bits } else { bits | 1 << 63 }
}

fn value_of(key: u64) -> f64 {
    f64::from_bits(if key >> 63 == 1 { key & !(1 << 63) } else { !key })
}

#[derive(Clone, Copy)]
struct Bucket {
    count: u64,
    min_key: u64,
    max_key: u64,
}

const EMPTY_BUCKET: Bucket = Bucket {
    count: 0,
    min_key: u64::MAX,
    max_key: 0,
};

/// A range of keys of one group known to hold some of the wanted order statistics.
struct Range {
    group: usize,
    min_key: u64,
    max_key: u64,
    /// Values of the group inside the range.
    count: u64,
    /// Values of the group below the range.
    below: u64,
    /// What this pass does with it.
    work: Work,
}

enum Work {
    /// Left for a later pass, for lack of budget in this one.
    Wait,
    Keep(Vec<u64>),
    Split {
        shift: u32,
        buckets: Box<[Bucket; 256]>,
    },
}

/// Exact p5, p25, p50, p75 and p95 of the finite values of each of `n_groups` groups; `None` for a group with
/// none. `pass` streams every value once per call, as (group, value), always the same values in the same
/// order; it is called as many times as needed. Memory held is about `budget_bytes` (at least enough for one
/// histogram) plus a few words per group.
pub fn grouped_quantiles<E>(
    n_groups: usize,
    budget_bytes: usize,
    mut pass: impl FnMut(&mut dyn FnMut(usize, f64)) -> Result<(), E>,
) -> Result<Vec<Option<Quantiles>>, E> {
    let budget_values = (budget_bytes / 8).max(HISTOGRAM_BYTES / 8);

    // First pass: count, bound, and keep everything while it fits.
    let mut counts = vec![0u64; n_groups];
    let mut min_keys = vec![u64::MAX; n_groups];
    let mut max_keys = vec![0u64; n_groups];
    let mut kept: Option<Vec<Vec<f64>>> = Some(vec![vec![]; n_groups]);
    let mut n_kept = 0usize;
    pass(&mut |group, value| {
        if !value.is_finite() {
            return;
        }
        let key = key_of(value);
        counts[group] += 1;
        min_keys[group] = min_keys[group].min(key);
        max_keys[group] = max_keys[group].max(key);
        if let Some(all) = kept.as_mut() {
            n_kept += 1;
            if n_kept > budget_values {
                kept = None;
            } else {
                all[group].push(value);
            }
        }
    })?;
    if let Some(all) = kept {
        return Ok(all.iter().map(|values| super::quantiles(values)).collect());
    }

    // The order statistics wanted: for each group and level, the two a quantile interpolates between.
    let mut wanted: Vec<Vec<(u64, Option<f64>)>> = counts
        .iter()
        .map(|&n| {
            let mut ranks: Vec<u64> = vec![];
            for level in LEVELS {
                let (lower, upper) = neighbours(n, level);
                ranks.extend(lower.into_iter().chain(upper));
            }
            ranks.sort_unstable();
            ranks.dedup();
            ranks.into_iter().map(|r| (r, None)).collect()
        })
        .collect();

    let mut ranges: Vec<Range> = (0..n_groups)
        .filter(|&g| counts[g] > 0)
        .map(|g| Range {
            group: g,
            min_key: min_keys[g],
            max_key: max_keys[g],
            count: counts[g],
            below: 0,
            work: Work::Wait,
        })
        .collect();
    drop((min_keys, max_keys));
    loop {
        // Ranges of one key hold their statistics exactly.
        ranges.retain(|range| {
            if range.min_key != range.max_key {
                return true;
            }
            for (rank, value) in &mut wanted[range.group] {
                if (range.below..range.below + range.count).contains(rank) {
                    *value = Some(value_of(range.min_key));
                }
            }
            false
        });
        if ranges.is_empty() {
            break;
        }
        // The smallest ranges first: kept whole when that costs less than a histogram, split otherwise,
        // while the budget lasts (the first always gets its turn, so every pass makes progress).
        let mut order: Vec<usize> = (0..ranges.len()).collect();
        order.sort_by_key(|&i| (ranges[i].count, i));
        let mut spent = 0usize;
        for (turn, &i) in order.iter().enumerate() {
            let range = &mut ranges[i];
            let keep = range.count.saturating_mul(8) <= HISTOGRAM_BYTES as u64;
            let cost = if keep {
                range.count as usize * 8
            } else {
                HISTOGRAM_BYTES
            };
            if turn > 0 && spent + cost > budget_bytes {
                break;
            }
            spent += cost;
            range.work = if keep {
                Work::Keep(Vec::with_capacity(range.count as usize))
            } else {
                let width_bits = 64 - (range.min_key ^ range.max_key).leading_zeros();
                Work::Split {
                    shift: width_bits.saturating_sub(8),
                    buckets: Box::new([EMPTY_BUCKET; 256]),
                }
            };
        }
        // Each group's ranges in this pass, for finding the one a value falls in.
        let mut by_group: Vec<Vec<usize>> = vec![vec![]; n_groups];
        for (i, range) in ranges.iter().enumerate() {
            if !matches!(range.work, Work::Wait) {
                by_group[range.group].push(i);
            }
        }
        pass(&mut |group, value| {
            if !value.is_finite() {
                return;
            }
            let key = key_of(value);
            for &i in &by_group[group] {
                let range = &mut ranges[i];
                if key < range.min_key || key > range.max_key {
                    continue;
                }
                match &mut range.work {
                    Work::Keep(keys) => keys.push(key),
                    Work::Split { shift, buckets } => {
                        let bucket = &mut buckets[((key >> *shift) - (range.min_key >> *shift)) as usize];
                        bucket.count += 1;
                        bucket.min_key = bucket.min_key.min(key);
                        bucket.max_key = bucket.max_key.max(key);
                    }
                    Work::Wait => {}
                }
                break;
            }
        })?;
        drop(by_group);
        // Resolve what was kept; narrow what was split to the buckets holding wanted statistics.
        let mut next: Vec<Range> = vec![];
        for mut range in ranges {
            match std::mem::replace(&mut range.work, Work::Wait) {
                Work::Wait => next.push(range),
                Work::Keep(mut keys) => {
                    keys.sort_unstable();
                    for (rank, value) in &mut wanted[range.group] {
                        if let Some(offset) = rank.checked_sub(range.below)
                            && let Some(&key) = keys.get(offset as usize)
                        {
                            *value = Some(value_of(key));
                        }
                    }
                }
                Work::Split { buckets, .. } => {
                    let mut below = range.below;
                    for bucket in buckets.iter().filter(|b| b.count > 0) {
                        let holds = |rank: &u64| (below..below + bucket.count).contains(rank);
                        if wanted[range.group].iter().any(|(rank, _)| holds(rank)) {
                            next.push(Range {
                                group: range.group,
                                min_key: bucket.min_key,
                                max_key: bucket.max_key,
                                count: bucket.count,
                                below,
                                work: Work::Wait,
                            });
                        }
                        below += bucket.count;
                    }
                }
            }
        }
        ranges = next;
    }

    Ok(counts
        .iter()
        .zip(&wanted)
        .map(|(&n, statistics)| {
            if n == 0 {
                return None;
            }
            let at = |rank: u64| {
                statistics
                    .iter()
                    .find(|(r, _)| *r == rank)
                    .and_then(|(_, v)| *v)
                    .unwrap_or(f64::NAN)
            };
            let q = |level: f64| match neighbours(n, level) {
                (Some(lower), Some(upper)) => {
                    let fraction = level.clamp(0.0, 1.0) * (n - 1) as f64 - lower as f64;
                    let (a, b) = (at(lower), at(upper));
                    a + (b - a) * fraction
                }
                (Some(only), None) => at(only),
                _ => f64::NAN,
            };
            Some(Quantiles {
                p5: q(LEVELS[0]),
                p25: q(LEVELS[1]),
                p50: q(LEVELS[2]),
                p75: q(LEVELS[3]),
                p95: q(LEVELS[4]),
            })
        })
        .collect())
}

/// The ranks (0-based, in sorted order) of the order statistics the `level` quantile of `n` values reads:
/// the lower one, and the upper one when it interpolates (as [`quantile_sorted`](super::quantile_sorted)).
fn neighbours(n: u64, level: f64) -> (Option<u64>, Option<u64>) {
    match n {
        0 => (None, None),
        1 => (Some(0), None),
        n => {
            let position = level.clamp(0.0, 1.0) * (n - 1) as f64;
            let lower = position.floor() as u64;
            if lower + 1 < n {
                (Some(lower), Some(lower + 1))
            } else {
                (Some(n - 1), None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::quantiles;
    use rand::{RngExt, SeedableRng};

    /// Streams `groups` as (group, value) in order, counting the passes.
    fn stream(groups: &[Vec<f64>], budget_bytes: usize) -> (Vec<Option<Quantiles>>, usize) {
        let mut passes = 0;
        let result = grouped_quantiles::<()>(groups.len(), budget_bytes, |sink| {
            passes += 1;
            // Interleaved, as rows of many paths and months are.
            let longest = groups.iter().map(Vec::len).max().unwrap_or(0);
            for i in 0..longest {
                for (g, values) in groups.iter().enumerate() {
                    if let Some(&v) = values.get(i) {
                        sink(g, v);
                    }
                }
            }
            Ok(())
        })
        .unwrap();
        (result, passes)
    }

    fn same_bits(a: &Option<Quantiles>, b: &Option<Quantiles>) -> bool {
        match (a, b) {
            (None, None) => true,
            (Some(a), Some(b)) => Quantiles::NAMED
                .iter()
                .all(|(_, read)| read(a).to_bits() == read(b).to_bits()),
            _ => false,
        }
    }

    #[test]
    fn keys_order_values_as_total_cmp() {
        let values = [
            f64::NEG_INFINITY,
            -1e300,
            -1.5,
            -0.0,
            0.0,
            f64::MIN_POSITIVE,
            1.0,
            1.0000000000000002,
            1e300,
            f64::INFINITY,
        ];
        for pair in values.windows(2) {
            assert!(key_of(pair[0]) < key_of(pair[1]), "{pair:?}");
        }
        for v in values {
            assert_eq!(value_of(key_of(v)).to_bits(), v.to_bits());
        }
    }

    #[test]
    fn streamed_quantiles_equal_sorted_ones_bit_for_bit_under_any_budget() {
        let mut rng = hashcycle_model::rng::PathRng::seed_from_u64(7);
        let mut groups: Vec<Vec<f64>> = vec![
            vec![],
            vec![42.0],
            vec![3.0; 5000],                                     // one value, many times
            vec![f64::NAN, f64::INFINITY, 1.0, -2.0],            // non-finite values are skipped
            (0..4000).map(|i| f64::from(i % 7) - 3.0).collect(), // heavy ties, negatives and zeros
        ];
        groups.push((0..20_000).map(|_| rng.random::<f64>().powi(9) * 1e9).collect());
        groups.push((0..7_000).map(|_| -rng.random::<f64>().ln() * 1e-3).collect());
        groups.push((0..3_000).map(|i| if i % 2 == 0 { 0.0 } else { -0.0 }).collect());
        let expected: Vec<Option<Quantiles>> = groups.iter().map(|g| quantiles(g)).collect();

        let (whole, passes) = stream(&groups, DEFAULT_BUDGET_BYTES);
        assert_eq!(passes, 1, "everything fits: one pass");
        for budget in [DEFAULT_BUDGET_BYTES, 64 << 10, 8 << 10, 1] {
            let (streamed, passes) = stream(&groups, budget);
            for (g, (a, b)) in streamed.iter().zip(&expected).enumerate() {
                assert!(same_bits(a, b), "group {g}, budget {budget}: {a:?} vs {b:?}");
            }
            assert!(same_bits(&whole[5], &expected[5]));
            if budget < 64 << 10 {
                assert!(passes > 2, "a small budget takes more passes: {passes}");
            }
        }
    }

    #[test]
    fn histograms_wait_their_turn_when_the_budget_is_short() {
        // 40 groups of 10,000 values: 3.2 MB of values against a 64 KiB budget.
        let groups: Vec<Vec<f64>> = (0..40)
            .map(|g| (0..10_000).map(|i| f64::from((i * 7919 + g * 13) % 10_007)).collect())
            .collect();
        let (streamed, passes) = stream(&groups, 64 << 10);
        for (a, g) in streamed.iter().zip(&groups) {
            assert!(same_bits(a, &quantiles(g)));
        }
        // 40 histograms of 6 KiB cannot share one 64 KiB pass: some wait their turn.
        assert!(passes >= 4, "{passes} passes");
    }
}
