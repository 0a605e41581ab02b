use crate::{ErrorKind, Limits, parse, parse_with};

/// Source, and how it prints back: canonical FEEL that parses to the same tree.
const ROUND_TRIPS: &[(&str, &str)] = &[
    ("amount > 10000", "amount > 10000"),
    (
        "state = \"approved\" and amount > 10000 and supplier = @party",
        "state = \"approved\" and amount > 10000 and supplier = @party",
    ),
    ("a or b and c", "a or b and c"),
    ("(a or b) and c", "(a or b) and c"),
    ("a or (b or c)", "a or (b or c)"),
    ("not(x = 1)", "not(x = 1)"),
    ("x in (1, 2, 3)", "x in [1, 2, 3]"),
    ("x in [\"a\",\"b\"]", "x in [\"a\", \"b\"]"),
    ("x in []", "x in []"),
    ("x in [1..10]", "x in [1..10]"),
    ("x in (1..10]", "x in (1..10]"),
    ("x in ]1..10[", "x in (1..10)"),
    ("x in [a + 1, 2]", "x in [a + 1, 2]"),
    ("x between 1 and 10", "x between 1 and 10"),
    ("x between a - 1 and b and c", "x between a - 1 and b and c"),
    ("starts with(name, \"PO\")", "starts with(name, \"PO\")"),
    ("string length( name )>3", "string length(name) > 3"),
    ("date(\"2026-01-31\")", "date(\"2026-01-31\")"),
    ("@\"2026-01-31\"", "date(\"2026-01-31\")"),
    ("date and time(\"2026-01-31T09:00:00+08:00\")", "date and time(\"2026-01-31T09:00:00+08:00\")"),
    ("@\"2026-01-31T09:00:00.5Z\"", "date and time(\"2026-01-31T09:00:00.5Z\")"),
    ("duration(\"PT36H\")", "duration(\"P1DT12H\")"),
    ("@\"-P1D\"", "duration(\"-P1D\")"),
    ("date(d)", "date(d)"),
    ("1 - (2 - 3)", "1 - (2 - 3)"),
    ("1 - 2 - 3", "1 - 2 - 3"),
    ("(a + b) * c", "(a + b) * c"),
    ("a + b * c", "a + b * c"),
    ("-x * 2", "-x * 2"),
    ("- -5", "--5"),
    ("-(a + b)", "-(a + b)"),
    (".5 + 0.10", "0.5 + 0.10"),
    ("\"a\\\"b\\\\c\\n\\u00e9\\uD83D\\uDE00\"", "\"a\\\"b\\\\c\\né😀\""),
    ("x = null", "x = null"),
    ("x != null", "x != null"),
    ("@me = owner", "@me = owner"),
    ("supplier.name = \"ACME\"", "supplier.name = \"ACME\""),
    ("a = (b = c)", "a = (b = c)"),
    ("amount > 1 // the rest is a comment", "amount > 1"),
    ("amount /* inline */ > 1", "amount > 1"),
    ("today() = d", "today() = d"),
    ("true and not(false)", "true and not(false)"),
];

#[test]
fn round_trips() {
    for (source, printed) in ROUND_TRIPS {
        let expr = parse(source).unwrap_or_else(|e| panic!("{source}: {e}"));
        assert_eq!(expr.to_string(), *printed, "{source}");
        let again = parse(printed).unwrap_or_else(|e| panic!("{printed}: {e}"));
        assert!(expr.same_as(&again), "{source} and {printed} parse differently");
    }
}

#[test]
fn spans_cover_what_was_written() {
    let expr = parse("  amount > 10  ").expect("parses");
    assert_eq!((expr.span.start, expr.span.end), (2, 13));
    let expr = parse("(a)").expect("parses");
    assert_eq!((expr.span.start, expr.span.end), (0, 3));
}

