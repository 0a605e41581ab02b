//! Configuration: defaults → `<data>/weft.toml` → `WEFT_*` environment (`__` nests) → flags.
//!
//! Unknown keys (a typo in the file or in an environment variable) and insecure settings
//! are reported as warnings rather than silently ignored. Secrets are wrapped in `Secret`,
//! whose `Debug` and `Serialize` never show the value.

use std::collections::BTreeSet;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use weft_store::{DatabaseLocation, StoreOptions, Synchronous};
use weft_workspace::identity::{AuthSettings, CookieSecure};

use crate::cli::CommonArgs;

pub const ENV_PREFIX: &str = "WEFT_";
/// `WEFT_*` variables that are not configuration keys: read by clap or by the test kit.
const ENV_NOT_CONFIG: &[&str] = &["data", "test_database_url", "test_require_postgres"];

/// A value that must not appear in logs, `Debug` output or `config show`.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(redacted)")
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("redacted")
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Unset: SQLite at `<data>/weft.db`. May carry a password, hence `Secret`.
    pub database_url: Option<Secret>,
    pub database: DatabaseConfig,
    pub server: ServerConfig,
    pub auth: AuthConfig,
    pub attachments: AttachmentsConfig,
    pub smtp: SmtpConfig,
    pub delivery: DeliveryConfig,
    pub processes: ProcessesConfig,
    pub log: LogConfig,
}

/// The process engine's job worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ProcessesConfig {
    /// How long a claimed job (a timer, a service task) is held before another worker may
    /// take it over: a node that dies mid-job leaves its jobs locked that long. Longer than
    /// any job runs; at most a day.
    pub job_lock_secs: u64,
}

impl Default for ProcessesConfig {
    fn default() -> Self {
        ProcessesConfig { job_lock_secs: 300 }
    }
}

/// Outgoing e-mail. Without a host nothing is mailed (IM robots still get their cards).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SmtpConfig {
    pub host: Option<String>,
    pub port: u16,
    /// `starttls` (required), `tls` (implicit, usually port 465) or `none` (a local relay).
    pub tls: String,
    /// The sender: `Weft <weft@example.com>` or a bare address.
    pub from: String,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub timeout_secs: u64,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            host: None,
            port: 587,
            tls: "starttls".into(),
            from: "Weft <weft@localhost>".into(),
            username: None,
            password: None,
            timeout_secs: 15,
        }
    }
}

/// Delivery outward (e-mail and IM robots): retries and timeouts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct DeliveryConfig {
    /// Run the delivery consumer and worker in `weft serve`.
    pub enabled: bool,
    /// Attempts before a delivery becomes a dead letter.
    pub max_attempts: u32,
    /// The wait after the first failure, doubled after each further one up to the maximum.
    pub first_retry_secs: u64,
    pub max_retry_secs: u64,
    /// Time allowed to a robot's webhook (connect and answer).
    pub http_timeout_secs: u64,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            enabled: true,
            max_attempts: 8,
            first_retry_secs: 30,
            max_retry_secs: 3600,
            http_timeout_secs: 10,
        }
    }
}

/// Files attached to records and messages.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AttachmentsConfig {
    /// Where content is stored; unset: `<data>/blobs`.
    pub dir: Option<PathBuf>,
    /// The largest file accepted, in MiB.
    pub max_file_mb: u64,
    /// All stored content together, in GiB.
    pub quota_gb: u64,
    /// An S3-compatible store instead of the folder (what several nodes share).
    pub s3: Option<S3Config>,
}

impl Default for AttachmentsConfig {
    fn default() -> Self {
        AttachmentsConfig { dir: None, max_file_mb: 25, quota_gb: 10, s3: None }
    }
}

/// `[attachments.s3]`: where the bucket is and how to sign in to it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Config {
    pub bucket: String,
    /// A non-AWS service (`https://minio.example.com:9000`); unset: AWS.
    pub endpoint: Option<String>,
    #[serde(default = "default_region")]
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: Secret,
    /// Keys go under this folder of the bucket.
    pub prefix: Option<String>,
    /// Allow a plain `http://` endpoint (a store on the same private network).
    #[serde(default)]
    pub allow_http: bool,
}

