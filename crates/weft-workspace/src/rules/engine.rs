//! Saving rules (admin, audited) and running them (the outbox consumer).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value as Json;
use utoipa::ToSchema;
use uuid::Uuid;
use weft_model::Principal;
use weft_model::schema::{DefaultValue, FieldError, FieldErrorCode, Value, coerce_value};
use weft_store::BoxFuture;
use weft_store::kernel::outbox::StoredEvent;
use weft_store::kernel::rules::{self as store, StoredRule};
use weft_store::records::rows::{self, Source, StoredRecord};

use super::def::{self, RuleAction, RuleDef};
use crate::collab::NewAlert;
use crate::consumers::Consumer;
use crate::expressions::{Related, TransitionScope};
use crate::{Error, Result, Workspace, admin_audit};

/// A saved rule.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RuleView {
    #[serde(flatten)]
    pub rule: RuleDef,
    /// Counts the saves of this rule.
    pub version: i64,
    pub updated_at: String,
}

fn view(stored: &StoredRule) -> Result<RuleView> {
    let rule: RuleDef = serde_json::from_str(&stored.definition)
        .map_err(|e| Error::Internal(format!("rule `{}` cannot be read: {e}", stored.name)))?;
    Ok(RuleView { rule, version: stored.version, updated_at: weft_store::format_utc(stored.updated_at) })
}

impl Workspace {
    /// Every rule (admin).
    pub async fn rules(&self, principal: &Principal) -> Result<Vec<RuleView>> {
        self.require_admin(principal)?;
        store::all(&self.db).await?.iter().map(view).collect()
    }

