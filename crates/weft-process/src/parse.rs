//! BPMN 2.0 XML, as bpmn-js and Camunda Modeler save it, read into the [`model`](crate::model).
//!
//! Reading is namespace-aware: an element counts by its namespace URI, never by the prefix a
//! tool happened to pick. Diagram interchange, documentation, lanes, annotations and data
//! objects carry no behaviour and are skipped; any other BPMN element Weft does not execute
//! becomes an `unsupported_element` problem naming its id and line, so a definition is never
//! half understood.

use std::collections::HashMap;

use roxmltree::{Document, Node, ParsingOptions};

use crate::Problem;
use crate::model::{
    AssignmentRule, Boundary, BoundaryTrigger, CallActivity, CatchTrigger, Definitions, Element, ElementKind,
    EndResult, ErrorDecl, ErrorRef, ExprId, ExprRole, Expression, FORM_FIELD_TYPES, Flow, Form, FormField, Job,
    Mapping, MessageDecl, MessageRef, MultiInstance, Process, StartTrigger, Timer, TimerKind, UserTask,
};
use crate::problem::ProblemCode;

/// The BPMN 2.0 model namespace.
pub const BPMN_NS: &str = "http://www.omg.org/spec/BPMN/20100524/MODEL";
/// Camunda 8's extension namespace.
pub const ZEEBE_NS: &str = "http://camunda.org/schema/zeebe/1.0";
/// Weft's own extensions (assignment rules, business calendars).
pub const WEFT_NS: &str = "http://weft.dev/schema/bpmn/1.0";

/// The largest document read; a process model is a few hundred kilobytes at most.
pub const MAX_XML_BYTES: usize = 8 << 20;
const MAX_NODES: u32 = 500_000;
/// Deepest nesting of sub-processes; every later pass walks it.
const MAX_NESTING: usize = 32;

/// Children of processes and sub-processes that carry no behaviour.
const IGNORED: &[&str] = &[
    "documentation",
    "extensionElements",
    "incoming",
    "outgoing",
    "laneSet",
    "textAnnotation",
    "association",
    "dataObject",
    "dataObjectReference",
    "dataStoreReference",
    "group",
    "property",
    "ioSpecification",
    "auditing",
    "monitoring",
    "category",
    "dataInputAssociation",
    "dataOutputAssociation",
    "multiInstanceLoopCharacteristics",
];

/// Reads `xml`. Fails only when the text is not a BPMN document at all; everything else
/// that is wrong is collected in [`Definitions::problems`] for validation to report with
/// its own findings.
pub fn parse(xml: &str) -> Result<Definitions, Vec<Problem>> {
    let malformed = |message: String| vec![Problem::new(None, None, ProblemCode::MalformedXml, message)];
    if xml.len() > MAX_XML_BYTES {
        return Err(malformed(format!("the document is larger than {} MiB", MAX_XML_BYTES >> 20)));
    }
    let options = ParsingOptions { nodes_limit: MAX_NODES, ..ParsingOptions::default() };
    let doc = Document::parse_with_options(xml, options).map_err(|e| malformed(format!("not well-formed XML: {e}")))?;
    let root = doc.root_element();
    if !is_bpmn(root, "definitions") {
        return Err(malformed(format!(
            "the root element is `{}`, not `definitions` in the BPMN 2.0 namespace {BPMN_NS}",
            root.tag_name().name()
        )));
    }
    let mut reader = Reader {
        doc: &doc,
        defs: Definitions {
            id: root.attribute("id").map(str::to_owned),
            processes: Vec::new(),
            messages: Vec::new(),
            errors: Vec::new(),
            expressions: Vec::new(),
            problems: Vec::new(),
        },
        defaults: Vec::new(),
    };
    for child in root.children().filter(Node::is_element) {
        if child.tag_name().namespace() != Some(BPMN_NS) {
            continue;
        }
        match child.tag_name().name() {
            "process" => reader.process(child),
            "message" => reader.message(child),
            "error" => reader.error(child),
            _ => {}
        }
    }
    reader.resolve_messages_and_errors();
    Ok(reader.defs)
}

/// What stands in for an element that was refused.
fn placeholder(name: &str, node: Node<'_, '_>) -> ElementKind {
    match name {
        "startEvent" => ElementKind::StartEvent(StartTrigger::None),
        "endEvent" => ElementKind::EndEvent(EndResult::None),
        "boundaryEvent" => ElementKind::Boundary(Boundary {
            attached_to_ref: non_empty(node.attribute("attachedToRef")).unwrap_or_default().to_owned(),
            attached_to: None,
            interrupting: true,
            trigger: BoundaryTrigger::Error(None),
        }),
        _ => ElementKind::Task,
    }
}

