//! "Did you mean …?" for unknown names, functions and options.

/// The candidate closest to `name`, when it is close enough to be a likely typo.
///
/// Damerau-Levenshtein, so a swapped pair of letters (`aprroved`) counts as one edit; case
/// is ignored so `Amount` finds `amount`. Ties go to the first candidate in order.
pub(crate) fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_lowercase();
    let allowed = match lower.chars().count() {
        0..=3 => 1,
        4..=6 => 2,
        _ => 3,
    };
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        let distance = strsim::damerau_levenshtein(&lower, &candidate.to_lowercase());
        if distance <= allowed && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// `"; did you mean `x`?"` or nothing.
pub(crate) fn hint<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(name, candidates).map(|c| format!("; did you mean `{c}`?")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn suggestions() {
        let names = ["amount", "approved", "state", "supplier", "order_date"];
        let cases = [
            ("amout", Some("amount")),
            ("Amount", Some("amount")),
            ("aprroved", Some("approved")),
            ("stat", Some("state")),
            ("suplier", Some("supplier")),
            ("orderdate", Some("order_date")),
            ("xyz", None),
            ("", None),
            ("completely_different", None),
        ];
        for (name, expected) in cases {
            assert_eq!(closest(name, names), expected, "{name}");
        }
    }
}