fn default_region() -> String {
    "us-east-1".into()
}

/// Sign-in: session lifetimes, lockout and throttling, the session cookie.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthConfig {
    /// A session unused for this long ends.
    pub session_idle_minutes: u64,
    /// A session ends this long after sign-in, however busy.
    pub session_absolute_hours: u64,
    /// Consecutive failed sign-ins that lock an account.
    pub lockout_threshold: u32,
    pub lockout_minutes: u64,
    /// Failed sign-ins from one address within the window before it gets 429.
    pub ip_failure_limit: u32,
    pub ip_window_minutes: u64,
    /// `Secure` on the session cookie: auto (when the proxy says HTTPS, or always with
    /// `server.behind_tls`), always, never.
    pub cookie_secure: String,
    /// How long a guest invitation can be accepted.
    pub invitation_days: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        let d = AuthSettings::default();
        AuthConfig {
            session_idle_minutes: d.session_idle.as_secs() / 60,
            session_absolute_hours: d.session_absolute.as_secs() / 3600,
            lockout_threshold: d.lockout_threshold,
            lockout_minutes: d.lockout_duration.as_secs() / 60,
            ip_failure_limit: d.ip_failure_limit,
            ip_window_minutes: d.ip_window.as_secs() / 60,
            cookie_secure: "auto".into(),
            invitation_days: d.invitation_lifetime.as_secs() / 86_400,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct DatabaseConfig {
    /// SQLite `synchronous`: off, normal, full (default, durable) or extra.
    pub sqlite_synchronous: String,
    pub max_connections: u32,
    pub connect_timeout_secs: u64,
    pub busy_timeout_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerConfig {
    pub bind: SocketAddr,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Set when a reverse proxy terminates TLS in front of Weft (cookies get `Secure`).
    pub behind_tls: bool,
    /// The built web UI. Relative paths are taken from the working directory.
    pub web_dir: PathBuf,
    /// The address people reach Weft at (`https://weft.example.com`), for links in e-mails
    /// and robot cards; unset: `http://<bind>`.
    pub public_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A tracing filter such as `info` or `weft=debug,sqlx=warn`; `RUST_LOG` overrides it.
    pub filter: String,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            sqlite_synchronous: "full".into(),
            max_connections: 16,
            connect_timeout_secs: 5,
            busy_timeout_ms: 5000,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: 2 * 1024 * 1024,
            behind_tls: false,
            web_dir: PathBuf::from("web/dist"),
            public_url: None,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig { format: LogFormat::Text, filter: "info".into() }
    }
}

/// The loaded configuration and what was noticed while loading it.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    pub data_dir: PathBuf,
    pub warnings: Vec<String>,
}

/// Flags that override configuration keys.
#[derive(Debug, Default)]
pub struct Overrides {
    pub bind: Option<SocketAddr>,
}

pub fn load(common: &CommonArgs, overrides: &Overrides) -> anyhow::Result<Loaded> {
    load_from(common, overrides, std::env::vars())
}

pub fn load_from(
    common: &CommonArgs,
    overrides: &Overrides,
    env: impl IntoIterator<Item = (String, String)>,
) -> anyhow::Result<Loaded> {
    let data_dir = common.data.clone();
    let file = data_dir.join("weft.toml");
    let env: Vec<(String, String)> = env.into_iter().filter(|(k, _)| k.starts_with(ENV_PREFIX)).collect();

    let mut figment = Figment::from(Serialized::defaults(Config::default())).merge(Toml::file(&file));
    figment = merge_env(figment, &env);
    if let Some(url) = &common.database_url {
        figment = figment.merge(("database_url", url));
    }
    if let Some(bind) = overrides.bind {
        figment = figment.merge(("server.bind", bind.to_string()));
    }

    let config: Config = figment.extract().map_err(|e| anyhow::anyhow!(describe_figment_error(e, &env)))?;

    let mut warnings = unknown_keys(&figment, &file, &env);
    warnings.extend(insecure_settings(&config));
    Ok(Loaded { config, data_dir, warnings })
}