/// Source, kind, span and message.
const ERRORS: &[(&str, ErrorKind, (usize, usize), &str)] = &[
    ("", ErrorKind::Syntax, (0, 0), "the expression is empty"),
    ("   ", ErrorKind::Syntax, (0, 3), "the expression is empty"),
    ("amount >", ErrorKind::Syntax, (8, 8), "expected an expression, found the end of the expression"),
    ("(amount > 1", ErrorKind::Syntax, (11, 11), "expected `)`, found the end of the expression"),
    ("amount > 1)", ErrorKind::Syntax, (10, 11), "`)` has no opening pair"),
    ("amount > 1 amount", ErrorKind::Syntax, (11, 17), "expected an operator or the end, found `amount`"),
    (
        "a < b < c",
        ErrorKind::Syntax,
        (6, 7),
        "comparisons cannot be chained: join them with `and`, as in `a < b and b < c`",
    ),
    (
        "(a = b = c)",
        ErrorKind::Syntax,
        (7, 8),
        "comparisons cannot be chained: join them with `and`, as in `a < b and b < c`",
    ),
    ("name = 'x'", ErrorKind::Syntax, (7, 8), "strings are written in double quotes: \"text\""),
    ("a && b", ErrorKind::Syntax, (2, 3), "write `and` and `or`"),
    ("!a", ErrorKind::Syntax, (0, 1), "`!` is not an operator; write `not(...)` or `!=`"),
    ("name = \"abc", ErrorKind::Syntax, (7, 11), "this string is not closed with `\"`"),
    ("\"\\q\"", ErrorKind::Syntax, (1, 3), "unknown escape `\\q`; known: \\\" \\\\ \\n \\r \\t \\uXXXX"),
    ("\"\\u12\"", ErrorKind::Syntax, (1, 7), "not a valid unicode escape"),
    ("\"\\uD800x\"", ErrorKind::Syntax, (1, 7), "not a valid unicode escape"),
    ("a /* open", ErrorKind::Syntax, (2, 9), "this comment is not closed with `*/`"),
    (
        "x in 5",
        ErrorKind::Syntax,
        (5, 6),
        "expected a list such as (1, 2) or a range such as [1..10] after `in`, found the number 5",
    ),
    ("x in [1, 2", ErrorKind::Syntax, (10, 10), "expected `,` or `]`, found the end of the expression"),
    ("x in ]1, 2[", ErrorKind::Syntax, (7, 8), "expected `..` in the range, found `,`"),
    (
        "x in [1..2",
        ErrorKind::Syntax,
        (10, 10),
        "expected `]` or `)` to close the range, found the end of the expression",
    ),
    ("x between 1 or 2", ErrorKind::Syntax, (12, 14), "expected `and` in `between … and …`, found `or`"),
    ("not x", ErrorKind::Syntax, (0, 3), "`not` is a function in FEEL: write `not(...)`"),
    ("a and or", ErrorKind::Syntax, (6, 8), "expected an expression, found `or`"),
    ("[1, 2]", ErrorKind::Syntax, (0, 1), "lists are only supported after `in`, as in `x in [1, 2]`"),
    ("supplier.", ErrorKind::Syntax, (9, 9), "expected a field name after `.`, found the end of the expression"),
    ("@", ErrorKind::Syntax, (0, 1), "`@` must be followed by a name such as `@me`"),
    ("@boss", ErrorKind::UnknownName, (0, 5), "unknown `@boss`; known are @me, @party, @unit, @today and @now"),
    (
        "@mee",
        ErrorKind::UnknownName,
        (0, 4),
        "unknown `@mee`; known are @me, @party, @unit, @today and @now; did you mean `me`?",
    ),
    ("12abc", ErrorKind::Syntax, (0, 5), "`12abc` is neither a number nor a name"),
    ("amount # 3", ErrorKind::Syntax, (7, 8), "unexpected character `#`"),
    ("名前 = 1", ErrorKind::Syntax, (0, 3), "unexpected character `名`"),
    ("date(\"2026-02-30\")", ErrorKind::InvalidLiteral, (5, 17), "`2026-02-30` is not a date such as 2026-01-31"),
    (
        "d > date and time(\"2026-01-31T09:00:00\")",
        ErrorKind::InvalidLiteral,
        (18, 39),
        "`2026-01-31T09:00:00` is not a date and time with an offset, such as 2026-01-31T09:30:00+08:00 or 2026-01-31T01:30:00Z",
    ),
    (
        "@\"2026-01-31T09:00:00.0000001Z\"",
        ErrorKind::InvalidLiteral,
        (0, 31),
        "`2026-01-31T09:00:00.0000001Z` is more precise than microseconds",
    ),
    (
        "duration(\"P1Y\")",
        ErrorKind::InvalidLiteral,
        (9, 14),
        "years and months have no fixed length; give days instead",
    ),
    (
        "duration(\"3 days\")",
        ErrorKind::InvalidLiteral,
        (9, 17),
        "`3 days` is not an ISO 8601 duration such as PT1H30M or P2DT4H",
    ),
    (
        "x > 99999999999999999999999999999",
        ErrorKind::NumberTooLarge,
        (4, 33),
        "this number does not fit an exact decimal (at most 28 significant digits)",
    ),
    (
        "x > 0.00000000000000000000000000001",
        ErrorKind::NumberTooLarge,
        (4, 35),
        "this number does not fit an exact decimal (at most 28 significant digits)",
    ),
];

