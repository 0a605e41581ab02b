//! One function per subcommand.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use weft_workspace::Workspace;
use weft_workspace::apps::{self, Manifest};
use weft_workspace::consumers::Consumer;

use crate::cli::{AuditCommand, Cli, Command, ConfigCommand};
use crate::config::{self, Overrides};
use crate::logging;

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Version => {
            println!("weft {}", weft_model::BINARY_VERSION);
            Ok(())
        }
        Command::Config { command: ConfigCommand::Example } => {
            print!("{}", config::EXAMPLE);
            Ok(())
        }
        Command::Config { command: ConfigCommand::Show } => {
            let loaded = config::load(&cli.common, &Overrides::default())?;
            for w in &loaded.warnings {
                eprintln!("warning: {w}");
            }
            println!("# data folder: {}", loaded.data_dir.display());
            print!("{}", toml_of(&loaded.config)?);
            Ok(())
        }
        Command::Migrate { dry_run, allow_destructive, ref manifests } => {
            migrate(&cli, dry_run, allow_destructive, manifests).await
        }
        Command::Audit { command: AuditCommand::Verify } => audit_verify(&cli).await,
        Command::Demo { scale, seed } => crate::demo::demo(&cli, scale, seed).await,
        Command::Serve { bind } => serve(&cli, Overrides { bind }).await,
        Command::User { ref command } => crate::users::user(&cli, command).await,
        Command::Token { ref command } => crate::users::token(&cli, command).await,
    }
}

fn toml_of(config: &config::Config) -> anyhow::Result<String> {
    // Through JSON so `Secret` serialises redacted and `None` is left out.
    let value = serde_json::to_value(config)?;
    let mut out = String::new();
    render_toml(&mut out, "", &value);
    Ok(out)
}

fn render_toml(out: &mut String, table: &str, value: &serde_json::Value) {
    let serde_json::Value::Object(map) = value else {
        return;
    };
    for (k, v) in map.iter().filter(|(_, v)| !v.is_object() && !v.is_null()) {
        out.push_str(&format!("{k} = {v}\n"));
    }
    for (k, v) in map.iter().filter(|(_, v)| v.is_object()) {
        let name = if table.is_empty() { k.clone() } else { format!("{table}.{k}") };
        out.push_str(&format!("\n[{name}]\n"));
        render_toml(out, &name, v);
    }
}

pub(crate) async fn connect(loaded: &config::Loaded) -> anyhow::Result<Workspace> {
    let options = loaded.config.store_options(&loaded.data_dir)?;
    tracing::info!(database = %options.location.redacted(), "connecting");
    let auth = loaded.config.auth_settings()?;
    let blobs = loaded.config.blob_store(&loaded.data_dir)?;
    let job_lock = loaded.config.process_job_lock()?;
    Ok(Workspace::connect(&options)
        .await?
        .with_auth_settings(auth)
        .with_blob_store(blobs)
        .with_process_job_lock(job_lock))
}

/// Built-in manifests, then `<data>/apps/*.json` (by name), then `--manifest` files.
fn manifests(data_dir: &Path, extra: &[PathBuf]) -> anyhow::Result<Vec<Manifest>> {
    let mut files: Vec<PathBuf> = Vec::new();
    if let Ok(entries) = std::fs::read_dir(data_dir.join("apps")) {
        let mut found: Vec<PathBuf> =
            entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "json")).collect();
        found.sort();
        files.extend(found);
    }
    files.extend(extra.iter().cloned());
    let mut out = apps::builtin();
    for file in files {
        let text =
            std::fs::read_to_string(&file).with_context(|| format!("cannot read manifest {}", file.display()))?;
        let dir = file.parent().unwrap_or(Path::new("."));
        let manifest =
            Manifest::load(&text, dir).map_err(|e| anyhow::anyhow!("manifest {} is not valid: {e}", file.display()))?;
        out.push(manifest);
    }
    Ok(out)
}

