//! Decision models (DMN): deployed as data through the one path (audit entry and
//! `decision.deployed` event with the stored version), kept compiled in memory per
//! (name, version), evaluated with an explanation of the rules that matched.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use serde_json::{Value as Json, json};
use weft_decision::{DecisionModel, DecisionProblem, EvalError};
use weft_model::Principal;
use weft_store::kernel::{audit, decisions, outbox};

use crate::{Error, Result, Workspace};

/// Compiled models by (name, version).
#[derive(Debug, Default)]
pub struct DecisionCache {
    models: RwLock<HashMap<(String, i64), Arc<DecisionModel>>>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DeployedDecision {
    pub name: String,
    pub version: i64,
    pub namespace: String,
    pub deployed_at: String,
    pub deployed_by: String,
    /// The decisions in the model: inputs they need, outputs, hit policies.
    #[schema(value_type = Vec<Object>)]
    pub decisions: Vec<Json>,
}

fn describe(model: &DecisionModel) -> Vec<Json> {
    model
        .decisions()
        .into_iter()
        .map(|d| {
            json!({
                "id": d.id,
                "name": d.name,
                "logic": d.logic,
                "hit_policy": d.hit_policy,
                "inputs": d.inputs.iter().map(|i| json!({ "name": i.name, "type": i.type_ref })).collect::<Vec<_>>(),
                "requires": d.requires,
                "output_type": d.output_type,
                "output_components": d.output_components,
            })
        })
        .collect()
}

/// Deployment problems as the field errors of a 422.
fn problems(found: Vec<DecisionProblem>) -> Error {
    Error::Validation(
        found
            .into_iter()
            .map(|p| weft_model::schema::FieldError {
                pointer: p.element.map(|e| format!("/{e}")).unwrap_or_default(),
                code: weft_model::schema::FieldErrorCode::InvalidFormat,
                reason: format!("{} ({})", p.message, p.kind.code()),
            })
            .collect(),
    )
}

impl Workspace {
    /// Deploys a DMN model: every problem listed, or a new version stored.
    pub async fn deploy_decision(&self, principal: &Principal, xml: String) -> Result<DeployedDecision> {
        self.require_admin(principal)?;
        let model = DecisionModel::parse(&xml).map_err(problems)?;
        let name = model.name().to_owned();
        if name.trim().is_empty() {
            return Err(Error::BadRequest("the model's <definitions> needs a name".into()));
        }
        let namespace = model.namespace().to_owned();
        let actor = principal.actor();
        let (n, ns, by) = (name.clone(), namespace.clone(), actor.clone());
        let version = self
            .db
            .write(move |tx| {
                Box::pin(async move {
                    let at = weft_store::now();
                    let version = decisions::deploy(tx, &n, &ns, &xml, &by, at).await?;
                    let detail = json!({ "version": version, "namespace": ns });
                    let entry = audit::AuditEntry {
                        actor: by.clone(),
                        action: "decision.deploy".into(),
                        target_type: "decision".into(),
                        target_id: n.clone(),
                        detail: detail.clone(),
                    };
                    audit::append(tx, &entry, at).await?;
                    let event = outbox::NewEvent {
                        kind: "decision.deployed".into(),
                        type_name: "decision".into(),
                        record_id: None,
                        actor: by,
                        payload: json!({ "name": n, "version": version }),
                    };
                    outbox::append(tx, &event, at).await?;
                    Ok::<i64, Error>(version)
                })
            })
            .await?;
        let deployed = DeployedDecision {
            name: name.clone(),
            version,
            namespace,
            deployed_at: weft_store::format_utc(weft_store::now()),
            deployed_by: actor,
            decisions: describe(&model),
        };
        if let Ok(mut cache) = self.decisions.models.write() {
            cache.insert((name, version), Arc::new(model));
        }
        Ok(deployed)
    }

