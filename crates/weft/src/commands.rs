//! One function per subcommand.

use anyhow::Context;
use tokio::net::TcpListener;
use weft_workspace::Workspace;

use crate::cli::{Cli, Command, ConfigCommand};
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
        Command::Migrate { dry_run } => migrate(&cli, dry_run).await,
        Command::Serve { bind } => serve(&cli, Overrides { bind }).await,
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

async fn connect(loaded: &config::Loaded) -> anyhow::Result<Workspace> {
    let options = loaded.config.store_options(&loaded.data_dir)?;
    tracing::info!(database = %options.location.redacted(), "connecting");
    Ok(Workspace::connect(&options).await?)
}

async fn migrate(cli: &Cli, dry_run: bool) -> anyhow::Result<()> {
    let loaded = config::load(&cli.common, &Overrides::default())?;
    logging::init(&loaded.config.log);
    for w in &loaded.warnings {
        tracing::warn!("{w}");
    }
    let workspace = connect(&loaded).await?;
    let plan = workspace.database().migration_plan().await?;
    let target = loaded.config.store_options(&loaded.data_dir)?.location.redacted();
    if plan.pending.is_empty() {
        println!("{target}: up to date ({} migrations applied); nothing to do", plan.applied.len());
    } else if dry_run {
        println!("{target}: {} migration(s) would be applied:", plan.pending.len());
        for m in &plan.pending {
            println!("  {} {}", m.version, m.description);
        }
        println!("(dry run: nothing was changed)");
    } else {
        let applied = workspace.migrate().await?;
        println!("{target}: applied {} migration(s):", applied.len());
        for m in &applied {
            println!("  {} {}", m.version, m.description);
        }
    }
    workspace.close().await;
    Ok(())
}

async fn serve(cli: &Cli, overrides: Overrides) -> anyhow::Result<()> {
    let loaded = config::load(&cli.common, &overrides)?;
    logging::init(&loaded.config.log);
    for w in &loaded.warnings {
        tracing::warn!("{w}");
    }
    let workspace = connect(&loaded).await?;
    let applied = workspace.migrate().await?;
    for m in &applied {
        tracing::info!(version = m.version, description = %m.description, "migration applied");
    }
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
    weft_server::serve(listener, app, weft_server::shutdown_signal()).await?;
    tracing::info!("in-flight requests finished; closing the database");
    workspace.close().await;
    Ok(())
}
