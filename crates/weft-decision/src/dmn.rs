//! Weft's own structural reading of a DMN document: what `decisions()` lists, what
//! deploy-time validation checks (every problem at once), what the fast table path compiles.
//! The engine reads the same document again for full semantics.

use crate::Limits;
use crate::error::{DecisionProblem, ProblemKind};
use std::collections::{BTreeMap, HashMap, HashSet};

pub(crate) const DMN_11: &str = "http://www.omg.org/spec/DMN/20151101/dmn.xsd";
pub(crate) const DMN_12: &str = "http://www.omg.org/spec/DMN/20180521/MODEL/";
pub(crate) const DMN_13: &str = "https://www.omg.org/spec/DMN/20191111/MODEL/";
pub(crate) const DMN_14: &str = "https://www.omg.org/spec/DMN/20211108/MODEL/";
pub(crate) const DMN_15: &str = "https://www.omg.org/spec/DMN/20230324/MODEL/";
pub(crate) const DMNDI_12: &str = "http://www.omg.org/spec/DMN/20180521/DMNDI/";
pub(crate) const DMNDI_13: &str = "https://www.omg.org/spec/DMN/20191111/DMNDI/";

/// The DMN version of a document, from its namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DmnVersion {
    V1_1,
    V1_2,
    V1_3,
    V1_4,
    V1_5,
}