#[test]
fn errors_name_the_place() {
    for (source, kind, (start, end), message) in ERRORS {
        let error = parse(source).expect_err(source);
        assert_eq!(
            (error.kind, error.span.start, error.span.end, error.message.as_str()),
            (*kind, *start, *end, *message),
            "{source}"
        );
    }
}

#[test]
fn huge_number_literals_are_refused_before_reading() {
    let source = format!("x > {}", "9".repeat(1000));
    let error = parse(&source).expect_err("refused");
    assert_eq!((error.kind, error.message.as_str()), (ErrorKind::NumberTooLarge, "this number has too many digits"));
}

#[test]
fn sources_longer_than_the_limit_are_refused() {
    let megabyte = format!("amount > {}", "1 + ".repeat(256 * 1024));
    let error = parse(&megabyte).expect_err("refused");
    assert_eq!(error.kind, ErrorKind::TooLong);
    assert_eq!(error.message, format!("the expression is {} bytes long; at most 4096 are allowed", megabyte.len()));

    let small = Limits { max_source_len: 10, ..Limits::default() };
    assert_eq!(parse_with("amount > 100", &small).expect_err("refused").kind, ErrorKind::TooLong);
    assert!(parse_with("amount > 1", &small).is_ok());
}

/// Deep nesting of every kind is refused with an error, never a stack overflow, even when
/// the source limit is raised far above what the default allows.
#[test]
fn deep_nesting_is_refused() {
    let roomy = Limits { max_source_len: 2_000_000, ..Limits::default() };
    let n = 10_000;
    let cases = [
        format!("{}x{}", "(".repeat(n), ")".repeat(n)),
        format!("{}x{}", "not(".repeat(n), ")".repeat(n)),
        format!("{}1", "-".repeat(n)),
        format!("x{}", " + x".repeat(n)),
        format!("x{}", " * x".repeat(n)),
        format!("a{}", " and a".repeat(n)),
        format!("a{}", " or a".repeat(n)),
        format!("{}x{}", "f(".repeat(n), ")".repeat(n)),
        format!("{}x{}", "x in [".repeat(n), "]".repeat(n)),
        format!("x = {}", "(x = ".repeat(n)),
    ];
    for source in &cases {
        let error = parse_with(source, &roomy).expect_err("refused");
        assert_eq!(error.kind, ErrorKind::TooDeep, "{}", &source[..20]);
        assert_eq!(error.message, "the expression is nested more than 64 levels deep");
    }
    // With the default limits the same inputs are too long before they are too deep.
    assert_eq!(parse(&cases[0]).expect_err("refused").kind, ErrorKind::TooLong);
    // Up to the limit is fine.
    let fine = format!("{}x{}", "(".repeat(64), ")".repeat(64));
    assert!(parse(&fine).is_ok());
    assert_eq!(parse(&format!("{}x{}", "(".repeat(65), ")".repeat(65))).expect_err("deep").kind, ErrorKind::TooDeep);
}
