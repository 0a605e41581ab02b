//! The sizes multi-row inserts are cut into. A statement's text depends on its number of
//! rows; were a lot of 100 written as one statement of 100 rows and the next lot of 117 as
//! one of 117, every statement would be new to the connection's cache of prepared
//! statements, parsed and planned again while the writer waits, and push out statements
//! that do recur. Cut into powers of two up to `MAX_ROWS` (100 = 64 + 32 + 4), each table
//! has at most seven insert texts, all of which stay prepared.

/// The most rows in one multi-row insert: large enough that the per-statement work is
/// shared by many rows, small enough that its text is quick to hash on each use.
pub const MAX_ROWS: usize = 64;

/// `items` in consecutive chunks whose sizes are powers of two, at most `MAX_ROWS` and at
/// most `limit` (the bound-parameter limit divided by the columns), largest first.
pub fn recurring_chunks<T>(items: &[T], limit: usize) -> impl Iterator<Item = &[T]> {
    let most = power_of_two_at_most(limit.clamp(1, MAX_ROWS));
    let mut rest = items;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let size = power_of_two_at_most(rest.len()).min(most);
        let (chunk, tail) = rest.split_at(size);
        rest = tail;
        Some(chunk)
    })
}

/// The largest power of two not above `n` (`n` ≥ 1).
fn power_of_two_at_most(n: usize) -> usize {
    1 << (usize::BITS - 1 - n.max(1).leading_zeros())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(n: usize, limit: usize) -> Vec<usize> {
        let items: Vec<usize> = (0..n).collect();
        recurring_chunks(&items, limit).map(<[usize]>::len).collect()
    }

    #[test]
    fn chunks_are_powers_of_two_largest_first_and_cover_everything_in_order() {
        assert_eq!(sizes(0, 100), Vec::<usize>::new());
        assert_eq!(sizes(1, 100), [1]);
        assert_eq!(sizes(100, 1000), [64, 32, 4]);
        assert_eq!(sizes(117, 1000), [64, 32, 16, 4, 1]);
        assert_eq!(sizes(200, 1000), [64, 64, 64, 8]);
        let items: Vec<usize> = (0..77).collect();
        let joined: Vec<usize> = recurring_chunks(&items, 1000).flatten().copied().collect();
        assert_eq!(joined, items);
    }

    #[test]
    fn the_parameter_limit_caps_a_chunk() {
        // 30,000 parameters over 1,000 columns: at most 30 rows, so 16 at a time.
        assert_eq!(sizes(40, 30), [16, 16, 8]);
        assert_eq!(sizes(3, 0), [1, 1, 1]);
    }

    #[test]
    fn few_texts_recur_whatever_the_lot_sizes() {
        let mut seen = std::collections::BTreeSet::new();
        for n in 1..=1000 {
            seen.extend(sizes(n, 1000));
        }
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), [1, 2, 4, 8, 16, 32, 64]);
    }
}
