use crate::Limits;
use crate::dmn::{self, Document, HitPolicy, ItemDef, Logic};
use crate::engine::Engine;
use crate::error::{DecisionProblem, EvalError, ProblemKind};
use crate::native::{self, NativeTable};
use crate::value::{BuiltinType, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;

/// A deployed DMN model: validated, compiled, ready to evaluate any of its decisions.
/// Cheap to clone (shared), `Send + Sync`.
#[derive(Clone)]
pub struct DecisionModel {
    inner: Arc<Inner>,
}

struct Inner {
    doc: Document,
    engine: Arc<Engine>,
    plans: Vec<Option<NativeTable>>,
    /// Decision index → name of its explanation twin in the engine.
    twins: HashMap<usize, String>,
    limits: Limits,
}

impl fmt::Debug for DecisionModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecisionModel")
            .field("name", &self.inner.doc.name)
            .field("decisions", &self.inner.doc.decisions.len())
            .finish()
    }
}

/// What `decisions()` tells about one decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecisionInfo {
    pub id: String,
    pub name: String,
    /// `decisionTable`, `literalExpression`, `context`, … or `none`.
    pub logic: String,
    /// For decision tables: `UNIQUE`, `FIRST`, `COLLECT SUM`, …
    pub hit_policy: Option<String>,
    /// The input data this decision needs, directly or through the decisions it requires.
    pub inputs: Vec<InputInfo>,
    /// The decisions it requires directly, by name.
    pub requires: Vec<String>,
    /// Its declared type (`typeRef`), if any.
    pub output_type: Option<String>,
    /// For tables with several outputs: the names of the result's components.
    pub output_components: Vec<String>,
    /// Evaluated by Weft's fast table path (rather than the general engine).
    pub fast_path: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct InputInfo {
    pub name: String,
    pub type_ref: Option<String>,
}

/// The result of one evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct DecisionOutcome {
    pub decision: String,
    /// The decision's value; FEEL errors make it `Null`. [`Value::to_json`] renders it,
    /// numbers as exact decimal strings.
    pub value: Value,
    /// One entry per decision table evaluated for this decision (itself and the tables
    /// it requires), in evaluation order.
    pub explanation: Vec<TableTrace>,
}

impl DecisionOutcome {
    /// `{"decision": …, "value": …, "explanation": [{"decision", "hit_policy", "matched_rules"}]}`
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "decision": self.decision,
            "value": self.value.to_json(),
            "explanation": self.explanation.iter().map(|t| serde_json::json!({
                "decision": t.decision,
                "hit_policy": t.hit_policy,
                "matched_rules": t.matched_rules,
                "matched_rule_ids": t.matched_rule_ids,
            })).collect::<Vec<_>>(),
        })
    }
}

/// Which rules of one decision table matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableTrace {
    pub decision: String,
    pub hit_policy: String,
    /// Rule numbers as a modeller sees them (1 is the first rule), in rule order, every
    /// rule that matched (the hit policy then picks from them).
    pub matched_rules: Vec<usize>,
    /// The `id`s of those rules, where the model gives them.
    pub matched_rule_ids: Vec<String>,
}

/// How to evaluate.
#[derive(Clone, Copy, Debug)]
pub struct EvalOptions {
    /// Collect which rules matched (costs one more engine pass per table outside the fast
    /// path).
    pub explain: bool,
    /// Never take the fast path (used to check that both paths agree).
    pub engine_only: bool,
}

impl Default for EvalOptions {
    fn default() -> EvalOptions {
        EvalOptions { explain: true, engine_only: false }
    }
}

impl DecisionModel {
    /// Parses, validates and compiles a DMN 1.1–1.5 model within the default [`Limits`].
    /// Every problem found is returned at once.
    pub fn parse(xml: &str) -> Result<DecisionModel, Vec<DecisionProblem>> {
        DecisionModel::parse_with(xml, &[], &Limits::default())
    }