async fn migrate(cli: &Cli, dry_run: bool, allow_destructive: bool, extra: &[PathBuf]) -> anyhow::Result<()> {
    let loaded = config::load(&cli.common, &Overrides::default())?;
    logging::init(&loaded.config.log);
    for w in &loaded.warnings {
        tracing::warn!("{w}");
    }
    let manifests = manifests(&loaded.data_dir, extra)?;
    let workspace = connect(&loaded).await?;
    let plan = workspace.database().migration_plan().await?;
    let target = loaded.config.store_options(&loaded.data_dir)?.location.redacted();
    let mut changed = false;
    if plan.pending.is_empty() {
        println!("{target}: schema up to date ({} migrations applied)", plan.applied.len());
    } else if dry_run {
        changed = true;
        println!("{target}: {} migration(s) would be applied:", plan.pending.len());
        for m in &plan.pending {
            println!("  {} {}", m.version, m.description);
        }
    } else {
        changed = true;
        let applied = workspace.migrate().await?;
        println!("{target}: applied {} migration(s):", applied.len());
        for m in &applied {
            println!("  {} {}", m.version, m.description);
        }
    }
    for manifest in &manifests {
        let plans = workspace
            .install_manifest(manifest, dry_run, allow_destructive)
            .await
            .with_context(|| format!("app `{}` {}", manifest.app, manifest.version))?;
        for plan in plans.iter().filter(|p| p.action != "unchanged") {
            changed = true;
            let verb = if dry_run { "would" } else { "did" };
            println!("app {} {}: {verb} {} type `{}`", manifest.app, manifest.version, plan.action, plan.type_name);
            for change in plan.changes.iter().filter(|_| plan.action == "alter") {
                println!("    {change}");
            }
            for step in &plan.steps {
                println!("    {}{}", step.description, if step.destructive { "  [destructive]" } else { "" });
            }
        }
    }
    if !changed {
        println!("nothing to do");
    } else if dry_run {
        println!("(dry run: nothing was changed)");
    }
    workspace.close().await;
    Ok(())
}

async fn audit_verify(cli: &Cli) -> anyhow::Result<()> {
    let loaded = config::load(&cli.common, &Overrides::default())?;
    logging::init(&loaded.config.log);
    let workspace = connect(&loaded).await?;
    let verdict = workspace.verify_audit().await?;
    workspace.close().await;
    match verdict {
        weft_store::kernel::audit::AuditVerdict::Intact { entries } => {
            println!("audit chain intact: {entries} entries verified");
            Ok(())
        }
        weft_store::kernel::audit::AuditVerdict::Broken { seq, reason } => {
            anyhow::bail!("audit chain broken at entry {seq}: {reason}")
        }
    }
}