/// The environment layer: `WEFT_SERVER__BIND=…` sets `server.bind`, as figment's `Env`
/// with `split("__")` would, but from the variables given (tests stay hermetic).
fn merge_env(mut figment: Figment, env: &[(String, String)]) -> Figment {
    for (key, value) in env {
        let path = env_key_path(key);
        if ENV_NOT_CONFIG.contains(&path.as_str()) {
            continue;
        }
        let parsed: figment::value::Value =
            value.parse().unwrap_or_else(|_| figment::value::Value::from(value.clone()));
        figment = figment.merge((path, parsed));
    }
    figment
}

fn env_key_path(var: &str) -> String {
    var[ENV_PREFIX.len()..].to_ascii_lowercase().replace("__", ".")
}

fn describe_figment_error(err: figment::Error, env: &[(String, String)]) -> String {
    let mut out = String::from("invalid configuration");
    for e in err {
        let key = e.path.join(".");
        let env_name = format!("{ENV_PREFIX}{}", key.to_ascii_uppercase().replace('.', "__"));
        let source = match e.metadata.as_ref().and_then(|m| m.source.as_ref()) {
            Some(figment::Source::File(p)) => format!("in {}", p.display()),
            _ if env.iter().any(|(k, _)| k.eq_ignore_ascii_case(&env_name)) => {
                format!("from environment variable {env_name}")
            }
            _ => "from the command line".to_owned(),
        };
        out.push_str(&format!("\n  - `{key}` {source}: {}", e.kind));
    }
    out
}

/// Every dotted key the configuration knows, derived from the defaults.
fn known_keys() -> BTreeSet<String> {
    fn walk(prefix: &str, value: &serde_json::Value, out: &mut BTreeSet<String>) {
        if let serde_json::Value::Object(map) = value {
            for (k, v) in map {
                let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                out.insert(path.clone());
                walk(&path, v, out);
            }
        }
    }
    let mut out = BTreeSet::new();
    walk("", &serde_json::to_value(Config::default()).unwrap_or_default(), &mut out);
    out
}

fn unknown_keys(figment: &Figment, file: &Path, env: &[(String, String)]) -> Vec<String> {
    let known = known_keys();
    let mut warnings = Vec::new();
    let Ok(value) = figment.extract::<figment::value::Value>() else {
        return warnings;
    };
    let mut stack = vec![(String::new(), value)];
    while let Some((prefix, value)) = stack.pop() {
        let figment::value::Value::Dict(_, dict) = value else {
            continue;
        };
        for (k, v) in dict {
            let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
            if !known.contains(&path) {
                let from_env = env.iter().find(|(k, _)| {
                    let p = env_key_path(k);
                    p == path || p.starts_with(&format!("{path}."))
                });
                let source = match from_env {
                    Some((var, _)) => format!("environment variable {var}"),
                    None => file.display().to_string(),
                };
                warnings.push(format!(
                    "unknown configuration key `{path}` from {source}; it is ignored (see `weft config example`)"
                ));
            } else {
                stack.push((path, v));
            }
        }
    }
    warnings.sort();
    warnings
}