    /// Parses a model together with the models it imports (DMN `<import>`), within `limits`.
    pub fn parse_with(xml: &str, imports: &[&str], limits: &Limits) -> Result<DecisionModel, Vec<DecisionProblem>> {
        let mut problems = vec![];
        let doc = dmn::read(xml, limits, &mut problems);
        let mut imported = vec![];
        for (i, other) in imports.iter().enumerate() {
            let mut p = vec![];
            if let Some(d) = dmn::read(other, limits, &mut p) {
                imported.push((d, *other));
            }
            for mut problem in p {
                problem.message = format!("imported model {}: {}", i + 1, problem.message);
                problems.push(problem);
            }
        }
        let Some(doc) = doc else { return Err(problems) };
        if !problems.is_empty() {
            return Err(problems);
        }
        let mut main_xml = xml.to_string();
        let mut twins = HashMap::new();
        if let Some((with_twins, names)) = add_twins(xml, &doc) {
            main_xml = with_twins;
            twins = names;
        }
        let others: Vec<String> = imported.iter().map(|(d, x)| dmn::for_engine(x, d.version)).collect();
        let mut documents = vec![dmn::for_engine(&main_xml, doc.version)];
        documents.extend(others.iter().cloned());
        let engine = match Engine::build(documents, limits) {
            Ok(e) => e,
            Err(first) if !twins.is_empty() => {
                // the explanation twins must never cost a model its deployment
                twins.clear();
                let mut plain = vec![dmn::for_engine(xml, doc.version)];
                plain.extend(others);
                Engine::build(plain, limits).map_err(|_| vec![engine_problem(&first)])?
            }
            Err(e) => return Err(vec![engine_problem(&e)]),
        };
        let plans = native::compile(&doc);
        Ok(DecisionModel { inner: Arc::new(Inner { doc, engine: Arc::new(engine), plans, twins, limits: *limits }) })
    }

    /// The model's name (`<definitions name>`).
    pub fn name(&self) -> &str {
        &self.inner.doc.name
    }

    /// The model's namespace (`<definitions namespace>`).
    pub fn namespace(&self) -> &str {
        &self.inner.doc.namespace
    }

    /// Every decision of the model, in document order.
    pub fn decisions(&self) -> Vec<DecisionInfo> {
        let doc = &self.inner.doc;
        (0..doc.decisions.len()).map(|i| self.info(i)).collect()
    }

    /// The names of the model's decision services.
    pub fn decision_services(&self) -> Vec<String> {
        self.inner.doc.services.iter().map(|s| s.1.clone()).collect()
    }

    fn info(&self, i: usize) -> DecisionInfo {
        let doc = &self.inner.doc;
        let d = &doc.decisions[i];
        let by_id: HashMap<&str, usize> = doc.decisions.iter().enumerate().map(|(i, d)| (d.id.as_str(), i)).collect();
        let mut inputs = BTreeSet::new();
        for j in closure(doc, i) {
            for r in &doc.decisions[j].required_inputs {
                if let Some(input) = r.strip_prefix('#').and_then(|id| doc.input_data.iter().find(|x| x.id == id)) {
                    inputs.insert(InputInfo { name: input.name.clone(), type_ref: input.type_ref.clone() });
                }
            }
        }
        let (logic, hit_policy, components) = match &d.logic {
            Logic::None => ("none".to_string(), None, vec![]),
            Logic::Table(t) => (
                "decisionTable".to_string(),
                Some(t.hit_policy.name().to_string()),
                if t.outputs.len() > 1 { t.outputs.iter().filter_map(|o| o.name.clone()).collect() } else { vec![] },
            ),
            Logic::Other(kind) => (kind.clone(), None, vec![]),
        };
        DecisionInfo {
            id: d.id.clone(),
            name: d.name.clone(),
            logic,
            hit_policy,
            inputs: inputs.into_iter().collect(),
            requires: d
                .required_decisions
                .iter()
                .filter_map(|r| {
                    r.strip_prefix('#').and_then(|id| by_id.get(id)).map(|&j| doc.decisions[j].name.clone())
                })
                .collect(),
            output_type: d.type_ref.clone(),
            output_components: components,
            fast_path: self.inner.plans[i].is_some(),
        }
    }

    /// Evaluates `decision` (a decision's or a decision service's name) on a JSON object of
    /// input names to values. Strings are read as the declared type of the input they fill
    /// (`"12.50"` for a `number`, `"2026-01-31"` for a `date`, also inside structured
    /// inputs), so exact decimals and dates survive JSON.
    pub fn evaluate(&self, decision: &str, input: &serde_json::Value) -> Result<DecisionOutcome, EvalError> {
        let serde_json::Value::Object(map) = input else { return Err(EvalError::InputNotAnObject) };
        let doc = &self.inner.doc;
        let mut values = BTreeMap::new();
        for (name, json) in map {
            let mut v = Value::from_json(json);
            if let Some(input) = doc.input_data.iter().find(|x| &x.name == name) {
                v = read_typed(v, input.type_ref.as_deref(), &doc.item_definitions, 0);
            }
            values.insert(name.clone(), v);
        }
        self.evaluate_values(decision, &values, &EvalOptions::default())
    }