impl DmnVersion {
    fn from_namespace(ns: &str) -> Option<DmnVersion> {
        Some(match ns {
            DMN_11 => DmnVersion::V1_1,
            DMN_12 => DmnVersion::V1_2,
            DMN_13 => DmnVersion::V1_3,
            DMN_14 => DmnVersion::V1_4,
            DMN_15 => DmnVersion::V1_5,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HitPolicy {
    Unique,
    First,
    Priority,
    Any,
    Collect(Aggregation),
    RuleOrder,
    OutputOrder,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aggregation {
    List,
    Sum,
    Min,
    Max,
    Count,
}

impl HitPolicy {
    pub fn name(&self) -> &'static str {
        match self {
            HitPolicy::Unique => "UNIQUE",
            HitPolicy::First => "FIRST",
            HitPolicy::Priority => "PRIORITY",
            HitPolicy::Any => "ANY",
            HitPolicy::Collect(Aggregation::List) => "COLLECT",
            HitPolicy::Collect(Aggregation::Sum) => "COLLECT SUM",
            HitPolicy::Collect(Aggregation::Min) => "COLLECT MIN",
            HitPolicy::Collect(Aggregation::Max) => "COLLECT MAX",
            HitPolicy::Collect(Aggregation::Count) => "COLLECT COUNT",
            HitPolicy::RuleOrder => "RULE ORDER",
            HitPolicy::OutputOrder => "OUTPUT ORDER",
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Table {
    pub hit_policy: HitPolicy,
    pub inputs: Vec<TableInput>,
    pub outputs: Vec<TableOutput>,
    pub rules: Vec<Rule>,
}

#[derive(Clone, Debug)]
pub(crate) struct TableInput {
    pub expression: String,
    pub type_ref: Option<String>,
    pub allowed_values: Option<String>,
}

#[derive(Clone, Debug)]
pub(crate) struct TableOutput {
    pub name: Option<String>,
    pub type_ref: Option<String>,
    pub allowed_values: Option<String>,
    pub default: Option<String>,
}

#[derive(Clone, Debug)]
pub(crate) struct Rule {
    pub id: Option<String>,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
}

#[derive(Clone, Debug)]
pub(crate) enum Logic {
    None,
    Table(Table),
    /// Another boxed expression: its element name (`literalExpression`, `context`, …).
    Other(String),
}

#[derive(Clone, Debug)]
pub(crate) struct Decision {
    pub id: String,
    pub name: String,
    pub type_ref: Option<String>,
    pub required_decisions: Vec<String>,
    pub required_inputs: Vec<String>,
    pub required_knowledge: Vec<String>,
    pub logic: Logic,
}

#[derive(Clone, Debug)]
pub(crate) struct InputData {
    pub id: String,
    pub name: String,
    pub type_ref: Option<String>,
}

#[derive(Clone, Debug)]
pub(crate) struct ItemDef {
    pub type_ref: Option<String>,
    pub is_collection: bool,
    pub components: Vec<(String, ItemDef)>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Document {
    pub version: Option<DmnVersion>,
    pub namespace: String,
    pub name: String,
    pub decisions: Vec<Decision>,
    pub input_data: Vec<InputData>,
    /// Business knowledge models and decision services: (id, name).
    pub bkms: Vec<(String, String)>,
    pub services: Vec<(String, String)>,
    /// Requirement edges between elements of the graph (decision, BKM or service id →
    /// required decision, BKM or service ids), for cycle checks.
    pub edges: HashMap<String, Vec<String>>,
    pub item_definitions: BTreeMap<String, ItemDef>,
    /// Namespaces of imports, by import name.
    pub imports: HashMap<String, String>,
}

/// Reads `xml` within `limits`; every problem found is pushed to `problems`.
pub(crate) fn read(xml: &str, limits: &Limits, problems: &mut Vec<DecisionProblem>) -> Option<Document> {
    if xml.len() > limits.max_xml_bytes {
        problems.push(DecisionProblem::new(
            ProblemKind::TooLarge,
            None,
            format!("the model is {} bytes; at most {} are accepted", xml.len(), limits.max_xml_bytes),
        ));
        return None;
    }
    let options =
        roxmltree::ParsingOptions { allow_dtd: false, nodes_limit: limits.max_xml_nodes, ..Default::default() };
    let doc = match roxmltree::Document::parse_with_options(xml, options) {
        Ok(doc) => doc,
        Err(e) => {
            problems.push(DecisionProblem::new(ProblemKind::InvalidXml, None, format!("not well-formed XML: {e}")));
            return None;
        }
    };
    let root = doc.root_element();
    // depth check, iteratively
    let mut max_depth = 0usize;
    let mut stack = vec![(root, 1usize)];
    while let Some((node, depth)) = stack.pop() {
        max_depth = max_depth.max(depth);
        if depth > limits.max_xml_depth {
            problems.push(DecisionProblem::new(
                ProblemKind::TooLarge,
                None,
                format!("elements are nested deeper than {} levels", limits.max_xml_depth),
            ));
            return None;
        }
        for child in node.children().filter(|n| n.is_element()) {
            stack.push((child, depth + 1));
        }
    }
    let ns = root.tag_name().namespace().unwrap_or("");
    let version = DmnVersion::from_namespace(ns);
    if root.tag_name().name() != "definitions" || version.is_none() {
        problems.push(DecisionProblem::new(
            ProblemKind::NotDmn,
            None,
            format!(
                "the root element must be a DMN 1.1–1.5 <definitions>, found <{}> in namespace '{}'",
                root.tag_name().name(),
                ns
            ),
        ));
        return None;
    }
    let mut d = Document {
        version,
        namespace: root.attribute("namespace").unwrap_or("").to_string(),
        name: root.attribute("name").unwrap_or("").to_string(),
        ..Document::default()
    };
    let is = |n: &roxmltree::Node, name: &str| {
        n.is_element() && n.tag_name().name() == name && n.tag_name().namespace() == Some(ns)
    };
    let href = |n: roxmltree::Node| n.attribute("href").unwrap_or("").to_string();

    // expressions: size and nesting of every FEEL text
    for node in root.descendants().filter(|n| is(n, "text") || is(n, "typeRef")) {
        let text = node.text().unwrap_or("");
        let owner = owner_label(node);
        if text.len() > limits.max_expression_len {
            problems.push(DecisionProblem::new(
                ProblemKind::TooLarge,
                owner.clone(),
                format!(
                    "an expression is {} bytes long; at most {} are accepted",
                    text.len(),
                    limits.max_expression_len
                ),
            ));
        } else if nesting(text) > limits.max_expression_nesting {
            problems.push(DecisionProblem::new(
                ProblemKind::TooLarge,
                owner.clone(),
                format!("an expression nests brackets deeper than {} levels", limits.max_expression_nesting),
            ));
        }
        if calls_external(text) {
            problems.push(DecisionProblem::new(
                ProblemKind::Unsupported,
                owner,
                "external (Java/PMML) functions are not allowed in Weft".to_string(),
            ));
        }
    }
    for node in root.descendants().filter(|n| is(n, "functionDefinition") || is(n, "encapsulatedLogic")) {
        if let Some(kind) = node.attribute("kind")
            && !matches!(kind, "FEEL" | "F")
        {
            problems.push(DecisionProblem::new(
                ProblemKind::Unsupported,
                owner_label(node),
                format!("function kind '{kind}' (external code) is not allowed in Weft"),
            ));
        }
    }

    if !limits.allow_recursion {
        problems.extend(recursion_problems(root, ns));
    }

    // ids must be unique
    let mut ids = HashSet::new();
    for node in root.descendants().filter(|n| n.is_element()) {
        if let Some(id) = node.attribute("id")
            && !ids.insert(id)
        {
            problems.push(DecisionProblem::new(
                ProblemKind::DuplicateId,
                Some(id.to_string()),
                format!("id '{id}' is used twice"),
            ));
        }
    }

    for import in root.children().filter(|n| is(n, "import")) {
        if let (Some(name), Some(namespace)) = (import.attribute("name"), import.attribute("namespace")) {
            d.imports.insert(name.to_string(), namespace.to_string());
        }
    }

    for item in root.children().filter(|n| is(n, "itemDefinition")) {
        if let Some(name) = item.attribute("name") {
            d.item_definitions.insert(name.to_string(), read_item(item, ns, 0));
        }
    }

    for node in root.children().filter(|n| n.is_element()) {
        let id = node.attribute("id").unwrap_or("").to_string();
        let name = node.attribute("name").unwrap_or("").trim().to_string();
        let variable_type = child(node, ns, "variable").and_then(|v| v.attribute("typeRef")).map(str::to_string);
        match node.tag_name().name() {
            "inputData" if is(&node, "inputData") => d.input_data.push(InputData { id, name, type_ref: variable_type }),
            "businessKnowledgeModel" if is(&node, "businessKnowledgeModel") => {
                let reqs = node
                    .children()
                    .filter(|c| is(c, "knowledgeRequirement"))
                    .filter_map(|r| child(r, ns, "requiredKnowledge"))
                    .map(href)
                    .collect();
                d.edges.insert(id.clone(), reqs);
                d.bkms.push((id, name));
            }
            "decisionService" if is(&node, "decisionService") => {
                let reqs = node
                    .children()
                    .filter(|c| is(c, "outputDecision") || is(c, "encapsulatedDecision"))
                    .map(href)
                    .collect();
                d.edges.insert(id.clone(), reqs);
                d.services.push((id, name));
            }
            "decision" if is(&node, "decision") => {
                let mut decision = Decision {
                    id,
                    name,
                    type_ref: variable_type,
                    required_decisions: vec![],
                    required_inputs: vec![],
                    required_knowledge: vec![],
                    logic: Logic::None,
                };
                for req in node.children().filter(|c| is(c, "informationRequirement")) {
                    if let Some(r) = child(req, ns, "requiredDecision") {
                        decision.required_decisions.push(href(r));
                    }
                    if let Some(r) = child(req, ns, "requiredInput") {
                        decision.required_inputs.push(href(r));
                    }
                }
                for req in node.children().filter(|c| is(c, "knowledgeRequirement")) {
                    if let Some(r) = child(req, ns, "requiredKnowledge") {
                        decision.required_knowledge.push(href(r));
                    }
                }
                let logic = node.children().find(|c| {
                    c.is_element()
                        && c.tag_name().namespace() == Some(ns)
                        && !matches!(
                            c.tag_name().name(),
                            "description"
                                | "extensionElements"
                                | "question"
                                | "allowedAnswers"
                                | "variable"
                                | "informationRequirement"
                                | "knowledgeRequirement"
                                | "authorityRequirement"
                                | "supportedObjective"
                                | "impactedPerformanceIndicator"
                                | "decisionMaker"
                                | "decisionOwner"
                                | "usingProcess"
                                | "usingTask"
                        )
                });
                d.edges.insert(
                    decision.id.clone(),
                    decision.required_decisions.iter().chain(&decision.required_knowledge).cloned().collect(),
                );
                decision.logic = match logic {
                    None => Logic::None,
                    Some(l) if is(&l, "decisionTable") => match read_table(l, ns, &decision.name, problems) {
                        Some(t) => Logic::Table(t),
                        None => Logic::Other("decisionTable".into()),
                    },
                    Some(l) => Logic::Other(l.tag_name().name().to_string()),
                };
                d.decisions.push(decision);
            }
            _ => {}
        }
    }

    // decision tables inside business knowledge models and elsewhere: structure only
    for table in root.descendants().filter(|n| is(n, "decisionTable")) {
        let in_decision = table.parent().is_some_and(|p| is(&p, "decision"));
        if !in_decision {
            let owner = owner_label(table).unwrap_or_default();
            read_table(table, ns, &owner, problems);
        }
    }

    // names: unique among decisions, input data, BKMs and services
    let mut names: HashMap<&str, usize> = HashMap::new();
    let all_names = d
        .decisions
        .iter()
        .map(|x| x.name.as_str())
        .chain(d.input_data.iter().map(|x| x.name.as_str()))
        .chain(d.bkms.iter().map(|x| x.1.as_str()))
        .chain(d.services.iter().map(|x| x.1.as_str()));
    for n in all_names {
        if n.is_empty() {
            problems.push(DecisionProblem::new(
                ProblemKind::MissingName,
                None,
                "an element of the requirement graph has no name".into(),
            ));
            continue;
        }
        *names.entry(n).or_default() += 1;
    }
    for (n, count) in &names {
        if *count > 1 {
            problems.push(DecisionProblem::new(
                ProblemKind::DuplicateName,
                Some(n.to_string()),
                format!("the name '{n}' is given to {count} elements of the requirement graph"),
            ));
        }
    }

    // references resolve (local ones; imported ones are checked when the import is present)
    let decision_ids: HashSet<&str> = d.decisions.iter().map(|x| x.id.as_str()).collect();
    let input_ids: HashSet<&str> = d.input_data.iter().map(|x| x.id.as_str()).collect();
    let knowledge_ids: HashSet<&str> = d.bkms.iter().chain(d.services.iter()).map(|x| x.0.as_str()).collect();
    for decision in &d.decisions {
        let check = |refs: &Vec<String>, set: &HashSet<&str>, what: &str, problems: &mut Vec<DecisionProblem>| {
            for r in refs {
                if let Some(local) = r.strip_prefix('#')
                    && !set.contains(local)
                {
                    problems.push(DecisionProblem::new(
                        ProblemKind::UnresolvedReference,
                        Some(decision.name.clone()),
                        format!("requires {what} '{r}', which is not in the model"),
                    ));
                }
            }
        };
        check(&decision.required_decisions, &decision_ids, "decision", problems);
        check(&decision.required_inputs, &input_ids, "input data", problems);
        check(&decision.required_knowledge, &knowledge_ids, "knowledge", problems);
    }

    // no cycles: a decision, business knowledge model or service must not require itself
    // (the engine would recurse without end while compiling)
    let names_by_id: HashMap<&str, &str> = d
        .decisions
        .iter()
        .map(|x| (x.id.as_str(), x.name.as_str()))
        .chain(d.bkms.iter().chain(d.services.iter()).map(|x| (x.0.as_str(), x.1.as_str())))
        .collect();
    let mut ids: Vec<&str> = d.edges.keys().map(String::as_str).collect();
    ids.sort();
    let mut state: HashMap<&str, u8> = HashMap::new();
    for start in ids {
        if state.contains_key(start) {
            continue;
        }
        state.insert(start, 1);
        let mut stack: Vec<(&str, usize)> = vec![(start, 0)];
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            let reqs = d.edges.get(node).map(Vec::as_slice).unwrap_or(&[]);
            if *next < reqs.len() {
                let r = &reqs[*next];
                *next += 1;
                let Some(target) = r.strip_prefix('#') else { continue };
                let Some((target, _)) = d.edges.get_key_value(target) else { continue };
                match state.get(target.as_str()) {
                    None => {
                        state.insert(target, 1);
                        stack.push((target, 0));
                    }
                    Some(1) => {
                        let name = names_by_id.get(target.as_str()).copied().unwrap_or(target);
                        problems.push(DecisionProblem::new(
                            ProblemKind::Cycle,
                            Some(name.to_string()),
                            format!("'{name}' requires itself through its requirements"),
                        ));
                    }
                    _ => {}
                }
            } else {
                state.insert(node, 2);
                stack.pop();
            }
        }
    }
    Some(d)
}

fn child<'a, 'input>(n: roxmltree::Node<'a, 'input>, ns: &str, name: &str) -> Option<roxmltree::Node<'a, 'input>> {
    n.children().find(|c| c.is_element() && c.tag_name().name() == name && c.tag_name().namespace() == Some(ns))
}

fn read_item(node: roxmltree::Node, ns: &str, depth: usize) -> ItemDef {
    let is = |n: &roxmltree::Node, name: &str| {
        n.is_element() && n.tag_name().name() == name && n.tag_name().namespace() == Some(ns)
    };
    let type_ref = node.children().find(|c| is(c, "typeRef")).and_then(|t| t.text()).map(|t| t.trim().to_string());
    let is_collection = node.attribute("isCollection") == Some("true");
    let components = if depth < 32 {
        node.children()
            .filter(|c| is(c, "itemComponent"))
            .filter_map(|c| c.attribute("name").map(|n| (n.to_string(), read_item(c, ns, depth + 1))))
            .collect()
    } else {
        vec![]
    };
    ItemDef { type_ref, is_collection, components }
}

fn read_table(node: roxmltree::Node, ns: &str, owner: &str, problems: &mut Vec<DecisionProblem>) -> Option<Table> {
    let is = |n: &roxmltree::Node, name: &str| {
        n.is_element() && n.tag_name().name() == name && n.tag_name().namespace() == Some(ns)
    };
    let text_in = |n: roxmltree::Node, name: &str| -> Option<String> {
        n.children()
            .find(|c| is(c, name))
            .map(|e| e.children().find(|c| is(c, "text")).and_then(|t| t.text()).unwrap_or("").to_string())
    };
    let mut ok = true;
    let mut problem = |message: String| {
        problems.push(DecisionProblem::new(ProblemKind::InvalidTable, Some(owner.to_string()), message));
    };
    let hit = node.attribute("hitPolicy").unwrap_or("UNIQUE");
    let aggregation = node.attribute("aggregation");
    let hit_policy = match (hit, aggregation) {
        ("UNIQUE", None) => HitPolicy::Unique,
        ("FIRST", None) => HitPolicy::First,
        ("PRIORITY", None) => HitPolicy::Priority,
        ("ANY", None) => HitPolicy::Any,
        ("RULE ORDER", None) => HitPolicy::RuleOrder,
        ("OUTPUT ORDER", None) => HitPolicy::OutputOrder,
        ("COLLECT", None) => HitPolicy::Collect(Aggregation::List),
        ("COLLECT", Some("SUM")) => HitPolicy::Collect(Aggregation::Sum),
        ("COLLECT", Some("MIN")) => HitPolicy::Collect(Aggregation::Min),
        ("COLLECT", Some("MAX")) => HitPolicy::Collect(Aggregation::Max),
        ("COLLECT", Some("COUNT")) => HitPolicy::Collect(Aggregation::Count),
        (h, Some(a)) if h != "COLLECT" => {
            problem(format!("aggregation {a} is only allowed with hit policy COLLECT, not {h}"));
            ok = false;
            HitPolicy::Unique
        }
        (h, a) => {
            problem(format!(
                "unknown hit policy '{h}{}' (use UNIQUE, FIRST, PRIORITY, ANY, COLLECT [SUM|MIN|MAX|COUNT], RULE ORDER or OUTPUT ORDER)",
                a.map(|a| format!(" {a}")).unwrap_or_default()
            ));
            ok = false;
            HitPolicy::Unique
        }
    };
    let inputs: Vec<TableInput> = node
        .children()
        .filter(|c| is(c, "input"))
        .map(|i| {
            let expr = i.children().find(|c| is(c, "inputExpression"));
            TableInput {
                expression: expr
                    .and_then(|e| e.children().find(|c| is(c, "text")))
                    .and_then(|t| t.text())
                    .unwrap_or("")
                    .to_string(),
                type_ref: expr.and_then(|e| e.attribute("typeRef")).map(str::to_string),
                allowed_values: text_in(i, "inputValues"),
            }
        })
        .collect();
    let outputs: Vec<TableOutput> = node
        .children()
        .filter(|c| is(c, "output"))
        .map(|o| TableOutput {
            name: o.attribute("name").map(str::to_string),
            type_ref: o.attribute("typeRef").map(str::to_string),
            allowed_values: text_in(o, "outputValues"),
            default: text_in(o, "defaultOutputEntry"),
        })
        .collect();
    if outputs.is_empty() {
        problem("a decision table needs at least one output".into());
        ok = false;
    }
    if outputs.len() > 1 && outputs.iter().any(|o| o.name.as_deref().unwrap_or("").trim().is_empty()) {
        problem("every output of a table with several outputs needs a name".into());
        ok = false;
    }
    if outputs.len() > 1 && matches!(hit_policy, HitPolicy::Collect(a) if a != Aggregation::List) {
        problem(format!("{} cannot aggregate a table with several outputs", hit_policy.name()));
        ok = false;
    }
    for (i, input) in inputs.iter().enumerate() {
        if input.expression.trim().is_empty() {
            problem(format!("input {} has no expression", i + 1));
            ok = false;
        }
    }
    let mut rules = vec![];
    for (r, rule) in node.children().filter(|c| is(c, "rule")).enumerate() {
        let texts = |name: &str| -> Vec<String> {
            rule.children()
                .filter(|c| is(c, name))
                .map(|e| e.children().find(|c| is(c, "text")).and_then(|t| t.text()).unwrap_or("").to_string())
                .collect()
        };
        let ins = texts("inputEntry");
        let outs = texts("outputEntry");
        if ins.len() != inputs.len() {
            problem(format!("rule {} has {} input entries for {} inputs", r + 1, ins.len(), inputs.len()));
            ok = false;
        }
        if outs.len() != outputs.len() {
            problem(format!("rule {} has {} output entries for {} outputs", r + 1, outs.len(), outputs.len()));
            ok = false;
        }
        for (c, o) in outs.iter().enumerate() {
            if o.trim().is_empty() {
                problem(format!("rule {} has an empty output entry in column {}", r + 1, c + 1));
                ok = false;
            }
        }
        rules.push(Rule { id: rule.attribute("id").map(str::to_string), inputs: ins, outputs: outs });
    }
    ok.then_some(Table { hit_policy, inputs, outputs, rules })
}

/// The name (or id) of the nearest named ancestor, for problem reports.
fn owner_label(node: roxmltree::Node) -> Option<String> {
    node.ancestors()
        .find(|a| a.is_element() && a.attribute("name").is_some() && a.tag_name().name() != "variable")
        .and_then(|a| a.attribute("name"))
        .map(str::to_string)
}

/// Named functions (business knowledge models, context entries holding functions, FEEL
/// `name: function(…) …` entries) must not call themselves, directly or through each other:
/// the engine recurses on the thread's stack, and running out of stack aborts the process.
fn recursion_problems(root: roxmltree::Node, ns: &str) -> Vec<DecisionProblem> {
    let is = |n: &roxmltree::Node, name: &str| {
        n.is_element() && n.tag_name().name() == name && n.tag_name().namespace() == Some(ns)
    };
    let texts = |n: roxmltree::Node| -> String {
        n.descendants().filter(|t| is(t, "text")).filter_map(|t| t.text()).collect::<Vec<_>>().join(" ")
    };
    let mut functions: Vec<(String, String)> = vec![];
    for bkm in root.children().filter(|n| is(n, "businessKnowledgeModel")) {
        if let Some(name) = bkm.attribute("name") {
            functions.push((name.trim().to_string(), texts(bkm)));
        }
    }
    for entry in root.descendants().filter(|n| is(n, "contextEntry")) {
        let name = entry.children().find(|c| is(c, "variable")).and_then(|v| v.attribute("name"));
        if let (Some(name), true) = (name, entry.children().any(|c| is(&c, "functionDefinition"))) {
            functions.push((name.trim().to_string(), texts(entry)));
        }
    }
    for t in root.descendants().filter(|n| is(n, "text")).filter_map(|t| t.text()) {
        functions.extend(inline_functions(t));
    }
    let calls = |body: &str, name: &str| -> bool {
        let mut from = 0;
        while let Some(pos) = body[from..].find(name) {
            let at = from + pos;
            let before_ok =
                body[..at].chars().next_back().is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '.'));
            let after = body[at + name.len()..].trim_start();
            if before_ok && after.starts_with('(') {
                return true;
            }
            from = at + name.len();
        }
        false
    };
    let names: Vec<&str> = functions.iter().map(|f| f.0.as_str()).filter(|n| !n.is_empty()).collect();
    let mut edges: HashMap<&str, HashSet<&str>> = HashMap::new();
    for (name, body) in &functions {
        for callee in &names {
            if calls(body, callee) {
                edges.entry(name.as_str()).or_default().insert(callee);
            }
        }
    }
    let mut problems = vec![];
    let mut reported = HashSet::new();
    for start in &names {
        // is `start` reachable from itself?
        let mut seen = HashSet::new();
        let mut stack: Vec<&str> = edges.get(start).map(|e| e.iter().copied().collect()).unwrap_or_default();
        while let Some(n) = stack.pop() {
            if n == *start {
                if reported.insert(*start) {
                    problems.push(DecisionProblem::new(
                        ProblemKind::Unsupported,
                        Some(start.to_string()),
                        format!("function '{start}' calls itself; recursion is not allowed in Weft's decisions"),
                    ));
                }
                break;
            }
            if seen.insert(n) {
                stack.extend(edges.get(n).into_iter().flatten().copied());
            }
        }
    }
    problems
}

/// `name: function(…) body` entries of FEEL context literals, with their bodies (up to the
/// end of the entry).
fn inline_functions(text: &str) -> Vec<(String, String)> {
    let mut out = vec![];
    let mut from = 0;
    while let Some(pos) = text[from..].find("function") {
        let at = from + pos;
        from = at + "function".len();
        let before = text[..at].trim_end();
        let Some(before) = before.strip_suffix(':') else { continue };
        let before = before.trim_end();
        // the entry's name: a "string" key or the words after the last `{` or `,`
        let name = if let Some(quoted) = before.strip_suffix('"') {
            quoted.rsplit('"').next().unwrap_or("").to_string()
        } else {
            before.rsplit(['{', ',']).next().unwrap_or("").trim().to_string()
        };
        if name.is_empty() {
            continue;
        }
        // the body runs until a `,` or closing bracket at the entry's own depth
        let (mut depth, mut in_string, mut end) = (0i32, false, text.len());
        for (i, c) in text[from..].char_indices() {
            match c {
                '"' => in_string = !in_string,
                _ if in_string => {}
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => {
                    depth -= 1;
                    if depth < 0 {
                        end = from + i;
                        break;
                    }
                }
                ',' if depth == 0 => {
                    end = from + i;
                    break;
                }
                _ => {}
            }
        }
        out.push((name, text[from..end].to_string()));
    }
    out
}

/// Deepest bracket nesting outside string literals.
pub(crate) fn nesting(text: &str) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for c in text.chars() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '(' | '[' | '{' => {
                depth += 1;
                max = max.max(depth);
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Does a FEEL text define an external function (`function(…) external {…}`)?
fn calls_external(text: &str) -> bool {
    let mut rest = text;
    while let Some(pos) = rest.find("external") {
        let before = rest[..pos].trim_end();
        let after = rest[pos + "external".len()..].trim_start();
        if before.ends_with(')') && after.starts_with('{') {
            return true;
        }
        rest = &rest[pos + "external".len()..];
    }
    false
}

/// The document as the engine accepts it: DMN 1.1 and 1.2 namespaces are read as 1.3
/// (the elements Weft evaluates did not change), Camunda's Java type names as FEEL's.
pub(crate) fn for_engine(xml: &str, version: Option<DmnVersion>) -> String {
    let mut out = match version {
        Some(DmnVersion::V1_1) => xml.replace(DMN_11, DMN_13),
        Some(DmnVersion::V1_2) => xml.replace(DMN_12, DMN_13).replace(DMNDI_12, DMNDI_13),
        _ => xml.to_string(),
    };
    for java in ["integer", "long", "double"] {
        out = out.replace(&format!("typeRef=\"{java}\""), "typeRef=\"number\"");
    }
    // FEEL's long type names, as the engine knows them by their XML Schema names
    for (feel, xsd) in [
        ("date and time", "dateTime"),
        ("days and time duration", "dayTimeDuration"),
        ("years and months duration", "yearMonthDuration"),
    ] {
        out = out
            .replace(&format!("typeRef=\"{feel}\""), &format!("typeRef=\"{xsd}\""))
            .replace(&format!("typeRef>{feel}</"), &format!("typeRef>{xsd}</"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_ignores_strings() {
        assert_eq!(nesting(r#"f(g([1]), "((((")"#), 3);
    }

    #[test]
    fn external_functions_are_spotted() {
        assert!(calls_external(r#"function(x) external {java: {class: "a"}}"#));
        assert!(!calls_external("external rating > 3"));
    }
}