fn insecure_settings(config: &Config) -> Vec<String> {
    let mut warnings = Vec::new();
    if !config.server.bind.ip().is_loopback() && !config.server.behind_tls {
        warnings.push(format!(
            "listening on {} (reachable from the network) without TLS termination: passwords and session \
             cookies would cross the network in clear text. Put a TLS proxy in front and set \
             server.behind_tls = true, or bind to 127.0.0.1",
            config.server.bind
        ));
    }
    if !config.server.bind.ip().is_loopback() {
        warnings.push(
            "this build has no sign-in yet: anyone who can reach the API acts as the workspace's system \
             principal. Keep it on 127.0.0.1 until the identity features are in place"
                .to_owned(),
        );
    }
    if let Some(host) = &config.smtp.host
        && config.smtp.tls.eq_ignore_ascii_case("none")
        && config.smtp.password.is_some()
        && !matches!(host.as_str(), "127.0.0.1" | "localhost" | "::1")
    {
        warnings
            .push(format!("smtp.tls = \"none\" sends the SMTP password to {host} in clear text; use starttls or tls"));
    }
    if config.database.sqlite_synchronous.eq_ignore_ascii_case("off") {
        warnings
            .push("database.sqlite_synchronous = \"off\": a power loss can corrupt the database; use \"full\"".into());
    }
    if let Some(url) = &config.database_url {
        let lower = url.expose().to_ascii_lowercase();
        if lower.starts_with("postgres")
            && lower.contains("sslmode=disable")
            && !lower.contains("@127.")
            && !lower.contains("@localhost")
        {
            warnings.push("database_url disables TLS (sslmode=disable) to a remote PostgreSQL server".into());
        }
    }
    warnings
}

impl Config {
    pub fn store_options(&self, data_dir: &Path) -> anyhow::Result<StoreOptions> {
        let location = DatabaseLocation::parse(self.database_url.as_ref().map(Secret::expose), data_dir)?;
        let mut options = StoreOptions::new(location);
        options.sqlite_synchronous = self
            .database
            .sqlite_synchronous
            .parse::<Synchronous>()
            .map_err(|e| anyhow::anyhow!("invalid database.sqlite_synchronous: {e}"))?;
        options.max_connections = self.database.max_connections;
        options.connect_timeout = Duration::from_secs(self.database.connect_timeout_secs);
        options.busy_timeout = Duration::from_millis(self.database.busy_timeout_ms);
        Ok(options)
    }

    pub fn auth_settings(&self) -> anyhow::Result<AuthSettings> {
        let a = &self.auth;
        let positive = |key: &str, v: u64| {
            if v == 0 { Err(anyhow::anyhow!("invalid auth.{key}: must be at least 1")) } else { Ok(v) }
        };
        let mut cookie_secure =
            a.cookie_secure.parse::<CookieSecure>().map_err(|e| anyhow::anyhow!("invalid auth.cookie_secure: {e}"))?;
        if self.server.behind_tls && cookie_secure == CookieSecure::Auto {
            cookie_secure = CookieSecure::Always;
        }
        let idle = positive("session_idle_minutes", a.session_idle_minutes)?;
        let absolute = positive("session_absolute_hours", a.session_absolute_hours)?;
        if idle > absolute * 60 {
            anyhow::bail!("invalid auth.session_idle_minutes: longer than auth.session_absolute_hours");
        }
        Ok(AuthSettings {
            session_idle: Duration::from_secs(idle * 60),
            session_absolute: Duration::from_secs(absolute * 3600),
            lockout_threshold: u32::try_from(positive("lockout_threshold", u64::from(a.lockout_threshold))?)?,
            lockout_duration: Duration::from_secs(positive("lockout_minutes", a.lockout_minutes)? * 60),
            ip_failure_limit: u32::try_from(positive("ip_failure_limit", u64::from(a.ip_failure_limit))?)?,
            ip_window: Duration::from_secs(positive("ip_window_minutes", a.ip_window_minutes)? * 60),
            cookie_secure,
            invitation_lifetime: Duration::from_secs(positive("invitation_days", a.invitation_days)? * 86_400),
            ..AuthSettings::default()
        })
    }

    pub fn server_options(&self) -> weft_server::ServerOptions {
        weft_server::ServerOptions {
            max_body_bytes: self.server.max_body_bytes,
            max_upload_bytes: usize::try_from(self.attachment_limits().max_file_bytes).unwrap_or(usize::MAX),
            web_dir: Some(self.server.web_dir.clone()),
            ..weft_server::ServerOptions::default()
        }
    }