    /// Evaluates `decision` on typed values (no conversion: the caller's types are kept).
    pub fn evaluate_values(
        &self,
        decision: &str,
        input: &BTreeMap<String, Value>,
        options: &EvalOptions,
    ) -> Result<DecisionOutcome, EvalError> {
        let inner = &*self.inner;
        let doc = &inner.doc;
        let index = doc.decisions.iter().position(|d| d.name == decision);
        let is_service = doc.services.iter().any(|s| s.1 == decision);
        if index.is_none() && !is_service {
            let suggestion = doc
                .decisions
                .iter()
                .map(|d| d.name.as_str())
                .chain(doc.services.iter().map(|s| s.1.as_str()))
                .map(|n| (strsim::jaro_winkler(n, decision), n))
                .filter(|(score, _)| *score > 0.8)
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, n)| n.to_string());
            return Err(EvalError::UnknownDecision { name: decision.to_string(), suggestion });
        }
        if let Some(i) = index
            && !options.engine_only
            && inner.plans[i].is_some()
        {
            let mut trace = vec![];
            let value = native::evaluate(&inner.plans, i, input, &mut trace);
            let explanation = if options.explain {
                trace.into_iter().map(|(j, rules)| self.table_trace(j, rules)).collect()
            } else {
                vec![]
            };
            return Ok(DecisionOutcome { decision: decision.to_string(), value, explanation });
        }
        let mut names = vec![decision.to_string()];
        let mut explained = vec![];
        if options.explain
            && let Some(i) = index
        {
            let mut order = closure(doc, i);
            order.reverse();
            for j in order.into_iter().take(inner.limits.max_explained_tables) {
                if let Some(twin) = inner.twins.get(&j) {
                    names.push(twin.clone());
                    explained.push(j);
                }
            }
        }
        let mut values = inner.engine.evaluate(names, input.clone(), &inner.limits)?;
        let value = values.remove(0);
        let explanation = explained
            .into_iter()
            .zip(values)
            .map(|(j, v)| {
                let rules = match v {
                    Value::List(items) => items
                        .iter()
                        .filter_map(|x| match x {
                            Value::Number(n) => n.to_string().parse::<usize>().ok().and_then(|r| r.checked_sub(1)),
                            _ => None,
                        })
                        .collect(),
                    Value::Number(n) => {
                        n.to_string().parse::<usize>().ok().and_then(|r| r.checked_sub(1)).into_iter().collect()
                    }
                    _ => vec![],
                };
                self.table_trace(j, rules)
            })
            .collect();
        Ok(DecisionOutcome { decision: decision.to_string(), value, explanation })
    }

    fn table_trace(&self, index: usize, rules: Vec<usize>) -> TableTrace {
        let d = &self.inner.doc.decisions[index];
        let (hit_policy, ids) = match &d.logic {
            Logic::Table(t) => (
                t.hit_policy.name().to_string(),
                rules.iter().filter_map(|&r| t.rules.get(r).and_then(|x| x.id.clone())).collect(),
            ),
            _ => (HitPolicy::Unique.name().to_string(), vec![]),
        };
        TableTrace {
            decision: d.name.clone(),
            hit_policy,
            matched_rules: rules.into_iter().map(|r| r + 1).collect(),
            matched_rule_ids: ids,
        }
    }
}

fn engine_problem(message: &str) -> DecisionProblem {
    DecisionProblem::new(ProblemKind::InvalidModel, None, format!("the model cannot be compiled: {message}"))
}

/// Decision `i` and every decision it requires, each once, requirements after requirers.
fn closure(doc: &Document, i: usize) -> Vec<usize> {
    let by_id: HashMap<&str, usize> = doc.decisions.iter().enumerate().map(|(i, d)| (d.id.as_str(), i)).collect();
    let mut seen = vec![false; doc.decisions.len()];
    let mut order = vec![];
    let mut stack = vec![i];
    seen[i] = true;
    while let Some(j) = stack.pop() {
        order.push(j);
        for r in &doc.decisions[j].required_decisions {
            if let Some(&k) = r.strip_prefix('#').and_then(|id| by_id.get(id))
                && !seen[k]
            {
                seen[k] = true;
                stack.push(k);
            }
        }
    }
    order
}

