//! `weft demo`: migrates, installs the apps, loads the sample company
//! (`weft_workspace::apps::procurement::demo`) and prints how to sign in. The generated
//! passwords are shown once.

use std::time::Instant;

use anyhow::{Context, bail};
use weft_workspace::apps::procurement::demo::{self, COMPANY, DemoOptions, Scale};

use crate::cli::{Cli, DemoScale};
use crate::commands::{connect, migrate_and_install, outbox_consumers};
use crate::config::{self, Overrides};
use crate::logging;

pub async fn demo(cli: &Cli, scale: DemoScale, seed: u64) -> anyhow::Result<()> {
    let loaded = config::load(&cli.common, &Overrides::default())?;
    logging::init(&loaded.config.log);
    for w in &loaded.warnings {
        tracing::warn!("{w}");
    }
    let workspace = connect(&loaded).await?;
    let result = load(&workspace, &loaded, scale, seed).await;
    workspace.close().await;
    result
}

async fn load(
    workspace: &weft_workspace::Workspace,
    loaded: &config::Loaded,
    scale: DemoScale,
    seed: u64,
) -> anyhow::Result<()> {
    migrate_and_install(workspace, &loaded.data_dir).await?;
    if workspace.demo_loaded().await? {
        bail!(
            "the demo company is already loaded in {} (login `{}` exists); nothing was changed. \
             To load it afresh, remove the data folder (`make clean-data`) or use another --data",
            loaded.data_dir.display(),
            demo::buyer_login()
        );
    }
    let scale = match scale {
        DemoScale::Small => Scale::Small,
        DemoScale::Full => Scale::Full,
    };
    println!(
        "Loading the demo company {COMPANY}: {} suppliers, {} items, {} purchase orders over the last 12 months…",
        scale.suppliers(),
        scale.items(),
        scale.orders()
    );
    let started = Instant::now();
    let report = workspace
        .load_demo(DemoOptions { scale, seed }, &outbox_consumers())
        .await
        .context("the demo company could not be loaded")?;
    println!("Loaded in {:.1} s ({}).", started.elapsed().as_secs_f64(), steps(&report.steps));
    let counts: Vec<String> = report.counts.iter().map(|(t, n)| format!("{n} {t}")).collect();
    println!("Records: {}.", counts.join(", "));
    if !report.at_risk.is_empty() {
        println!("Suppliers at risk (score below 70; their buyers have an alert): {}.", report.at_risk.join(", "));
    }
    println!();
    println!("Sign in as (passwords are shown once; `weft user reset-password --login <login>` sets a new one):");
    let width = report.sign_ins.iter().map(|s| s.login.len()).max().unwrap_or(0);
    for s in &report.sign_ins {
        println!("  {:<width$}  {}  {} — {}", s.login, s.password, s.name, s.role);
    }
    println!();
    println!(
        "The history is dated as it happened (records' times, their history and the orders' \
         confirmations); the audit log records when it was loaded."
    );
    if !report.undated.is_empty() {
        let undated: Vec<String> = report.undated.iter().map(|(what, n)| format!("{n} × {what}")).collect();
        println!(
            "History entries the plan had no time for (dated after the entry before them): {}.",
            undated.join(", ")
        );
    }
    Ok(())
}

fn steps(steps: &[(&'static str, std::time::Duration)]) -> String {
    steps.iter().map(|(name, d)| format!("{name} {:.1} s", d.as_secs_f64())).collect::<Vec<_>>().join(" · ")
}