/// Brings the schema and the apps (built-in, then `<data>/apps/*.json`) up to date, as
/// `serve` does on start. Never destructive: that takes `weft migrate --allow-destructive`.
pub(crate) async fn migrate_and_install(workspace: &Workspace, data_dir: &Path) -> anyhow::Result<()> {
    let manifests = manifests(data_dir, &[])?;
    let applied = workspace.migrate().await?;
    for m in &applied {
        tracing::info!(version = m.version, description = %m.description, "migration applied");
    }
    for manifest in &manifests {
        let plans = workspace.install_manifest(manifest, false, false).await.with_context(|| {
            format!(
                "app `{}` {} could not be installed; run `weft migrate --dry-run` to see why",
                manifest.app, manifest.version
            )
        })?;
        for plan in plans.iter().filter(|p| p.applied) {
            tracing::info!(app = %manifest.app, r#type = %plan.type_name, action = plan.action, "declaration applied");
        }
    }
    Ok(())
}

/// The engines that follow the outbox while `weft serve` runs, each with its own offset:
/// lifecycle transitions start processes; messages and transitions reach followers' and
/// mentioned people's inboxes; submitted supplier invoices are matched against their orders
/// and receipts; supplier scorecards follow receipts, QC reports, invoices and confirmations.
/// `weft demo` moves each past the history it loads.
pub(crate) fn outbox_consumers() -> Vec<Arc<dyn Consumer>> {
    vec![
        Arc::new(weft_workspace::processes::ProcessStarts),
        Arc::new(weft_workspace::collab::InboxFanout),
        Arc::new(weft_workspace::apps::procurement::ThreeWayMatch),
        Arc::new(weft_workspace::apps::procurement::SupplierScorecard),
        Arc::new(weft_workspace::rules::AutomationRules),
    ]
}

async fn serve(cli: &Cli, overrides: Overrides) -> anyhow::Result<()> {
    let loaded = config::load(&cli.common, &overrides)?;
    logging::init(&loaded.config.log);
    for w in &loaded.warnings {
        tracing::warn!("{w}");
    }
    // The search index is this node's own (`<data>/search`), opened by `serve` alone: other
    // commands run beside a serving node and must not take its writer lock.
    let search_dir = loaded.data_dir.join("search");
    let index = weft_workspace::search::SearchIndex::open(&search_dir)
        .with_context(|| format!("cannot open the search index in {}", search_dir.display()))?;
    let workspace = connect(&loaded).await?.with_search_index(index);
    migrate_and_install(&workspace, &loaded.data_dir).await?;
    let bind = loaded.config.server.bind;
    let listener = TcpListener::bind(bind).await.with_context(|| {
        format!(
            "cannot listen on {bind}; is another program using it? Choose another address with --bind or server.bind"
        )
    })?;
    let address = listener.local_addr()?;
    let web_dir = &loaded.config.server.web_dir;
    if !web_dir.join("index.html").is_file() {
        tracing::warn!(web_dir = %web_dir.display(), "web UI not built; serving a placeholder page");
    }
    let app = weft_server::router(weft_server::AppState {
        workspace: workspace.clone(),
        options: loaded.config.server_options(),
    });
    tracing::info!(%address, "serving");
    println!("Weft is serving on http://{address}");
    let worker = tokio::spawn(process_job_worker(workspace.clone()));
    let (stop_consumers, stopping) = tokio::sync::watch::channel(false);
    let mut consumers: Vec<_> =
        outbox_consumers().into_iter().map(|c| workspace.spawn_consumer(c, stopping.clone())).collect();
    // Built from the tables on first start (or after the folder was removed), then follows
    // the outbox from the position kept in the index itself.
    consumers.push(workspace.spawn_search_indexer(stopping.clone()));
    // What lands in inboxes (and on channels and types robots watch) goes out by e-mail and
    // to IM robots: a consumer queues, a worker sends and retries.
    let delivery = if loaded.config.delivery.enabled {
        let outbound = weft_workspace::collab::Outbound::new(loaded.config.delivery_config()?)?;
        // Upgrading an existing workspace (or one `weft demo` filled): deliver what happens
        // from now on, not its history.
        workspace.begin_at_head("delivery").await?;
        let consumer = workspace.spawn_consumer(std::sync::Arc::new(outbound.clone()), stopping);
        Some((consumer, tokio::spawn(delivery_worker(workspace.clone(), outbound))))
    } else {
        None
    };
    weft_server::serve(listener, app, weft_server::shutdown_signal()).await?;
    worker.abort();
    let _ = stop_consumers.send(true);
    for consumer in consumers {
        let _ = consumer.await;
    }
    if let Some((consumer, sender)) = delivery {
        sender.abort();
        let _ = consumer.await;
    }
    tracing::info!("in-flight requests finished; closing the database");
    workspace.close().await;
    Ok(())
}

/// Sends due e-mails and robot cards while the server runs. Rows are claimed with a lock
/// that expires, so one cut off by a stop is sent after the restart.
async fn delivery_worker(workspace: Workspace, outbound: weft_workspace::collab::Outbound) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        loop {
            match outbound.run_due(&workspace, 50).await {
                // A full batch: more may be waiting, go on at once.
                Ok(run) if run.total() >= 50 => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "deliveries could not be sent; retrying in a second");
                    break;
                }
            }
        }
    }
}

/// Fires due process timers and runs service jobs while the server runs. A job is claimed
/// with a lock that expires, so one cut off by a stop is taken over after the restart.
async fn process_job_worker(workspace: Workspace) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        loop {
            match workspace.run_due_jobs(100).await {
                // A full batch: more may be waiting, go on at once.
                Ok(run) if run.done + run.retried + run.incidents >= 100 => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "process jobs could not run; retrying in a second");
                    break;
                }
            }
        }
    }
}