/// Reads JSON strings as the declared type (also inside structured and list types).
fn read_typed(value: Value, type_ref: Option<&str>, items: &BTreeMap<String, ItemDef>, depth: usize) -> Value {
    let Some(t) = type_ref else { return value };
    if depth > 32 {
        return value;
    }
    if let Some(b) = BuiltinType::from_type_ref(t) {
        return b.read_text(value);
    }
    match items.get(t.trim()) {
        Some(item) => read_item(value, item, items, depth + 1),
        None => value,
    }
}

fn read_item(value: Value, item: &ItemDef, items: &BTreeMap<String, ItemDef>, depth: usize) -> Value {
    if item.is_collection {
        let single =
            ItemDef { type_ref: item.type_ref.clone(), is_collection: false, components: item.components.clone() };
        return match value {
            Value::List(list) => {
                Value::List(list.into_iter().map(|v| read_item(v, &single, items, depth + 1)).collect())
            }
            other => other,
        };
    }
    if !item.components.is_empty() {
        return match value {
            Value::Context(mut ctx) => {
                for (name, component) in &item.components {
                    if let Some(v) = ctx.remove(name) {
                        ctx.insert(name.clone(), read_item(v, component, items, depth + 1));
                    }
                }
                Value::Context(ctx)
            }
            other => other,
        };
    }
    read_typed(value, item.type_ref.as_deref(), items, depth + 1)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Adds, for each decision table decision, a hidden twin decision with the same
/// requirements, inputs and input entries, hit policy COLLECT and the rule number as its
/// only output: the engine itself then says which rules match, with its own semantics.
fn add_twins(xml: &str, doc: &Document) -> Option<(String, HashMap<usize, String>)> {
    let options = roxmltree::ParsingOptions { allow_dtd: false, nodes_limit: u32::MAX, ..Default::default() };
    let parsed = roxmltree::Document::parse_with_options(xml, options).ok()?;
    let root = parsed.root_element();
    let ns = root.tag_name().namespace()?;
    let end = root.range().end;
    let close = xml[..end].rfind("</")?;
    let mut extra = String::new();
    let mut names = HashMap::new();
    for (i, d) in doc.decisions.iter().enumerate() {
        let Logic::Table(table) = &d.logic else { continue };
        if table.rules.is_empty() {
            continue;
        }
        let name = format!("__weft_explain_{i}");
        extra.push_str(&format!("<decision xmlns=\"{ns}\" id=\"{name}\" name=\"{name}\"><variable name=\"{name}\"/>"));
        for r in &d.required_decisions {
            extra.push_str(&format!(
                "<informationRequirement><requiredDecision href=\"{}\"/></informationRequirement>",
                escape(r)
            ));
        }
        for r in &d.required_inputs {
            extra.push_str(&format!(
                "<informationRequirement><requiredInput href=\"{}\"/></informationRequirement>",
                escape(r)
            ));
        }
        for r in &d.required_knowledge {
            extra.push_str(&format!(
                "<knowledgeRequirement><requiredKnowledge href=\"{}\"/></knowledgeRequirement>",
                escape(r)
            ));
        }
        extra.push_str("<decisionTable hitPolicy=\"COLLECT\">");
        for input in &table.inputs {
            extra.push_str("<input><inputExpression");
            if let Some(t) = &input.type_ref {
                extra.push_str(&format!(" typeRef=\"{}\"", escape(t)));
            }
            extra.push_str(&format!("><text>{}</text></inputExpression>", escape(&input.expression)));
            if let Some(v) = &input.allowed_values {
                extra.push_str(&format!("<inputValues><text>{}</text></inputValues>", escape(v)));
            }
            extra.push_str("</input>");
        }
        extra.push_str("<output/>");
        for (r, rule) in table.rules.iter().enumerate() {
            extra.push_str("<rule>");
            for entry in &rule.inputs {
                extra.push_str(&format!("<inputEntry><text>{}</text></inputEntry>", escape(entry)));
            }
            extra.push_str(&format!("<outputEntry><text>{}</text></outputEntry></rule>", r + 1));
        }
        extra.push_str("</decisionTable></decision>");
        names.insert(i, name);
    }
    if names.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(xml.len() + extra.len());
    out.push_str(&xml[..close]);
    out.push_str(&extra);
    out.push_str(&xml[close..]);
    Some((out, names))
}
