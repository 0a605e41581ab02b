use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

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
    /// Load a realistic sample company (a manufacturer with its people, ~40 suppliers with
    /// portal contacts, ~200 items and ~1,500 purchase orders of the last 12 months) and
    /// print how to sign in. Only into a workspace without procurement records; a second
    /// run changes nothing and fails.
    Demo {
        /// `full` (the realistic default) or `small` (8 suppliers, 80 orders: for tests).
        #[arg(long, value_enum, default_value_t = DemoScale::Full)]
        scale: DemoScale,
        /// The same seed makes the same company (as of today's date).
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
    /// Audit log tools.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// People and service accounts: the first administrator, password recovery, lockout.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// API tokens for scripts and integrations.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Configuration helpers.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Print the version.
    Version,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DemoScale {
    Small,
    Full,
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

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a member (or, with --service, a service account). Without --password-stdin a
    /// password is generated and printed once.
    Create {
        /// The sign-in name (an e-mail address is usual).
        #[arg(long)]
        login: String,
        /// The name shown to others (default: the login).
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        email: Option<String>,
        /// A role to hold (`admin`, `employee`, or one an administrator defined). May be
        /// repeated; default `employee`.
        #[arg(long = "role", value_name = "ROLE")]
        roles: Vec<String>,
        /// A service account: signs in with API tokens only (`weft token create`).
        #[arg(long)]
        service: bool,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password (lifts a lockout and ends every session of the user). Without
    /// --password-stdin a password is generated and printed once.
    ResetPassword {
        #[arg(long)]
        login: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable a principal: its sessions and tokens stop working at once.
    Disable {
        #[arg(long)]
        login: String,
    },
    /// Enable a disabled principal again.
    Enable {
        #[arg(long)]
        login: String,
    },
    /// List principals (login, kind, status, roles).
    List,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make an API token for a member or a service account; the secret is printed once.
    Create {
        /// The member or service account the token acts as.
        #[arg(long)]
        login: String,
        /// What the token is for.
        #[arg(long, default_value = "cli")]
        name: String,
        /// Limit the token to these roles (the owner must hold them); default: all of the
        /// owner's roles. May be repeated.
        #[arg(long = "role", value_name = "ROLE")]
        roles: Vec<String>,
        /// Expire after this many days (default: never).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3650))]
        expires_days: Option<u32>,
    },
}
