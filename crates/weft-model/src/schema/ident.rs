//! The names a declaration may use. Type, field and state names become table and column
//! names and FEEL variable names, so they must be safe in all three without quoting.

/// Columns every record table has; a declared field may not take their names.
pub const SYSTEM_COLUMNS: [&str; 12] = [
    "id",
    "number",
    "state",
    "owner",
    "party",
    "unit",
    "version",
    "created_at",
    "updated_at",
    "deleted_at",
    "created_by",
    "updated_by",
];

/// Columns every child-line table has besides `id`.
pub const LINE_SYSTEM_COLUMNS: [&str; 3] = ["id", "record_id", "position"];

/// Words reserved in PostgreSQL or SQLite: a column so named would need quoting everywhere.
const SQL_RESERVED: &str = "\
    abort all alter analyse analyze and any array as asc asymmetric authorization autoincrement between \
    binary both by case cast check collate collation column commit concurrently constraint create cross \
    current_catalog current_date current_role current_schema current_time current_timestamp current_user \
    default deferrable delete desc distinct do drop else end escape except exists false fetch for \
    foreign freeze from full glob grant group having ilike in index initially inner insert intersect \
    into is isnull join key lateral leading left like limit localtime localtimestamp match natural not \
    notnull null offset on only or order outer overlaps placing pragma primary references regexp \
    returning right rollback row rows select session_user set similar some symmetric system_user table \
    tablesample then to trailing transaction true union unique update user using vacuum values variadic \
    verbose when where window with";

/// Hidden system columns of PostgreSQL and SQLite.
const HIDDEN_COLUMNS: &str = "oid ctid xmin xmax cmin cmax tableoid rowid _rowid_";

/// FEEL keywords not already above: field names are FEEL variable names.
const FEEL_KEYWORDS: &str = "if return every satisfies instance of function external";

/// Why a name cannot be used; `None` when it can.
pub fn identifier_problem(name: &str) -> Option<&'static str> {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return Some("must not be empty");
    };
    if !first.is_ascii_lowercase() {
        return Some("must start with a lowercase letter a-z");
    }
    if !chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
        return Some("may contain only lowercase letters a-z, digits and underscores");
    }
    if name.len() > 63 {
        return Some("must be at most 63 characters");
    }
    None
}

pub fn is_reserved_word(name: &str) -> bool {
    [SQL_RESERVED, HIDDEN_COLUMNS, FEEL_KEYWORDS].iter().any(|words| words.split_whitespace().any(|w| w == name))
}

pub fn is_system_column(name: &str) -> bool {
    SYSTEM_COLUMNS.contains(&name)
}

pub fn is_line_system_column(name: &str) -> bool {
    LINE_SYSTEM_COLUMNS.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        let cases = [
            ("order_date", None),
            ("a", None),
            ("x1_2", None),
            ("", Some("must not be empty")),
            ("Order", Some("must start with a lowercase letter a-z")),
            ("_x", Some("must start with a lowercase letter a-z")),
            ("1x", Some("must start with a lowercase letter a-z")),
            ("order-date", Some("may contain only lowercase letters a-z, digits and underscores")),
            ("préface", Some("may contain only lowercase letters a-z, digits and underscores")),
        ];
        for (name, expected) in cases {
            assert_eq!(identifier_problem(name), expected, "{name:?}");
        }
        assert_eq!(identifier_problem(&"a".repeat(63)), None);
        assert_eq!(identifier_problem(&"a".repeat(64)), Some("must be at most 63 characters"));
    }

    #[test]
    fn reserved() {
        for word in
            ["select", "from", "where", "order", "group", "user", "table", "if", "abort", "with", "_rowid_", "external"]
        {
            assert!(is_reserved_word(word), "{word}");
        }
        assert!(!is_reserved_word("supplier"));
        assert!(is_system_column("created_at"));
        assert!(!is_system_column("order_date"));
    }
}
