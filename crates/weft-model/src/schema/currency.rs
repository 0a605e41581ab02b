//! Currency codes and their minor units (ISO 4217), needed both to check declarations and
//! to read amounts.

pub fn is_currency_code(code: &str) -> bool {
    code.len() == 3 && code.chars().all(|c| c.is_ascii_uppercase())
}

/// The most places any currency's minor unit has.
pub const MAX_MINOR_UNITS: u8 = 4;

/// Decimal places of the currency's minor unit (ISO 4217); 2 for codes not listed.
pub fn minor_units(currency: &str) -> u8 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX" | "UYI" | "VND"
        | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        "CLF" | "UYW" => 4,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_minor_units() {
        assert!(is_currency_code("CNY"));
        for bad in ["cny", "CN", "CNYY", "C1Y", ""] {
            assert!(!is_currency_code(bad), "{bad}");
        }
        assert_eq!([minor_units("CNY"), minor_units("JPY"), minor_units("KWD"), minor_units("CLF")], [2, 0, 3, 4]);
    }
}