    /// Every deployed version (of one model, or of all), newest first.
    pub async fn decision_versions(&self, principal: &Principal, name: Option<&str>) -> Result<Vec<DeployedDecision>> {
        self.require_staff(principal)?;
        Ok(decisions::list(&self.db, name)
            .await?
            .into_iter()
            .map(|d| DeployedDecision {
                name: d.name,
                version: d.version,
                namespace: d.namespace,
                deployed_at: weft_store::format_utc(d.deployed_at),
                deployed_by: d.deployed_by,
                decisions: Vec::new(),
            })
            .collect())
    }

    async fn decision_model(&self, name: &str, version: Option<i64>) -> Result<(i64, Arc<DecisionModel>)> {
        if let Some(v) = version
            && let Some(model) = self.decisions.models.read().ok().and_then(|m| m.get(&(name.to_owned(), v)).cloned())
        {
            return Ok((v, model));
        }
        let stored = decisions::get(&self.db, name, version).await?.ok_or_else(|| {
            Error::NotFound(format!(
                "decision model `{name}`{}",
                version.map(|v| format!(" version {v}")).unwrap_or_default()
            ))
        })?;
        if let Some(model) =
            self.decisions.models.read().ok().and_then(|m| m.get(&(name.to_owned(), stored.version)).cloned())
        {
            return Ok((stored.version, model));
        }
        let model = Arc::new(DecisionModel::parse(&stored.xml).map_err(problems)?);
        if let Ok(mut cache) = self.decisions.models.write() {
            cache.insert((name.to_owned(), stored.version), model.clone());
        }
        Ok((stored.version, model))
    }

    /// One version's description (the newest without `version`).
    pub async fn decision(&self, principal: &Principal, name: &str, version: Option<i64>) -> Result<DeployedDecision> {
        self.require_staff(principal)?;
        let stored = decisions::get(&self.db, name, version)
            .await?
            .ok_or_else(|| Error::NotFound(format!("decision model `{name}`")))?;
        let (_, model) = self.decision_model(name, Some(stored.version)).await?;
        Ok(DeployedDecision {
            name: stored.name,
            version: stored.version,
            namespace: stored.namespace,
            deployed_at: weft_store::format_utc(stored.deployed_at),
            deployed_by: stored.deployed_by,
            decisions: describe(&model),
        })
    }

    /// Evaluates `decision` of model `name` on `input` (a JSON object of input names to
    /// values). The answer carries the model version used and, when asked, the rules
    /// that matched in each decision table.
    pub async fn evaluate_decision(
        &self,
        principal: &Principal,
        name: &str,
        version: Option<i64>,
        decision: &str,
        input: Json,
        explain: bool,
    ) -> Result<Json> {
        self.require_staff(principal)?;
        let (version, model) = self.decision_model(name, version).await?;
        let decision = decision.to_owned();
        // The general engine may take a while; keep it off the async workers.
        let outcome = tokio::task::spawn_blocking(move || model.evaluate(&decision, &input))
            .await
            .map_err(|e| Error::Conflict(format!("evaluation failed: {e}")))?;
        match outcome {
            Ok(outcome) => {
                let mut json = outcome.to_json();
                if let Json::Object(map) = &mut json {
                    map.insert("model".into(), json!(name));
                    map.insert("version".into(), json!(version));
                    if !explain {
                        map.remove("explanation");
                    }
                }
                Ok(json)
            }
            Err(EvalError::UnknownDecision { name: wanted, suggestion }) => Err(Error::NotFound(format!(
                "decision `{wanted}` in model `{name}`{}",
                suggestion.map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default()
            ))),
            Err(EvalError::InputNotAnObject) => Err(Error::BadRequest("`input` must be a JSON object".into())),
            Err(e @ (EvalError::Timeout { .. } | EvalError::Busy)) => Err(Error::Unavailable(e.to_string())),
            Err(e) => Err(Error::Conflict(e.to_string())),
        }
    }
}