    /// Saves `rule` (admin): checked whole (every problem with its place, nothing saved on
    /// any), then written and audited in one transaction.
    pub async fn put_rule(&self, principal: &Principal, rule: RuleDef) -> Result<RuleView> {
        self.require_admin(principal)?;
        let decl = self.type_decl(&rule.type_name);
        let lookup = |name: &str| self.type_decl(name);
        let mut errors = def::check(&rule, decl.as_ref(), &self.directory(), &lookup);
        for (i, action) in rule.actions.iter().enumerate() {
            if let RuleAction::Decide(decide) = action {
                let (model, _) = RuleDef::decision_ref(&decide.decision);
                if let Err(Error::NotFound(_)) = self.decision(principal, model, None).await {
                    errors.push(FieldError {
                        pointer: format!("/actions/{i}/decide/decision"),
                        code: FieldErrorCode::UnknownReference,
                        reason: format!("no decision model `{model}` is deployed"),
                    });
                }
            }
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let definition = serde_json::to_string(&rule).map_err(|e| Error::Internal(e.to_string()))?;
        let principal = principal.clone();
        let saved = self
            .db
            .write(move |tx| {
                Box::pin(async move {
                    let version = store::get(tx, &rule.name).await?.map_or(1, |r| r.version + 1);
                    let stored = StoredRule {
                        name: rule.name.clone(),
                        type_name: rule.type_name.clone(),
                        enabled: rule.enabled,
                        definition,
                        version,
                        updated_at: weft_store::now(),
                    };
                    store::put(tx, &stored).await?;
                    let detail = serde_json::to_value(&rule).unwrap_or(Json::Null);
                    admin_audit::record(tx, &principal, "rule.put", "rule", &rule.name, detail).await?;
                    Ok::<_, Error>(stored)
                })
            })
            .await?;
        view(&saved)
    }

    /// Removes a rule (admin, audited).
    pub async fn delete_rule(&self, principal: &Principal, name: &str) -> Result<()> {
        self.require_admin(principal)?;
        let owned = name.to_owned();
        let principal = principal.clone();
        let found = self
            .db
            .write(move |tx| {
                Box::pin(async move {
                    let found = store::delete(tx, &owned).await?;
                    if found {
                        admin_audit::record(tx, &principal, "rule.delete", "rule", &owned, Json::Null).await?;
                    }
                    Ok::<_, Error>(found)
                })
            })
            .await?;
        if found { Ok(()) } else { Err(Error::NotFound(format!("rule `{name}`"))) }
    }

    /// Runs the enabled rules of the event's type that it sets off.
    async fn run_rules(&self, event: &StoredEvent) -> Result<()> {
        if !matches!(event.kind.as_str(), "record.created" | "record.updated" | "record.transitioned") {
            return Ok(());
        }
        if event.payload["origin"].as_str().is_some_and(|o| o.starts_with("rule:")) {
            return Ok(());
        }
        let Some(id) = event.record_id else { return Ok(()) };
        let transition = event.payload["transition"].as_str();
        for stored in store::enabled_for(&self.db, &event.type_name).await? {
            let rule: RuleDef = match serde_json::from_str(&stored.definition) {
                Ok(rule) => rule,
                Err(e) => {
                    tracing::warn!(rule = %stored.name, error = %e, "a rule cannot be read; skipped");
                    continue;
                }
            };
            if rule.fires_on(&event.kind, transition) {
                self.run_rule(&rule, event, id).await?;
            }
        }
        Ok(())
    }

    /// One rule on one record. A rule that no longer fits the record (a value it cannot
    /// compute, a transition from the wrong state, a failed guard) is logged and does
    /// nothing; a busy dependency or a record changed meanwhile is retried.
    async fn run_rule(&self, rule: &RuleDef, event: &StoredEvent, id: Uuid) -> Result<()> {
        let skip = |reason: String| {
            tracing::warn!(rule = %rule.name, record = %id, seq = event.seq, %reason, "a rule did nothing");
            Ok(())
        };
        let entry = self.entry(&rule.type_name)?;
        let decl = &entry.decl;
        let system = Principal::system();
        let Some(read) = rows::get(Source::Db(&self.db), &entry.spec, id, false).await? else { return Ok(()) };
        let values = crate::expressions::context_values(Some(&read), &read.values);
        let related =
            Related::load(Source::Db(&self.db), &self.catalog, &decl.fields, &values, &rule.sources()).await?;
        if let Some(condition) = &rule.condition {
            match crate::expressions::condition_holds(condition, decl, &read, &system, &related) {
                Ok(true) => {}
                Ok(false) => return Ok(()),
                Err(e) => return skip(format!("condition: {e}")),
            }
        }
        // The actions, in order, on a working copy of the record.
        let mut record: StoredRecord = read.clone();
        let mut changes: BTreeMap<String, Value> = BTreeMap::new();
        let mut state: Option<String> = None;
        let mut alerts = Vec::new();
        let no_inputs = BTreeMap::new();
        for action in &rule.actions {
            match action {
                RuleAction::Set(fields) => {
                    for (name, feel) in fields {
                        let Some(field) = decl.field(name) else { return skip(format!("no field `{name}`")) };
                        let feel = DefaultValue::Feel { feel: feel.clone() };
                        let scope = TransitionScope {
                            record: &record,
                            inputs: &no_inputs,
                            principal: &system,
                            decl,
                            transition_inputs: &[],
                            related: &related,
                        };
                        match crate::expressions::value_for(field, &feel, &scope) {
                            Ok(v) => {
                                record.values.insert(name.clone(), v.clone());
                                changes.insert(name.clone(), v);
                            }
                            Err(e) => return skip(format!("`{name}`: {e:?}")),
                        }
                    }
                }
                RuleAction::Decide(decide) => {
                    let mut input = serde_json::Map::new();
                    for (name, feel) in &decide.inputs {
                        match crate::expressions::evaluate_json(feel, decl, &record, &system, &related) {
                            Ok(v) => {
                                input.insert(name.clone(), v);
                            }
                            Err(e) => return skip(format!("decision input `{name}`: {e}")),
                        }
                    }
                    let (model, decision) = RuleDef::decision_ref(&decide.decision);
                    let answer = match self
                        .evaluate_decision(&system, model, None, decision, Json::Object(input), false)
                        .await
                    {
                        Ok(answer) => answer,
                        Err(e @ Error::Unavailable(_)) => return Err(e),
                        Err(e) => return skip(format!("decision `{}`: {e}", decide.decision)),
                    };
                    let value = answer.get("value").cloned().unwrap_or(Json::Null);
                    for (name, output) in &decide.set {
                        let Some(field) = decl.field(name) else { return skip(format!("no field `{name}`")) };
                        let json = match &value {
                            Json::Object(outputs) => outputs.get(output).cloned().unwrap_or(Json::Null),
                            plain => plain.clone(),
                        };
                        match coerce_value(field, &json, &format!("/{name}")) {
                            Ok(v) => {
                                record.values.insert(name.clone(), v.clone());
                                changes.insert(name.clone(), v);
                            }
                            Err(e) => return skip(format!("decision output `{output}` for `{name}`: {e:?}")),
                        }
                    }
                }
                RuleAction::Transition(name) => {
                    let Some(t) = decl.lifecycle.as_ref().and_then(|l| l.transition(name)) else {
                        return skip(format!("no transition `{name}`"));
                    };
                    let from = record.system.state.clone().unwrap_or_default();
                    if !t.from.contains(&from) {
                        return skip(format!("`{name}` cannot start from `{from}`"));
                    }
                    // The record as the rule's actions so far left it, references included.
                    let transition_related =
                        Related::for_transition(Source::Db(&self.db), &self.catalog, decl, t, &record, &no_inputs)
                            .await?;
                    let scope = TransitionScope {
                        record: &record,
                        inputs: &no_inputs,
                        principal: &system,
                        decl,
                        transition_inputs: &t.inputs,
                        related: &transition_related,
                    };
                    if let Some(guard) = &t.guard
                        && let Err(e) = crate::expressions::check_guard(guard, &scope)
                    {
                        return skip(format!("guard of `{name}`: {e}"));
                    }
                    // Every value over the record as the transition found it, as a
                    // transition by hand computes them.
                    let mut set = Vec::new();
                    for (field_name, value) in &t.set {
                        let Some(field) = decl.field(field_name) else { continue };
                        match crate::expressions::value_for(field, value, &scope) {
                            Ok(v) => set.push((field_name.clone(), v)),
                            Err(e) => return skip(format!("`{name}` sets `{field_name}`: {e:?}")),
                        }
                    }
                    for (field_name, v) in set {
                        record.values.insert(field_name.clone(), v.clone());
                        changes.insert(field_name, v);
                    }
                    record.system.state = Some(t.to.clone());
                    state = Some(name.clone());
                }
                RuleAction::Alert(alert) => alerts.push(alert.clone()),
            }
        }
        if !changes.is_empty() || state.is_some() {
            let entry = entry.clone();
            let version = read.system.version;
            let command = format!("rule:{}", rule.name);
            let consumer = format!("rule:{}", rule.name);
            // A transition is written under its own name (processes start on it); a plain
            // change under the rule's.
            crate::consumers::once(self, &consumer, event, move |tx| {
                Box::pin(async move {
                    let current = crate::records::load_in_tx(tx, &entry, id).await?;
                    if current.system.version != version {
                        // Changed since the rule read it: the event is retried on the new state.
                        return Err(Error::Stale { current: current.system.version });
                    }
                    let to = state.as_deref().and_then(|t| {
                        entry.decl.lifecycle.as_ref().and_then(|l| l.transition(t)).map(|t| t.to.clone())
                    });
                    let name = state.clone().unwrap_or_else(|| command.clone());
                    let origin = command.clone();
                    // engine_write names a transition by its `command`.
                    crate::records::engine_write_by(tx, &entry, &current, to.as_deref(), changes, &name, Some(&origin))
                        .await
                })
            })
            .await?;
        }
        for alert in alerts {
            let mut recipients = Vec::new();
            for to in &alert.to {
                match to.strip_prefix("role:") {
                    Some(role) => recipients.extend(
                        self.directory()
                            .holdings
                            .iter()
                            .filter(|(_, roles)| roles.iter().any(|r| r == role))
                            .map(|(id, _)| *id),
                    ),
                    None if to.contains('.') => {
                        let (reference, name) = to.split_once('.').unwrap_or_default();
                        if let Some(Value::Reference(who)) = related.value(reference, name) {
                            recipients.push(*who);
                        }
                    }
                    None => {
                        let who = match to.as_str() {
                            "owner" => record.system.owner,
                            "created_by" => Some(record.system.created_by),
                            "updated_by" => Some(record.system.updated_by),
                            field => match record.values.get(field) {
                                Some(Value::Reference(id)) => Some(*id),
                                _ => None,
                            },
                        };
                        recipients.extend(who);
                    }
                }
            }
            self.raise_alert(NewAlert {
                recipients,
                type_name: rule.type_name.clone(),
                record_id: id,
                summary: format!("{} / {}", alert.summary.zh, alert.summary.en),
                source: format!("rule:{}:{}", rule.name, event.seq),
            })
            .await?;
        }
        Ok(())
    }
}

/// The outbox consumer that runs automation rules (`weft serve` spawns it).
#[derive(Debug, Clone, Copy, Default)]
pub struct AutomationRules;

impl Consumer for AutomationRules {
    fn name(&self) -> &str {
        "automation_rules"
    }

    fn handle<'a>(&'a self, workspace: &'a Workspace, event: &'a StoredEvent) -> BoxFuture<'a, Result<()>> {
        Box::pin(workspace.run_rules(event))
    }
}