    pub fn attachment_limits(&self) -> weft_workspace::collab::AttachmentLimits {
        weft_workspace::collab::AttachmentLimits {
            max_file_bytes: self.attachments.max_file_mb.max(1).saturating_mul(1024 * 1024),
            quota_bytes: self.attachments.quota_gb.max(1).saturating_mul(1024 * 1024 * 1024),
        }
    }

    /// Delivery outward: links, the SMTP server, retries, timeouts.
    /// The process job lock, checked (1 second to a day).
    pub fn process_job_lock(&self) -> anyhow::Result<std::time::Duration> {
        let secs = self.processes.job_lock_secs;
        if !(1..=86_400).contains(&secs) {
            anyhow::bail!("invalid processes.job_lock_secs: {secs} (1 to 86400 seconds)");
        }
        Ok(std::time::Duration::from_secs(secs))
    }

    pub fn delivery_config(&self) -> anyhow::Result<weft_workspace::collab::delivery::DeliveryConfig> {
        use weft_workspace::collab::delivery::{DeliveryConfig as Out, RetryPolicy, SmtpSettings, SmtpTls};
        let d = &self.delivery;
        if d.max_attempts == 0 || d.first_retry_secs == 0 || d.http_timeout_secs == 0 {
            anyhow::bail!(
                "invalid delivery settings: max_attempts, first_retry_secs and http_timeout_secs must be at least 1"
            );
        }
        if d.max_retry_secs < d.first_retry_secs {
            anyhow::bail!("invalid delivery.max_retry_secs: shorter than delivery.first_retry_secs");
        }
        let public_url = match &self.server.public_url {
            Some(url) => {
                let parsed =
                    url::Url::parse(url).map_err(|e| anyhow::anyhow!("invalid server.public_url `{url}`: {e}"))?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    anyhow::bail!("invalid server.public_url `{url}`: must be http or https");
                }
                url.trim_end_matches('/').to_owned()
            }
            None => format!("http://{}", self.server.bind),
        };
        let smtp = match self.smtp.host.as_deref().map(str::trim).filter(|h| !h.is_empty()) {
            None => None,
            Some(host) => Some(SmtpSettings {
                host: host.to_owned(),
                port: self.smtp.port,
                tls: self.smtp.tls.parse::<SmtpTls>().map_err(|e| anyhow::anyhow!("invalid smtp.tls: {e}"))?,
                from: self.smtp.from.clone(),
                username: self.smtp.username.clone(),
                password: self.smtp.password.as_ref().map(|p| p.expose().to_owned()),
                timeout: Duration::from_secs(self.smtp.timeout_secs.max(1)),
            }),
        };
        Ok(Out {
            public_url,
            smtp,
            retry: RetryPolicy {
                max_attempts: d.max_attempts,
                first_delay: Duration::from_secs(d.first_retry_secs),
                max_delay: Duration::from_secs(d.max_retry_secs),
            },
            http_timeout: Duration::from_secs(d.http_timeout_secs),
            ..Out::default()
        })
    }

    /// Where attachments are stored: the S3 bucket when `[attachments.s3]` says so, else
    /// the folder.
    pub fn blob_store(&self, data_dir: &Path) -> anyhow::Result<weft_workspace::collab::BlobStore> {
        use weft_workspace::collab::{BlobStore, S3Options};
        let limits = self.attachment_limits();
        let Some(s3) = &self.attachments.s3 else {
            return Ok(BlobStore::local(&self.blobs_dir(data_dir), limits)?);
        };
        if s3.bucket.trim().is_empty() {
            anyhow::bail!("invalid attachments.s3.bucket: empty");
        }
        if let Some(endpoint) = &s3.endpoint {
            let plain = endpoint.starts_with("http://");
            if !(plain || endpoint.starts_with("https://")) {
                anyhow::bail!("invalid attachments.s3.endpoint: `{endpoint}` is not an http(s) URL");
            }
            if plain && !s3.allow_http {
                anyhow::bail!(
                    "invalid attachments.s3.endpoint: `{endpoint}` is plain http; set attachments.s3.allow_http = true if that is meant"
                );
            }
        }
        let options = S3Options {
            bucket: s3.bucket.clone(),
            endpoint: s3.endpoint.clone(),
            region: s3.region.clone(),
            access_key_id: s3.access_key_id.clone(),
            secret_access_key: s3.secret_access_key.expose().to_owned(),
            prefix: s3.prefix.clone(),
            allow_http: s3.allow_http,
        };
        BlobStore::s3(&options, limits).map_err(|e| anyhow::anyhow!("invalid attachments.s3: {e}"))
    }

    /// The attachment folder: `attachments.dir`, or `<data>/blobs`.
    pub fn blobs_dir(&self, data_dir: &Path) -> PathBuf {
        self.attachments.dir.clone().unwrap_or_else(|| data_dir.join("blobs"))
    }
}

