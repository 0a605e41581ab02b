use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Weft: one workspace for a company and the partners it works with.
#[derive(Debug, Parser)]
#[command(name = "weft", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct CommonArgs {
    /// The data folder: holds weft.toml, the SQLite database and attachments.
    #[arg(long, global = true, env = "WEFT_DATA", default_value = "./data", value_name = "DIR")]
    pub data: PathBuf,
    /// Database URL (postgres://user:pass@host:5432/db or sqlite:PATH). Default: SQLite in
    /// the data folder. Also read from WEFT_DATABASE_URL or weft.toml.
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database and serve the API and web UI.
    Serve {
        /// Address to listen on.
        #[arg(long, value_name = "ADDR")]
        bind: Option<SocketAddr>,
    },
    /// Apply pending database migrations and app manifests (does nothing when current).
    Migrate {
        /// Print what would be applied, change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Apply declaration changes that remove or narrow fields (old data is kept in
        /// backup columns).
        #[arg(long)]
        allow_destructive: bool,
        /// An app manifest (JSON) to install besides the built-in apps and
        /// `<data>/apps/*.json`. May be repeated.
        #[arg(long = "manifest", value_name = "FILE")]
        manifests: Vec<PathBuf>,
    },
    /// Audit log tools.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Configuration helpers.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Print the version.
    Version,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the audit hash chain; name the first entry that was altered or removed.
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print a commented weft.toml with every setting and its default.
    Example,
    /// Print the effective configuration (secrets redacted) and where each part came from.
    Show,
}
