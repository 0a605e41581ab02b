//! The general engine behind Weft's interface: the `dsntk` DMN crates (pinned, see
//! Cargo.toml). Nothing outside this module names them, except the value conversions.
//!
//! The engine runs on a worker thread with a large stack, inside `catch_unwind`, and the
//! caller waits at most [`Limits::eval_timeout`](crate::Limits): a runaway evaluation is
//! abandoned (its thread finishes on its own) and at most
//! [`Limits::max_running_evaluations`](crate::Limits) may run at once.

use crate::Limits;
use crate::error::EvalError;
use crate::value::{Value, context_to_feel};
use dsntk_model_evaluator::ModelEvaluator;
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

static RUNNING: AtomicUsize = AtomicUsize::new(0);

struct RunningGuard;

impl Drop for RunningGuard {
    fn drop(&mut self) {
        RUNNING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Runs `work` on a fresh worker thread with `stack` bytes of stack, waiting at most
/// `timeout`; panics come back as errors.
pub(crate) fn on_worker<T: Send + 'static>(
    limits: &Limits,
    timeout: Duration,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, EvalError> {
    if RUNNING.fetch_add(1, Ordering::SeqCst) >= limits.max_running_evaluations {
        RUNNING.fetch_sub(1, Ordering::SeqCst);
        return Err(EvalError::Busy);
    }
    let (tx, rx) = mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new().name("weft-decision".into()).stack_size(limits.engine_stack_bytes).spawn(
        move || {
            let _guard = RunningGuard;
            let result = catch_unwind(AssertUnwindSafe(work)).map_err(|panic| {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panic".to_string());
                EvalError::Engine(format!("the engine panicked: {message}"))
            });
            let _ = tx.send(result);
        },
    );
    if let Err(e) = spawned {
        RUNNING.fetch_sub(1, Ordering::SeqCst);
        return Err(EvalError::Engine(format!("cannot start a worker thread: {e}")));
    }
    match rx.recv_timeout(timeout) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => Err(EvalError::Timeout { millis: timeout.as_millis() as u64 }),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Err(EvalError::Engine("the engine stopped without an answer".into()))
        }
    }
}

/// One built model set (a main model and the models it imports).
pub(crate) struct Engine {
    evaluator: Arc<ModelEvaluator>,
    pub namespace: String,
    pub model_name: String,
}

impl Engine {
    /// Parses and builds `documents` (the main one first); the error is the engine's message.
    pub(crate) fn build(documents: Vec<String>, limits: &Limits) -> Result<Engine, String> {
        let built = on_worker(limits, limits.build_timeout, move || -> Result<Engine, String> {
            let mut definitions = Vec::with_capacity(documents.len());
            for xml in &documents {
                definitions.push(dsntk_model::parse(xml).map_err(|e| e.to_string())?);
            }
            let main = definitions.first().ok_or("no model")?;
            let namespace = main.namespace().to_string();
            let model_name = main.name().to_string();
            let evaluator = ModelEvaluator::new(&definitions).map_err(|e| e.to_string())?;
            Ok(Engine { evaluator, namespace, model_name })
        });
        match built {
            Ok(result) => result,
            Err(e) => Err(e.to_string()),
        }
    }

    /// Evaluates the invocables `names` (a decision, then the explanation decisions) with
    /// the same input, on a worker.
    pub(crate) fn evaluate(
        self: &Arc<Self>,
        names: Vec<String>,
        input: BTreeMap<String, Value>,
        limits: &Limits,
    ) -> Result<Vec<Value>, EvalError> {
        let engine = Arc::clone(self);
        on_worker(limits, limits.eval_timeout, move || {
            let ctx = context_to_feel(&input);
            names
                .iter()
                .map(|name| {
                    let v = engine.evaluator.evaluate_invocable(&engine.namespace, &engine.model_name, name, &ctx);
                    Value::from_feel(&v)
                })
                .collect()
        })
    }
}

use dsntk_model::{DmnElement, NamedElement};

#[allow(dead_code)]
fn _assert_traits() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Engine>();
    let _ = |d: &dsntk_model::Decision| (d.id().clone(), d.name().to_string());
}