fn is_bpmn(node: Node<'_, '_>, name: &str) -> bool {
    node.is_element() && node.tag_name().namespace() == Some(BPMN_NS) && node.tag_name().name() == name
}

fn bpmn_children<'a, 'i>(node: Node<'a, 'i>) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children().filter(|c| c.is_element() && c.tag_name().namespace() == Some(BPMN_NS))
}

fn bpmn_child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    bpmn_children(node).find(|c| c.tag_name().name() == name)
}

/// The extension elements of `node` in namespace `ns`.
fn extensions<'a, 'i>(node: Node<'a, 'i>, ns: &'static str) -> impl Iterator<Item = Node<'a, 'i>> {
    bpmn_child(node, "extensionElements")
        .into_iter()
        .flat_map(|ext| ext.children())
        .filter(move |c| c.is_element() && c.tag_name().namespace() == Some(ns))
}

fn extension<'a, 'i>(node: Node<'a, 'i>, ns: &'static str, name: &str) -> Option<Node<'a, 'i>> {
    extensions(node, ns).find(|c| c.tag_name().name() == name)
}

/// All text inside `node` (an expression may be split by comments or CDATA sections).
fn text_of(node: Node<'_, '_>) -> String {
    node.descendants().filter(Node::is_text).filter_map(|n| n.text()).collect()
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

struct Reader<'a, 'i> {
    doc: &'a Document<'i>,
    defs: Definitions,
    /// Gateways' `default` attributes of the process being read, resolved once its flows are.
    defaults: Vec<(usize, String, u32)>,
}

impl Reader<'_, '_> {
    fn line(&self, node: Node<'_, '_>) -> u32 {
        self.doc.text_pos_at(node.range().start).row
    }

    fn problem(&mut self, element: Option<&str>, line: u32, code: ProblemCode, message: impl Into<String>) {
        self.defs.problems.push(Problem::new(element, Some(line), code, message));
    }

    fn expr(&mut self, text: &str, role: ExprRole, element: &str, line: u32) -> ExprId {
        let trimmed = text.trim();
        let (feel, text) = match trimmed.strip_prefix('=') {
            Some(rest) => (true, rest.trim()),
            None => (false, trimmed),
        };
        let id = ExprId(u32::try_from(self.defs.expressions.len()).unwrap_or(u32::MAX));
        self.defs.expressions.push(Expression { text: text.to_owned(), feel, role, element: element.to_owned(), line });
        id
    }

    /// The `id` of `node`, or a stand-in naming the element and its line when it has none.
    fn id_of(&mut self, node: Node<'_, '_>) -> String {
        match non_empty(node.attribute("id")) {
            Some(id) => id.to_owned(),
            None => {
                let line = self.line(node);
                let name = node.tag_name().name();
                self.problem(None, line, ProblemCode::MissingAttribute, format!("a `{name}` has no `id`"));
                format!("{name}@{line}")
            }
        }
    }

    fn message(&mut self, node: Node<'_, '_>) {
        let id = self.id_of(node);
        let line = self.line(node);
        let correlation_key = extension(node, ZEEBE_NS, "subscription")
            .and_then(|s| non_empty(s.attribute("correlationKey")))
            .map(|key| self.expr(key, ExprRole::Value, &id, line));
        let name = non_empty(node.attribute("name")).map(str::to_owned);
        self.defs.messages.push(MessageDecl { id, name, correlation_key, line });
    }

    fn error(&mut self, node: Node<'_, '_>) {
        let id = self.id_of(node);
        let line = self.line(node);
        let name = non_empty(node.attribute("name")).map(str::to_owned);
        let code = non_empty(node.attribute("errorCode")).map(str::to_owned);
        self.defs.errors.push(ErrorDecl { id, name, code, line });
    }

    fn process(&mut self, node: Node<'_, '_>) {
        let id = self.id_of(node);
        let mut process = Process {
            id,
            name: non_empty(node.attribute("name")).map(str::to_owned),
            executable: node.attribute("isExecutable") != Some("false"),
            line: self.line(node),
            elements: Vec::new(),
            flows: Vec::new(),
        };
        self.defaults.clear();
        self.container(node, None, &mut process);
        self.resolve(&mut process);
        self.defs.processes.push(process);
    }

    fn container(&mut self, node: Node<'_, '_>, parent: Option<usize>, process: &mut Process) {
        for child in bpmn_children(node) {
            let name = child.tag_name().name();
            if name == "sequenceFlow" {
                self.flow(child, parent, process);
            } else if !IGNORED.contains(&name) {
                self.element(child, parent, process);
            }
        }
    }

    fn flow(&mut self, node: Node<'_, '_>, parent: Option<usize>, process: &mut Process) {
        let id = self.id_of(node);
        let line = self.line(node);
        let reference = |reader: &mut Self, attr: &str| match non_empty(node.attribute(attr)) {
            Some(r) => r.to_owned(),
            None => {
                reader.problem(Some(&id), line, ProblemCode::MissingAttribute, format!("the flow has no `{attr}`"));
                String::new()
            }
        };
        let source_ref = reference(self, "sourceRef");
        let target_ref = reference(self, "targetRef");
        let condition = match bpmn_child(node, "conditionExpression") {
            Some(c) => {
                let language = c.attribute("language").unwrap_or("feel").to_ascii_lowercase();
                let text = text_of(c);
                if !language.contains("feel") {
                    self.problem(
                        Some(&id),
                        line,
                        ProblemCode::UnsupportedElement,
                        format!("conditions in `{language}` are not supported; write FEEL"),
                    );
                    None
                } else if text.trim().is_empty() {
                    None
                } else {
                    let line = self.line(c);
                    Some(self.expr(&text, ExprRole::Condition, &id, line))
                }
            }
            None => None,
        };
        process.flows.push(Flow { id, line, source_ref, target_ref, source: None, target: None, condition, parent });
    }

    fn unsupported(&mut self, id: &str, line: u32, what: &str) {
        self.problem(Some(id), line, ProblemCode::UnsupportedElement, format!("{what} is not supported"));
    }

    fn element(&mut self, node: Node<'_, '_>, parent: Option<usize>, process: &mut Process) {
        let name = node.tag_name().name();
        let id = self.id_of(node);
        let line = self.line(node);
        let kind = match name {
            "startEvent" => self.start_event(node, &id, line),
            "endEvent" => self.end_event(node, &id, line),
            "intermediateCatchEvent" => self.catch_event(node, &id, line),
            "intermediateThrowEvent" => self.throw_event(node, &id, line),
            "boundaryEvent" => self.boundary_event(node, &id, line),
            "userTask" => Some(ElementKind::UserTask(Box::new(self.user_task(node, &id, line)))),
            "serviceTask" => self.service_task(node, &id, line).map(ElementKind::ServiceTask),
            "businessRuleTask" => self.business_rule_task(node, &id, line).map(ElementKind::BusinessRuleTask),
            "receiveTask" => self.message_ref(node, &id, line).map(ElementKind::ReceiveTask),
            "task" | "manualTask" => Some(ElementKind::Task),
            "exclusiveGateway" | "inclusiveGateway" => {
                if let Some(default) = non_empty(node.attribute("default")) {
                    self.defaults.push((process.elements.len(), default.to_owned(), line));
                }
                Some(if name == "exclusiveGateway" {
                    ElementKind::ExclusiveGateway { default: None }
                } else {
                    ElementKind::InclusiveGateway { default: None }
                })
            }
            "parallelGateway" => Some(ElementKind::ParallelGateway),
            "eventBasedGateway" => {
                if node.attribute("instantiate") == Some("true") {
                    self.unsupported(&id, line, "an instantiating event-based gateway");
                }
                Some(ElementKind::EventBasedGateway)
            }
            "subProcess" if node.attribute("triggeredByEvent") == Some("true") => {
                self.unsupported(&id, line, "an event sub-process");
                None
            }
            "subProcess" => Some(ElementKind::SubProcess),
            "callActivity" => self.call_activity(node, &id, line).map(ElementKind::CallActivity),
            other => {
                self.unsupported(&id, line, &format!("`{other}`"));
                None
            }
        };
        // An element that cannot run still takes its place in the graph, so the problems
        // reported for it are not buried under "unreachable" and "unknown reference" ones.
        let descend = matches!(kind, Some(ElementKind::SubProcess));
        let kind = kind.unwrap_or_else(|| placeholder(name, node));
        if bpmn_child(node, "standardLoopCharacteristics").is_some() {
            self.unsupported(&id, line, "a standard loop (use multi-instance)");
        }
        let multi_instance =
            bpmn_child(node, "multiInstanceLoopCharacteristics").map(|mi| self.multi_instance(mi, &id));
        for listeners in ["executionListeners", "taskListeners"] {
            if extension(node, ZEEBE_NS, listeners).is_some() {
                self.unsupported(&id, line, &format!("`zeebe:{listeners}`"));
            }
        }
        let (inputs, outputs) = self.io_mapping(node, &id);
        let index = process.elements.len();
        process.elements.push(Element {
            id,
            name: non_empty(node.attribute("name")).map(str::to_owned),
            line,
            parent,
            kind,
            incoming: Vec::new(),
            outgoing: Vec::new(),
            boundaries: Vec::new(),
            multi_instance,
            inputs,
            outputs,
        });
        if descend {
            let depth = std::iter::successors(Some(index), |i| process.elements.get(*i).and_then(|e| e.parent)).count();
            if depth > MAX_NESTING {
                let id = process.elements.get(index).map(|e| e.id.clone()).unwrap_or_default();
                self.unsupported(&id, line, &format!("nesting sub-processes more than {MAX_NESTING} deep"));
            } else {
                self.container(node, Some(index), process);
            }
        }
    }

    /// The event definitions of an event, refusing the kinds Weft does not execute.
    fn event_definition<'a, 'b>(
        &mut self,
        node: Node<'a, 'b>,
        id: &str,
        line: u32,
        allowed: &[&'static str],
        what: &str,
    ) -> Result<Option<(&'static str, Node<'a, 'b>)>, ()> {
        let definitions: Vec<Node<'a, 'b>> =
            bpmn_children(node).filter(|c| c.tag_name().name().ends_with("EventDefinition")).collect();
        if bpmn_child(node, "eventDefinitionRef").is_some() {
            self.unsupported(id, line, &format!("a {what} with a referenced event definition"));
            return Err(());
        }
        match definitions.as_slice() {
            [] => Ok(None),
            [one] => {
                let name = one.tag_name().name();
                match allowed.iter().find(|a| **a == name) {
                    Some(known) => Ok(Some((known, *one))),
                    None => {
                        let kind = name.trim_end_matches("EventDefinition");
                        self.unsupported(id, line, &format!("a {kind} {what}"));
                        Err(())
                    }
                }
            }
            _ => {
                self.unsupported(id, line, &format!("a {what} with several event definitions"));
                Err(())
            }
        }
    }

    fn start_event(&mut self, node: Node<'_, '_>, id: &str, line: u32) -> Option<ElementKind> {
        let allowed = ["timerEventDefinition", "messageEventDefinition"];
        let trigger = match self.event_definition(node, id, line, &allowed, "start event").ok()? {
            None => StartTrigger::None,
            Some(("timerEventDefinition", def)) => StartTrigger::Timer(self.timer(def, id)?),
            Some((_, def)) => StartTrigger::Message(self.message_ref(def, id, line)?),
        };
        Some(ElementKind::StartEvent(trigger))
    }

    fn end_event(&mut self, node: Node<'_, '_>, id: &str, line: u32) -> Option<ElementKind> {
        let allowed = ["terminateEventDefinition", "errorEventDefinition", "messageEventDefinition"];
        let result = match self.event_definition(node, id, line, &allowed, "end event").ok()? {
            None => EndResult::None,
            Some(("terminateEventDefinition", _)) => EndResult::Terminate,
            Some(("errorEventDefinition", def)) => match non_empty(def.attribute("errorRef")) {
                Some(r) => EndResult::Error(ErrorRef { id: r.to_owned(), resolved: false, code: None }),
                None => {
                    self.problem(
                        Some(id),
                        line,
                        ProblemCode::MissingAttribute,
                        "an error end event needs an `errorRef`",
                    );
                    return None;
                }
            },
            Some((_, def)) => EndResult::Message(self.message_ref(def, id, line)?),
        };
        Some(ElementKind::EndEvent(result))
    }

    fn catch_event(&mut self, node: Node<'_, '_>, id: &str, line: u32) -> Option<ElementKind> {
        let allowed = ["timerEventDefinition", "messageEventDefinition"];
        let trigger = match self.event_definition(node, id, line, &allowed, "intermediate catch event").ok()? {
            None => {
                self.problem(Some(id), line, ProblemCode::MissingAttribute, "a catch event needs a timer or a message");
                return None;
            }
            Some(("timerEventDefinition", def)) => CatchTrigger::Timer(self.timer(def, id)?),
            Some((_, def)) => CatchTrigger::Message(self.message_ref(def, id, line)?),
        };
        Some(ElementKind::IntermediateCatch(trigger))
    }

    fn throw_event(&mut self, node: Node<'_, '_>, id: &str, line: u32) -> Option<ElementKind> {
        let allowed = ["messageEventDefinition"];
        Some(match self.event_definition(node, id, line, &allowed, "intermediate throw event").ok()? {
            None => ElementKind::Throw(None),
            Some((_, def)) => ElementKind::Throw(Some(self.message_ref(def, id, line)?)),
        })
    }

    fn boundary_event(&mut self, node: Node<'_, '_>, id: &str, line: u32) -> Option<ElementKind> {
        let allowed = ["timerEventDefinition", "messageEventDefinition", "errorEventDefinition"];
        let interrupting = node.attribute("cancelActivity") != Some("false");
        let trigger = match self.event_definition(node, id, line, &allowed, "boundary event").ok()? {
            None => {
                self.problem(
                    Some(id),
                    line,
                    ProblemCode::MissingAttribute,
                    "a boundary event needs a timer, a message or an error",
                );
                return None;
            }
            Some(("timerEventDefinition", def)) => BoundaryTrigger::Timer(self.timer(def, id)?),
            Some(("messageEventDefinition", def)) => BoundaryTrigger::Message(self.message_ref(def, id, line)?),
            Some((_, def)) => {
                if !interrupting {
                    self.problem(
                        Some(id),
                        line,
                        ProblemCode::InvalidValue,
                        "an error boundary event always interrupts",
                    );
                }
                let error = non_empty(def.attribute("errorRef")).map(|r| ErrorRef {
                    id: r.to_owned(),
                    resolved: false,
                    code: None,
                });
                BoundaryTrigger::Error(error)
            }
        };
        let attached_to_ref = non_empty(node.attribute("attachedToRef")).unwrap_or_default().to_owned();
        Some(ElementKind::Boundary(Boundary { attached_to_ref, attached_to: None, interrupting, trigger }))
    }

    fn message_ref(&mut self, node: Node<'_, '_>, id: &str, line: u32) -> Option<MessageRef> {
        match non_empty(node.attribute("messageRef")) {
            Some(r) => Some(MessageRef { id: r.to_owned(), name: None, correlation_key: None }),
            None => {
                self.problem(Some(id), line, ProblemCode::MissingAttribute, "no `messageRef` says which message");
                None
            }
        }
    }

    fn timer(&mut self, def: Node<'_, '_>, id: &str) -> Option<Timer> {
        let line = self.line(def);
        let calendar = non_empty(def.attribute((WEFT_NS, "calendar"))).map(str::to_owned);
        for (name, kind) in
            [("timeDate", TimerKind::Date), ("timeDuration", TimerKind::Duration), ("timeCycle", TimerKind::Cycle)]
        {
            if let Some(node) = bpmn_child(def, name) {
                let text = text_of(node);
                if text.trim().is_empty() {
                    break;
                }
                let line = self.line(node);
                let value = self.expr(&text, ExprRole::Timer, id, line);
                return Some(Timer { kind, value, calendar });
            }
        }
        self.problem(Some(id), line, ProblemCode::InvalidTimer, "the timer has no date, duration or cycle");
        None
    }

    fn user_task(&mut self, node: Node<'_, '_>, id: &str, line: u32) -> UserTask {
        let mut task = UserTask::default();
        if let Some(a) = extension(node, ZEEBE_NS, "assignmentDefinition") {
            let line = self.line(a);
            task.assignee = non_empty(a.attribute("assignee")).map(|v| self.expr(v, ExprRole::TextOrValue, id, line));
            task.candidate_groups =
                non_empty(a.attribute("candidateGroups")).map(|v| self.expr(v, ExprRole::TextOrValue, id, line));
            task.candidate_users =
                non_empty(a.attribute("candidateUsers")).map(|v| self.expr(v, ExprRole::TextOrValue, id, line));
        }
        if let Some(f) = extension(node, ZEEBE_NS, "formDefinition") {
            task.form = non_empty(f.attribute("formId"))
                .map(|v| Form::Id(v.to_owned()))
                .or_else(|| non_empty(f.attribute("formKey")).map(|v| Form::Key(v.to_owned())))
                .or_else(|| non_empty(f.attribute("externalReference")).map(|v| Form::Key(v.to_owned())));
        }
        if let Some(s) = extension(node, ZEEBE_NS, "taskSchedule") {
            let line = self.line(s);
            task.due = non_empty(s.attribute("dueDate")).map(|v| self.expr(v, ExprRole::TextOrValue, id, line));
            task.follow_up =
                non_empty(s.attribute("followUpDate")).map(|v| self.expr(v, ExprRole::TextOrValue, id, line));
        }
        if let Some(w) = extension(node, WEFT_NS, "assignment") {
            if let Some(rule) = non_empty(w.attribute("rule")) {
                task.rule = AssignmentRule::parse(rule);
                if task.rule.is_none() {
                    self.problem(
                        Some(id),
                        line,
                        ProblemCode::InvalidValue,
                        format!(
                            "`{rule}` is not an assignment rule (user:…, role:…, unit:…, unit_head:…, manager, \
                             manager_chain:N, starter, round_robin, least_loaded, decision:…)"
                        ),
                    );
                }
            }
            task.forbid_self_approval = matches!(w.attribute("forbidSelfApproval"), Some("true"));
        }
        if let Some(form) = extension(node, WEFT_NS, "form") {
            for field in form.children().filter(|c| c.is_element() && c.tag_name().name() == "field") {
                let line = self.line(field);
                let Some(name) = non_empty(field.attribute("name")) else {
                    self.problem(Some(id), line, ProblemCode::MissingAttribute, "a `weft:field` has no `name`");
                    continue;
                };
                let field_type = non_empty(field.attribute("type")).unwrap_or("text");
                if !FORM_FIELD_TYPES.contains(&field_type) {
                    self.problem(
                        Some(id),
                        line,
                        ProblemCode::InvalidValue,
                        format!("form field `{name}`: `{field_type}` is not one of {}", FORM_FIELD_TYPES.join(", ")),
                    );
                    continue;
                }
                if task.fields.iter().any(|f| f.name == name) {
                    self.problem(Some(id), line, ProblemCode::DuplicateId, format!("form field `{name}` twice"));
                    continue;
                }
                let list = |attribute: &str| -> Vec<String> {
                    non_empty(field.attribute(attribute))
                        .map(|o| o.split(',').map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned).collect())
                        .unwrap_or_default()
                };
                let options = list("options");
                let (option_labels, option_labels_zh) = (list("optionLabels"), list("optionLabelsZh"));
                for (attribute, labels) in [("optionLabels", &option_labels), ("optionLabelsZh", &option_labels_zh)] {
                    if !labels.is_empty() && labels.len() != options.len() {
                        self.problem(
                            Some(id),
                            line,
                            ProblemCode::InvalidValue,
                            format!(
                                "form field `{name}`: `{attribute}` has {} labels for {} options",
                                labels.len(),
                                options.len()
                            ),
                        );
                    }
                }
                task.fields.push(FormField {
                    name: name.to_owned(),
                    field_type: field_type.to_owned(),
                    required: matches!(field.attribute("required"), Some("true")),
                    options,
                    label: non_empty(field.attribute("label")).map(str::to_owned),
                    label_zh: non_empty(field.attribute("labelZh")).map(str::to_owned),
                    option_labels,
                    option_labels_zh,
                });
            }
        }
        task
    }

    fn job_definition(&mut self, node: Node<'_, '_>, id: &str, line: u32) -> Option<Job> {
        let def = extension(node, ZEEBE_NS, "taskDefinition")?;
        let Some(kind) = non_empty(def.attribute("type")) else {
            self.problem(Some(id), line, ProblemCode::MissingAttribute, "`zeebe:taskDefinition` has no `type`");
            return None;
        };
        if kind.starts_with('=') {
            self.unsupported(id, line, "a job type computed by an expression");
            return None;
        }
        let retries = match non_empty(def.attribute("retries")) {
            None => None,
            Some(r) => match r.parse::<u32>() {
                Ok(n) => Some(n),
                Err(_) => {
                    self.problem(Some(id), line, ProblemCode::InvalidValue, format!("retries `{r}` is not a count"));
                    None
                }
            },
        };
        let headers = extension(node, ZEEBE_NS, "taskHeaders")
            .into_iter()
            .flat_map(|h| h.children())
            .filter(|h| h.is_element() && h.tag_name().namespace() == Some(ZEEBE_NS))
            .filter_map(|h| Some((h.attribute("key")?.to_owned(), h.attribute("value").unwrap_or_default().to_owned())))
            .collect();
        Some(Job { kind: kind.to_owned(), retries, headers })
    }

    fn service_task(&mut self, node: Node<'_, '_>, id: &str, line: u32) -> Option<Job> {
        if extension(node, ZEEBE_NS, "taskDefinition").is_none() {
            self.problem(
                Some(id),
                line,
                ProblemCode::MissingAttribute,
                "a service task needs a `zeebe:taskDefinition` type (e.g. `weft:transition`, `weft:webhook`)",
            );
            return None;
        }
        self.job_definition(node, id, line)
    }

    fn business_rule_task(&mut self, node: Node<'_, '_>, id: &str, line: u32) -> Option<Job> {
        if let Some(called) = extension(node, ZEEBE_NS, "calledDecision") {
            let Some(decision) = non_empty(called.attribute("decisionId")) else {
                self.problem(
                    Some(id),
                    line,
                    ProblemCode::MissingAttribute,
                    "`zeebe:calledDecision` has no `decisionId`",
                );
                return None;
            };
            let mut headers = vec![("decisionId".to_owned(), decision.to_owned())];
            if let Some(result) = non_empty(called.attribute("resultVariable")) {
                headers.push(("resultVariable".to_owned(), result.to_owned()));
            }
            return Some(Job { kind: "weft:decision".to_owned(), retries: None, headers });
        }
        if extension(node, ZEEBE_NS, "taskDefinition").is_none() {
            self.problem(
                Some(id),
                line,
                ProblemCode::MissingAttribute,
                "a business rule task needs `zeebe:calledDecision` (or a `zeebe:taskDefinition`)",
            );
            return None;
        }
        self.job_definition(node, id, line)
    }

    fn call_activity(&mut self, node: Node<'_, '_>, id: &str, line: u32) -> Option<CallActivity> {
        let called = extension(node, ZEEBE_NS, "calledElement");
        let Some(process_id) = called.and_then(|c| non_empty(c.attribute("processId"))) else {
            self.problem(Some(id), line, ProblemCode::MissingAttribute, "`zeebe:calledElement` has no `processId`");
            return None;
        };
        if process_id.starts_with('=') {
            self.unsupported(id, line, "a called process chosen by an expression");
            return None;
        }
        let flag = |name: &str| called.and_then(|c| c.attribute(name)) != Some("false");
        Some(CallActivity {
            process_id: process_id.to_owned(),
            propagate_parent: flag("propagateAllParentVariables"),
            propagate_child: flag("propagateAllChildVariables"),
        })
    }

    fn io_mapping(&mut self, node: Node<'_, '_>, id: &str) -> (Vec<Mapping>, Vec<Mapping>) {
        let (mut inputs, mut outputs) = (Vec::new(), Vec::new());
        let Some(io) = extension(node, ZEEBE_NS, "ioMapping") else { return (inputs, outputs) };
        for m in io.children().filter(|c| c.is_element() && c.tag_name().namespace() == Some(ZEEBE_NS)) {
            let line = self.line(m);
            let (role, list) = match m.tag_name().name() {
                "input" => (ExprRole::Value, &mut inputs),
                "output" => (ExprRole::Output, &mut outputs),
                _ => continue,
            };
            let (Some(source), Some(target)) = (non_empty(m.attribute("source")), non_empty(m.attribute("target")))
            else {
                self.problem(
                    Some(id),
                    line,
                    ProblemCode::MissingAttribute,
                    "a mapping needs a `source` and a `target`",
                );
                continue;
            };
            let source = self.expr(source, role, id, line);
            list.push(Mapping { source, target: target.to_owned() });
        }
        (inputs, outputs)
    }

    fn multi_instance(&mut self, node: Node<'_, '_>, id: &str) -> MultiInstance {
        let line = self.line(node);
        let mut mi = MultiInstance { sequential: node.attribute("isSequential") == Some("true"), ..Default::default() };
        if let Some(lc) = extension(node, ZEEBE_NS, "loopCharacteristics") {
            mi.input_collection =
                non_empty(lc.attribute("inputCollection")).map(|v| self.expr(v, ExprRole::Value, id, line));
            mi.input_element = non_empty(lc.attribute("inputElement")).map(str::to_owned);
            mi.output_collection = non_empty(lc.attribute("outputCollection")).map(str::to_owned);
            mi.output_element =
                non_empty(lc.attribute("outputElement")).map(|v| self.expr(v, ExprRole::Output, id, line));
        }
        if let Some(c) = bpmn_child(node, "loopCardinality") {
            let text = text_of(c);
            if !text.trim().is_empty() {
                let line = self.line(c);
                mi.cardinality = Some(self.expr(&text, ExprRole::TextOrValue, id, line));
            }
        }
        if let Some(c) = bpmn_child(node, "completionCondition") {
            let text = text_of(c);
            if !text.trim().is_empty() {
                let line = self.line(c);
                mi.completion = Some(self.expr(&text, ExprRole::Completion, id, line));
            }
        }
        mi
    }

    /// Joins flows to elements by index, attaches boundary events and resolves gateways'
    /// default flows, noting every reference to nothing.
    fn resolve(&mut self, process: &mut Process) {
        let mut index: HashMap<String, usize> = HashMap::with_capacity(process.elements.len());
        for (i, e) in process.elements.iter().enumerate() {
            index.entry(e.id.clone()).or_insert(i);
        }
        let mut problems = Vec::new();
        let mut links = Vec::with_capacity(process.flows.len());
        for (f, flow) in process.flows.iter_mut().enumerate() {
            flow.source = index.get(flow.source_ref.as_str()).copied();
            flow.target = index.get(flow.target_ref.as_str()).copied();
            for (reference, found, end) in
                [(&flow.source_ref, flow.source, "source"), (&flow.target_ref, flow.target, "target")]
            {
                if found.is_none() && !reference.is_empty() {
                    problems.push(Problem::at(
                        &flow.id,
                        flow.line,
                        ProblemCode::UnknownReference,
                        format!("the flow's {end} `{reference}` is no element of process `{}`", process.id),
                    ));
                }
            }
            links.push((f, flow.source, flow.target));
        }
        for (f, source, target) in links {
            let flow = &process.flows[f];
            let crosses = [source, target]
                .into_iter()
                .flatten()
                .any(|e| process.elements.get(e).is_some_and(|e| e.parent != flow.parent));
            if crosses {
                problems.push(Problem::at(
                    &flow.id,
                    flow.line,
                    ProblemCode::InvalidValue,
                    "a sequence flow cannot cross the border of a sub-process",
                ));
                continue;
            }
            if let Some(s) = source.and_then(|s| process.elements.get_mut(s)) {
                s.outgoing.push(f);
            }
            if let Some(t) = target.and_then(|t| process.elements.get_mut(t)) {
                t.incoming.push(f);
            }
        }
        for i in 0..process.elements.len() {
            let ElementKind::Boundary(boundary) = &process.elements[i].kind else { continue };
            let target = index.get(boundary.attached_to_ref.as_str()).copied();
            let attached = target.filter(|t| process.elements[*t].is_activity());
            let element = &process.elements[i];
            if attached.is_none() {
                let message = if boundary.attached_to_ref.is_empty() {
                    "the boundary event has no `attachedToRef`".to_owned()
                } else if target.is_some() {
                    format!(
                        "the boundary event is attached to `{}`, which is not an activity",
                        boundary.attached_to_ref
                    )
                } else {
                    format!("the boundary event is attached to `{}`, which does not exist", boundary.attached_to_ref)
                };
                problems.push(Problem::at(&element.id, element.line, ProblemCode::UnattachedBoundary, message));
            }
            if let ElementKind::Boundary(boundary) = &mut process.elements[i].kind {
                boundary.attached_to = attached;
            }
            if let Some(a) = attached {
                process.elements[a].boundaries.push(i);
            }
        }
        for (gateway, default_ref, line) in std::mem::take(&mut self.defaults) {
            let flow = process.flows.iter().position(|f| f.id == default_ref);
            let Some(element) = process.elements.get_mut(gateway) else { continue };
            let outgoing = flow.filter(|f| element.outgoing.contains(f));
            if outgoing.is_none() {
                problems.push(Problem::at(
                    &element.id,
                    line,
                    ProblemCode::UnknownReference,
                    format!("the default flow `{default_ref}` is not a flow out of this gateway"),
                ));
            }
            if let ElementKind::ExclusiveGateway { default } | ElementKind::InclusiveGateway { default } =
                &mut element.kind
            {
                *default = outgoing;
            }
        }
        self.defs.problems.extend(problems);
    }

    /// Gives message and error references their names, codes and correlation keys; the
    /// declarations may come after the processes that use them.
    fn resolve_messages_and_errors(&mut self) {
        let Definitions { processes, messages, errors, problems, .. } = &mut self.defs;
        for process in processes.iter_mut() {
            for element in &mut process.elements {
                let (id, line) = (element.id.clone(), element.line);
                let mut resolve_message = |m: &mut MessageRef| match messages.iter().find(|d| d.id == m.id) {
                    Some(decl) => {
                        m.name = Some(decl.name.clone().unwrap_or_else(|| decl.id.clone()));
                        m.correlation_key = decl.correlation_key;
                    }
                    None => problems.push(Problem::at(
                        &id,
                        line,
                        ProblemCode::UnknownReference,
                        format!("no `bpmn:message` has the id `{}`", m.id),
                    )),
                };
                match &mut element.kind {
                    ElementKind::StartEvent(StartTrigger::Message(m))
                    | ElementKind::EndEvent(EndResult::Message(m))
                    | ElementKind::ReceiveTask(m)
                    | ElementKind::Throw(Some(m))
                    | ElementKind::IntermediateCatch(CatchTrigger::Message(m))
                    | ElementKind::Boundary(Boundary { trigger: BoundaryTrigger::Message(m), .. }) => {
                        resolve_message(m)
                    }
                    ElementKind::EndEvent(EndResult::Error(e))
                    | ElementKind::Boundary(Boundary { trigger: BoundaryTrigger::Error(Some(e)), .. }) => {
                        match errors.iter().find(|d| d.id == e.id) {
                            Some(decl) => {
                                e.resolved = true;
                                e.code = decl.code.clone();
                            }
                            None => problems.push(Problem::at(
                                &id,
                                line,
                                ProblemCode::UnknownReference,
                                format!("no `bpmn:error` has the id `{}`", e.id),
                            )),
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}
