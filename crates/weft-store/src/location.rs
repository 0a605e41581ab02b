//! Where the database lives, parsed from `database_url` (or defaulted to the data folder),
//! with a rendering that is safe to print: passwords never leave this module.

use std::fmt;
use std::path::{Path, PathBuf};

use url::Url;

use crate::{Error, Result};

#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseLocation {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL server; the URL may carry a password, so it is only shown redacted.
    Postgres(Url),
}

impl DatabaseLocation {
    /// `url` as configured, or `None` for the default SQLite file in `data_dir`.
    pub fn parse(url: Option<&str>, data_dir: &Path) -> Result<Self> {
        let Some(raw) = url.map(str::trim).filter(|u| !u.is_empty()) else {
            return Ok(DatabaseLocation::Sqlite(data_dir.join("weft.db")));
        };
        if let Some(rest) = raw.strip_prefix("sqlite://").or_else(|| raw.strip_prefix("sqlite:")) {
            let path = rest.split('?').next().unwrap_or_default();
            if path.is_empty() {
                return Err(Error::InvalidUrl { url: raw.to_owned(), reason: "no file path after sqlite:".into() });
            }
            return Ok(DatabaseLocation::Sqlite(PathBuf::from(path)));
        }
        let parsed = Url::parse(raw).map_err(|e| Error::InvalidUrl {
            // An unparseable URL cannot be redacted structurally, so none of it is shown.
            url: "(not shown)".into(),
            reason: e.to_string(),
        })?;
        match parsed.scheme() {
            "postgres" | "postgresql" => {
                if parsed.host_str().is_none() && !parsed.query_pairs().any(|(k, _)| k == "host") {
                    return Err(Error::InvalidUrl {
                        url: redact(&parsed),
                        reason: "no host; expected postgres://user@host:5432/database".into(),
                    });
                }
                Ok(DatabaseLocation::Postgres(parsed))
            }
            other => Err(Error::InvalidUrl {
                url: redact(&parsed),
                reason: format!(
                    "unsupported scheme `{other}`; use postgres://… or sqlite:PATH (or leave unset for SQLite in the data folder)"
                ),
            }),
        }
    }

    /// A rendering safe for logs and error messages.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseLocation::Sqlite(path) => format!("sqlite:{}", path.display()),
            DatabaseLocation::Postgres(url) => redact(url),
        }
    }

    /// `host:port` (or the file path) for messages about reaching the database.
    pub fn target(&self) -> String {
        match self {
            DatabaseLocation::Sqlite(path) => path.display().to_string(),
            DatabaseLocation::Postgres(url) => {
                format!("{}:{}", url.host_str().unwrap_or("localhost"), url.port().unwrap_or(5432))
            }
        }
    }
}

impl fmt::Debug for DatabaseLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Display for DatabaseLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

fn redact(url: &Url) -> String {
    let mut shown = url.clone();
    if shown.password().is_some() {
        let _ = shown.set_password(Some("redacted"));
    }
    // Passwords can also ride in the query string (`?password=`).
    let pairs: Vec<(String, String)> = shown
        .query_pairs()
        .map(|(k, v)| {
            let v = if k.eq_ignore_ascii_case("password") { "redacted".to_owned() } else { v.into_owned() };
            (k.into_owned(), v)
        })
        .collect();
    if !pairs.is_empty() {
        shown.query_pairs_mut().clear().extend_pairs(pairs);
    }
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_sqlite_in_data_dir() {
        let loc = DatabaseLocation::parse(None, Path::new("/srv/weft")).unwrap();
        assert_eq!(loc, DatabaseLocation::Sqlite(PathBuf::from("/srv/weft/weft.db")));
        let loc = DatabaseLocation::parse(Some("  "), Path::new("d")).unwrap();
        assert_eq!(loc, DatabaseLocation::Sqlite(PathBuf::from("d/weft.db")));
    }

    #[test]
    fn sqlite_urls() {
        let loc = DatabaseLocation::parse(Some("sqlite:///tmp/x.db"), Path::new("d")).unwrap();
        assert_eq!(loc, DatabaseLocation::Sqlite(PathBuf::from("/tmp/x.db")));
        let loc = DatabaseLocation::parse(Some("sqlite:rel.db?mode=rwc"), Path::new("d")).unwrap();
        assert_eq!(loc, DatabaseLocation::Sqlite(PathBuf::from("rel.db")));
        assert!(DatabaseLocation::parse(Some("sqlite:"), Path::new("d")).is_err());
    }

    #[test]
    fn postgres_password_never_shown() {
        let loc = DatabaseLocation::parse(
            Some("postgres://weft:s3cret@db.internal:6543/weft?password=s3cret&sslmode=require"),
            Path::new("d"),
        )
        .unwrap();
        for shown in [loc.redacted(), format!("{loc:?}"), format!("{loc}"), loc.target()] {
            assert!(!shown.contains("s3cret"), "{shown}");
        }
        assert_eq!(loc.target(), "db.internal:6543");
        assert!(loc.redacted().contains("sslmode=require"));
    }

    #[test]
    fn unsupported_scheme_is_refused_without_password() {
        let err = DatabaseLocation::parse(Some("mysql://u:topsecret@h/db"), Path::new("d")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("unsupported scheme `mysql`"), "{msg}");
        assert!(!msg.contains("topsecret"), "{msg}");
        let err = DatabaseLocation::parse(Some("not a url with secret"), Path::new("d")).unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
    }
}