/// `weft config example`: every key, commented, with its default.
pub const EXAMPLE: &str = include_str!("weft.example.toml");

#[cfg(test)]
mod tests {
    use super::*;

    fn common(dir: &Path) -> CommonArgs {
        CommonArgs { data: dir.to_path_buf(), database_url: None }
    }

    fn load_env(dir: &Path, env: &[(&str, &str)]) -> anyhow::Result<Loaded> {
        load_from(&common(dir), &Overrides::default(), env.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn defaults_without_file_or_env() {
        let dir = tempfile::tempdir().unwrap();
        let loaded = load_env(dir.path(), &[]).unwrap();
        assert_eq!(loaded.config.server.bind.to_string(), "127.0.0.1:8080");
        assert!(loaded.config.database_url.is_none());
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    }

    #[test]
    fn layers_apply_in_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("weft.toml"),
            "[server]\nbind = \"127.0.0.1:9000\"\nmax_body_bytes = 10\n[log]\nformat = \"json\"\n",
        )
        .unwrap();
        let loaded = load_env(dir.path(), &[("WEFT_SERVER__MAX_BODY_BYTES", "20")]).unwrap();
        assert_eq!(loaded.config.server.bind.to_string(), "127.0.0.1:9000", "file beats defaults");
        assert_eq!(loaded.config.server.max_body_bytes, 20, "env beats file");
        assert_eq!(loaded.config.log.format, LogFormat::Json);

        let overrides = Overrides { bind: Some("127.0.0.1:9100".parse().unwrap()) };
        let mut args = common(dir.path());
        args.database_url = Some("postgres://u:pw@h/db".into());
        let loaded =
            load_from(&args, &overrides, [("WEFT_DATABASE_URL".to_string(), "sqlite:x.db".to_string())]).unwrap();
        assert_eq!(loaded.config.server.bind.to_string(), "127.0.0.1:9100", "flag beats file");
        assert_eq!(loaded.config.database_url.unwrap().expose(), "postgres://u:pw@h/db", "flag beats env");
    }

