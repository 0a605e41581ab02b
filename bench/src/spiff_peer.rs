//! The SpiffWorkflow peer (`../shared/peers/spiff/bench_spiff.py`), run by `processes` in
//! the same invocation as Weft's runs, so both are measured on the machine as it is at that
//! moment: once in memory and once serialising each instance to JSON after every step.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// What the peer's script prints (one JSON line).
#[derive(Debug, Clone, Deserialize)]
pub struct PeerRun {
    pub instances: u64,
    pub elapsed_s: f64,
    pub lat_ms_p50: f64,
    pub lat_ms_p99: f64,
    pub python: String,
}

/// The SpiffWorkflow version the interpreter imports (the peer's figures are for 3.2).
pub async fn version(python: &Path) -> Result<String> {
    let out = tokio::process::Command::new(python)
        .args(["-c", "import importlib.metadata as m; print(m.version('SpiffWorkflow'))"])
        .output()
        .await
        .with_context(|| format!("cannot run {}", python.display()))?;
    if !out.status.success() {
        bail!(
            "{} cannot import SpiffWorkflow (install it: `{} -m pip install -r ../shared/peers/spiff/requirements.txt`): {}",
            python.display(),
            python.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Runs the peer's script for `instances` instances, serialising after each step or not.
pub async fn run(python: &Path, script: &Path, instances: u32, serialize: bool) -> Result<PeerRun> {
    let mut command = tokio::process::Command::new(python);
    command.arg(script).arg(instances.to_string());
    if serialize {
        command.arg("--serialize");
    }
    let out = command.output().await.with_context(|| format!("cannot run {}", script.display()))?;
    if !out.status.success() {
        bail!("{} failed: {}", script.display(), String::from_utf8_lossy(&out.stderr).trim());
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .with_context(|| format!("{} printed no JSON result: {}", script.display(), stdout.trim()))?;
    serde_json::from_str(line).with_context(|| format!("{} printed an unexpected result: {line}", script.display()))
}

/// The peer's script beside the process file the benchmark runs.
pub fn script_beside(bpmn: &Path) -> PathBuf {
    bpmn.parent().unwrap_or(Path::new(".")).join("bench_spiff.py")
}
