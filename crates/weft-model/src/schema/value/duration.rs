//! ISO 8601 durations in whole seconds. Only days and smaller units: years and months have
//! no fixed length, so a stored number of seconds cannot represent them.

const MINUTE: i64 = 60;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
const WEEK: i64 = 7 * DAY;

/// Seconds in `text`, such as `PT1H30M`, `P2DT4H`, `P1W` or `-PT15M`.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let malformed = || format!("`{text}` is not an ISO 8601 duration such as PT1H30M or P2DT4H");
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let body = body.strip_prefix('P').ok_or_else(malformed)?;
    let (date_part, time_part) = match body.split_once('T') {
        Some((d, t)) if !t.is_empty() => (d, Some(t)),
        Some(_) => return Err(malformed()),
        None => (body, None),
    };
    let mut total: i64 = 0;
    let mut any = false;
    for (number, unit) in components(date_part).ok_or_else(malformed)? {
        let scale = match unit {
            'W' => WEEK,
            'D' => DAY,
            'Y' | 'M' => return Err("years and months have no fixed length; give days instead".into()),
            _ => return Err(malformed()),
        };
        total = add(total, number, scale).ok_or_else(too_long)?;
        any = true;
    }
    if let Some(time_part) = time_part {
        for (number, unit) in components(time_part).ok_or_else(malformed)? {
            let scale = match unit {
                'H' => HOUR,
                'M' => MINUTE,
                'S' => 1,
                _ => return Err(malformed()),
            };
            total = add(total, number, scale).ok_or_else(too_long)?;
            any = true;
        }
    }
    if !any {
        return Err(malformed());
    }
    Ok(if negative { -total } else { total })
}

fn too_long() -> String {
    "the duration is too long".into()
}

fn add(total: i64, number: i64, scale: i64) -> Option<i64> {
    number.checked_mul(scale)?.checked_add(total)
}

/// `(number, unit letter)` pairs, or `None` when the text is not digits followed by a unit
/// letter, repeated. A fraction is refused: durations are whole seconds.
fn components(text: &str) -> Option<Vec<(i64, char)>> {
    let mut out = Vec::new();
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            if digits.is_empty() || !c.is_ascii_uppercase() {
                return None;
            }
            out.push((digits.parse().ok()?, c));
            digits.clear();
        }
    }
    digits.is_empty().then_some(out)
}

/// `seconds` as an ISO 8601 duration: `PT1H30M`, `P1DT2H`, `PT0S`.
pub fn format_duration(seconds: i64) -> String {
    let sign = if seconds < 0 { "-" } else { "" };
    let mut rest = seconds.unsigned_abs();
    let unsigned = |unit: i64| unit.unsigned_abs();
    let days = rest / unsigned(DAY);
    rest %= unsigned(DAY);
    let hours = rest / unsigned(HOUR);
    rest %= unsigned(HOUR);
    let minutes = rest / unsigned(MINUTE);
    let secs = rest % unsigned(MINUTE);
    let mut out = format!("{sign}P");
    if days > 0 {
        out.push_str(&format!("{days}D"));
    }
    if hours > 0 || minutes > 0 || secs > 0 || days == 0 {
        out.push('T');
        if hours > 0 {
            out.push_str(&format!("{hours}H"));
        }
        if minutes > 0 {
            out.push_str(&format!("{minutes}M"));
        }
        if secs > 0 || (hours == 0 && minutes == 0) {
            out.push_str(&format!("{secs}S"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        let cases = [
            ("PT1H30M", 5400),
            ("PT90M", 5400),
            ("PT0S", 0),
            ("P1D", 86_400),
            ("P1DT1H", 90_000),
            ("P2W", 14 * 86_400),
            ("PT45S", 45),
            ("-PT15M", -900),
        ];
        for (text, seconds) in cases {
            assert_eq!(parse_duration(text), Ok(seconds), "{text}");
        }
    }

    #[test]
    fn refuses() {
        let cases = [
            ("", "`` is not an ISO 8601 duration such as PT1H30M or P2DT4H"),
            ("P", "`P` is not an ISO 8601 duration such as PT1H30M or P2DT4H"),
            ("PT", "`PT` is not an ISO 8601 duration such as PT1H30M or P2DT4H"),
            ("1H", "`1H` is not an ISO 8601 duration such as PT1H30M or P2DT4H"),
            ("PT1.5S", "`PT1.5S` is not an ISO 8601 duration such as PT1H30M or P2DT4H"),
            ("PT1X", "`PT1X` is not an ISO 8601 duration such as PT1H30M or P2DT4H"),
            ("P1H", "`P1H` is not an ISO 8601 duration such as PT1H30M or P2DT4H"),
            ("P1M", "years and months have no fixed length; give days instead"),
            ("P1Y", "years and months have no fixed length; give days instead"),
            (
                "PT99999999999999999999S",
                "`PT99999999999999999999S` is not an ISO 8601 duration such as PT1H30M or P2DT4H",
            ),
            ("P9999999999999999D", "the duration is too long"),
        ];
        for (text, reason) in cases {
            assert_eq!(parse_duration(text), Err(reason.to_owned()), "{text}");
        }
    }

    #[test]
    fn formats_and_reads_back() {
        let cases =
            [(5400, "PT1H30M"), (0, "PT0S"), (86_400, "P1D"), (90_061, "P1DT1H1M1S"), (-900, "-PT15M"), (59, "PT59S")];
        for (seconds, text) in cases {
            assert_eq!(format_duration(seconds), text);
            assert_eq!(parse_duration(text), Ok(seconds));
        }
        for seconds in [i64::MAX, i64::MIN + 1] {
            assert_eq!(parse_duration(&format_duration(seconds)), Ok(seconds));
        }
    }
}