    #[test]
    fn unknown_env_and_file_keys_are_warned() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("weft.toml"), "[server]\nbnd = \"x\"\n").unwrap();
        let loaded = load_env(
            dir.path(),
            &[("WEFT_SERVR__BIND", "x"), ("WEFT_DATA", "elsewhere"), ("WEFT_TEST_DATABASE_URL", "x")],
        )
        .unwrap();
        let all = loaded.warnings.join("\n");
        assert!(all.contains("`server.bnd`") && all.contains("weft.toml"), "{all}");
        assert!(all.contains("`servr`") && all.contains("WEFT_SERVR"), "{all}");
        assert_eq!(loaded.warnings.len(), 2, "{all}");
    }

    #[test]
    fn public_bind_without_tls_is_warned() {
        let dir = tempfile::tempdir().unwrap();
        let loaded = load_env(dir.path(), &[("WEFT_SERVER__BIND", "0.0.0.0:8080")]).unwrap();
        assert!(loaded.warnings.iter().any(|w| w.contains("without TLS")), "{:?}", loaded.warnings);
        let loaded =
            load_env(dir.path(), &[("WEFT_SERVER__BIND", "0.0.0.0:8080"), ("WEFT_SERVER__BEHIND_TLS", "true")])
                .unwrap();
        assert!(!loaded.warnings.iter().any(|w| w.contains("without TLS")), "{:?}", loaded.warnings);
        // Until sign-in exists, reaching beyond this machine is warned about regardless.
        assert!(loaded.warnings.iter().any(|w| w.contains("no sign-in")), "{:?}", loaded.warnings);
    }

    #[test]
    fn bad_value_names_key_and_source() {
        let dir = tempfile::tempdir().unwrap();
        let err = load_env(dir.path(), &[("WEFT_SERVER__MAX_BODY_BYTES", "lots")]).unwrap_err().to_string();
        assert!(err.contains("server.max_body_bytes"), "{err}");
    }

    #[test]
    fn secrets_are_redacted_in_debug_and_serialisation() {
        let dir = tempfile::tempdir().unwrap();
        let loaded = load_env(dir.path(), &[("WEFT_DATABASE_URL", "postgres://weft:hunter2@db/weft")]).unwrap();
        let debug = format!("{:?}", loaded.config);
        assert!(!debug.contains("hunter2"), "{debug}");
        let json = serde_json::to_string(&loaded.config).unwrap();
        assert!(!json.contains("hunter2"), "{json}");
        let options = loaded.config.store_options(dir.path()).unwrap();
        assert!(!format!("{options:?}").contains("hunter2"));
    }

    #[test]
    fn auth_settings_come_from_the_auth_section_and_bad_ones_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let loaded = load_env(dir.path(), &[]).unwrap();
        let defaults = loaded.config.auth_settings().unwrap();
        assert_eq!(defaults.session_idle, AuthSettings::default().session_idle);
        assert_eq!(defaults.cookie_secure, CookieSecure::Auto);

        let loaded = load_env(
            dir.path(),
            &[
                ("WEFT_AUTH__SESSION_IDLE_MINUTES", "30"),
                ("WEFT_AUTH__LOCKOUT_THRESHOLD", "3"),
                ("WEFT_SERVER__BEHIND_TLS", "true"),
            ],
        )
        .unwrap();
        let set = loaded.config.auth_settings().unwrap();
        assert_eq!((set.session_idle, set.lockout_threshold), (Duration::from_secs(1800), 3));
        assert_eq!(set.cookie_secure, CookieSecure::Always, "behind TLS, cookies are always Secure");

        for (key, value, says) in [
            ("WEFT_AUTH__COOKIE_SECURE", "sometimes", "auth.cookie_secure"),
            ("WEFT_AUTH__LOCKOUT_THRESHOLD", "0", "auth.lockout_threshold"),
            ("WEFT_AUTH__SESSION_IDLE_MINUTES", "100000", "auth.session_idle_minutes"),
        ] {
            let loaded = load_env(dir.path(), &[(key, value)]).unwrap();
            let err = loaded.config.auth_settings().unwrap_err().to_string();
            assert!(err.contains(says), "{key}={value}: {err}");
        }
    }

    #[test]
    fn delivery_settings_come_from_smtp_delivery_and_server() {
        let dir = tempfile::tempdir().unwrap();
        let loaded = load_env(dir.path(), &[]).unwrap();
        let defaults = loaded.config.delivery_config().unwrap();
        assert!(defaults.smtp.is_none(), "no host, no mail");
        assert_eq!(defaults.public_url, "http://127.0.0.1:8080");

        let loaded = load_env(
            dir.path(),
            &[
                ("WEFT_SMTP__HOST", "mail.example.com"),
                ("WEFT_SMTP__TLS", "tls"),
                ("WEFT_SMTP__PORT", "465"),
                ("WEFT_SMTP__PASSWORD", "hunter2"),
                ("WEFT_SERVER__PUBLIC_URL", "https://weft.example.com/"),
                ("WEFT_DELIVERY__MAX_ATTEMPTS", "3"),
            ],
        )
        .unwrap();
        let set = loaded.config.delivery_config().unwrap();
        let smtp = set.smtp.as_ref().unwrap();
        assert_eq!((smtp.host.as_str(), smtp.port), ("mail.example.com", 465));
        assert_eq!(set.public_url, "https://weft.example.com");
        assert_eq!(set.retry.max_attempts, 3);
        assert!(!format!("{:?} {:?}", loaded.config, set).contains("hunter2"), "the SMTP password stays secret");

        for (key, value, says) in [
            ("WEFT_SMTP__TLS", "ssl3", "smtp.tls"),
            ("WEFT_SERVER__PUBLIC_URL", "ftp://x", "server.public_url"),
            ("WEFT_DELIVERY__MAX_ATTEMPTS", "0", "delivery"),
        ] {
            let loaded = load_env(dir.path(), &[("WEFT_SMTP__HOST", "m"), (key, value)]).unwrap();
            let err = loaded.config.delivery_config().unwrap_err().to_string();
            assert!(err.contains(says), "{key}={value}: {err}");
        }
    }

    #[test]
    fn attachments_go_to_s3_when_configured_and_bad_settings_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let s3 = "[attachments.s3]\nbucket = \"weft\"\nendpoint = \"https://minio.example.com:9000\"\naccess_key_id = \"ak\"\nsecret_access_key = \"hunter2-s3\"\n";
        std::fs::write(dir.path().join("weft.toml"), s3).unwrap();
        let loaded = load_env(dir.path(), &[]).unwrap();
        let set = loaded.config.attachments.s3.as_ref().expect("read");
        assert_eq!((set.region.as_str(), set.allow_http), ("us-east-1", false));
        assert!(!format!("{:?}", loaded.config).contains("hunter2-s3"), "the S3 secret stays secret");
        loaded.config.blob_store(dir.path()).expect("an S3 store");
        assert!(!dir.path().join("blobs").exists(), "no local folder when S3 is configured");

        for (env, says) in [
            (("WEFT_ATTACHMENTS__S3__ENDPOINT", "http://10.0.0.5:9000"), "allow_http"),
            (("WEFT_ATTACHMENTS__S3__ENDPOINT", "minio:9000"), "attachments.s3.endpoint"),
            (("WEFT_ATTACHMENTS__S3__BUCKET", " "), "attachments.s3.bucket"),
        ] {
            let loaded = load_env(dir.path(), &[env]).unwrap();
            let err = loaded.config.blob_store(dir.path()).expect_err("refused").to_string();
            assert!(err.contains(says), "{env:?}: {err}");
        }
        let loaded = load_env(
            dir.path(),
            &[("WEFT_ATTACHMENTS__S3__ENDPOINT", "http://10.0.0.5:9000"), ("WEFT_ATTACHMENTS__S3__ALLOW_HTTP", "true")],
        )
        .unwrap();
        loaded.config.blob_store(dir.path()).expect("plain http once allowed");
    }

    #[test]
    fn example_parses_and_covers_every_key() {
        let parsed: Config = toml::from_str(&uncomment(EXAMPLE)).expect("example must parse once uncommented");
        assert_eq!(parsed.server.bind, Config::default().server.bind);
        for key in known_keys() {
            let leaf = key.rsplit('.').next().unwrap();
            assert!(EXAMPLE.contains(leaf), "weft.example.toml lacks `{key}`");
        }
    }

    /// The example is all comments; `#key = value` lines become settings.
    fn uncomment(text: &str) -> String {
        text.lines()
            .filter_map(|l| {
                let t = l.trim_start();
                if t.starts_with("# ") || t == "#" { None } else { Some(t.trim_start_matches('#').to_owned()) }
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}
