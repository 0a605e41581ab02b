//! A BPMN document as Weft reads it: processes of flow elements joined by sequence flows,
//! with the Camunda 8 (`zeebe:`) and Weft extensions already interpreted.
//!
//! Elements of a process, including those nested in embedded sub-processes, sit in one flat
//! list in document order; an element names its container by index. Expressions are kept
//! apart in [`Definitions::expressions`] so validation can compile them all into a table the
//! engine indexes with the same [`ExprId`].

/// An index into [`Definitions::expressions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExprId(pub u32);

/// The root `bpmn:definitions` element.
#[derive(Debug, Clone, PartialEq)]
pub struct Definitions {
    pub id: Option<String>,
    pub processes: Vec<Process>,
    pub messages: Vec<MessageDecl>,
    pub errors: Vec<ErrorDecl>,
    pub expressions: Vec<Expression>,
    /// Problems found while reading (unsupported elements, unreadable attributes); validation
    /// reports them with its own, so a modeller sees everything at once.
    pub problems: Vec<crate::Problem>,
}

impl Definitions {
    pub fn process(&self, id: &str) -> Option<&Process> {
        self.processes.iter().find(|p| p.id == id)
    }

    pub fn expression(&self, id: ExprId) -> Option<&Expression> {
        self.expressions.get(id.0 as usize)
    }
}

/// `bpmn:message`: what message events and receive tasks wait for.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageDecl {
    pub id: String,
    pub name: Option<String>,
    /// `zeebe:subscription correlationKey`: evaluated when a subscription opens.
    pub correlation_key: Option<ExprId>,
    pub line: u32,
}

/// `bpmn:error`: what error end events throw and error boundary events catch.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorDecl {
    pub id: String,
    pub name: Option<String>,
    pub code: Option<String>,
    pub line: u32,
}

/// Where an expression sits, which decides how it is read and what it must produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExprRole {
    /// A sequence flow's condition: FEEL, boolean, with or without the leading `=`.
    Condition,
    /// A multi-instance completion condition: FEEL, boolean.
    Completion,
    /// FEEL producing a value (input collection, mapping source, correlation key, output
    /// element); the leading `=` is optional.
    Value,
    /// An output mapping's source: FEEL, but it may name what the completed step returned,
    /// which no schema declares.
    Output,
    /// FEEL when it starts with `=`, otherwise literal text (assignee, candidate groups,
    /// due date, loop cardinality).
    TextOrValue,
    /// A timer's date, duration or cycle: ISO 8601 text, or FEEL after `=`.
    Timer,
}

/// An expression as written, with where it came from for problem reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Expression {
    /// The text with surrounding whitespace and a leading `=` removed.
    pub text: String,
    /// Whether the text started with `=` (Camunda's mark for FEEL).
    pub feel: bool,
    pub role: ExprRole,
    /// The id of the element it belongs to.
    pub element: String,
    pub line: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Process {
    pub id: String,
    pub name: Option<String>,
    pub executable: bool,
    pub line: u32,
    /// Every flow node of the process, sub-process contents included, in document order.
    pub elements: Vec<Element>,
    pub flows: Vec<Flow>,
}

impl Process {
    pub fn element(&self, id: &str) -> Option<(usize, &Element)> {
        self.elements.iter().enumerate().find(|(_, e)| e.id == id)
    }

    /// The elements directly in `container` (`None`: the process itself).
    pub fn children(&self, container: Option<usize>) -> impl Iterator<Item = (usize, &Element)> {
        self.elements.iter().enumerate().filter(move |(_, e)| e.parent == container)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    pub id: String,
    pub line: u32,
    pub source_ref: String,
    pub target_ref: String,
    /// Indices into [`Process::elements`], resolved after reading; `None` when the reference
    /// names no element of the same process.
    pub source: Option<usize>,
    pub target: Option<usize>,
    pub condition: Option<ExprId>,
    pub parent: Option<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    pub id: String,
    pub name: Option<String>,
    pub line: u32,
    /// The embedded sub-process it sits in.
    pub parent: Option<usize>,
    pub kind: ElementKind,
    /// Indices into [`Process::flows`], in the flows' document order (which is the order an
    /// exclusive gateway tries its conditions in).
    pub incoming: Vec<usize>,
    pub outgoing: Vec<usize>,
    /// Boundary events attached to this activity, by index.
    pub boundaries: Vec<usize>,
    pub multi_instance: Option<MultiInstance>,
    /// `zeebe:ioMapping` inputs: local variables of the activity, evaluated when it starts.
    pub inputs: Vec<Mapping>,
    /// `zeebe:ioMapping` outputs: what the activity writes to its scope when it completes.
    pub outputs: Vec<Mapping>,
}

impl Element {
    pub fn is_activity(&self) -> bool {
        matches!(
            self.kind,
            ElementKind::UserTask(_)
                | ElementKind::ServiceTask(_)
                | ElementKind::BusinessRuleTask(_)
                | ElementKind::ReceiveTask(_)
                | ElementKind::Task
                | ElementKind::SubProcess
                | ElementKind::CallActivity(_)
        )
    }

    /// The XML element name, for messages.
    pub fn kind_name(&self) -> &'static str {
        self.kind.name()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Mapping {
    pub source: ExprId,
    pub target: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ElementKind {
    StartEvent(StartTrigger),
    EndEvent(EndResult),
    UserTask(Box<UserTask>),
    ServiceTask(Job),
    BusinessRuleTask(Job),
    ReceiveTask(MessageRef),
    /// `bpmn:task` and `bpmn:manualTask`: nothing to do, the token passes.
    Task,
    /// A none or message `intermediateThrowEvent`.
    Throw(Option<MessageRef>),
    ExclusiveGateway {
        default: Option<usize>,
    },
    InclusiveGateway {
        default: Option<usize>,
    },
    ParallelGateway,
    EventBasedGateway,
    IntermediateCatch(CatchTrigger),
    Boundary(Boundary),
    SubProcess,
    CallActivity(CallActivity),
}

impl ElementKind {
    pub fn name(&self) -> &'static str {
        match self {
            ElementKind::StartEvent(_) => "startEvent",
            ElementKind::EndEvent(_) => "endEvent",
            ElementKind::UserTask(_) => "userTask",
            ElementKind::ServiceTask(_) => "serviceTask",
            ElementKind::BusinessRuleTask(_) => "businessRuleTask",
            ElementKind::ReceiveTask(_) => "receiveTask",
            ElementKind::Task => "task",
            ElementKind::Throw(_) => "intermediateThrowEvent",
            ElementKind::ExclusiveGateway { .. } => "exclusiveGateway",
            ElementKind::InclusiveGateway { .. } => "inclusiveGateway",
            ElementKind::ParallelGateway => "parallelGateway",
            ElementKind::EventBasedGateway => "eventBasedGateway",
            ElementKind::IntermediateCatch(_) => "intermediateCatchEvent",
            ElementKind::Boundary(_) => "boundaryEvent",
            ElementKind::SubProcess => "subProcess",
            ElementKind::CallActivity(_) => "callActivity",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum StartTrigger {
    None,
    Message(MessageRef),
    Timer(Timer),
}

#[derive(Debug, Clone, PartialEq)]
pub enum EndResult {
    None,
    /// Ends the enclosing scope at once: the whole instance at process level, the
    /// sub-process inside one.
    Terminate,
    Error(ErrorRef),
    /// Publishes the message, then ends like a none end event.
    Message(MessageRef),
}

#[derive(Debug, Clone, PartialEq)]
pub enum CatchTrigger {
    Timer(Timer),
    Message(MessageRef),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Boundary {
    /// `attachedToRef` as written, and the activity it names once resolved.
    pub attached_to_ref: String,
    pub attached_to: Option<usize>,
    /// `cancelActivity`: an interrupting event ends the activity; a non-interrupting one
    /// starts a parallel path and leaves it running (a reminder).
    pub interrupting: bool,
    pub trigger: BoundaryTrigger,
}

#[derive(Debug, Clone, PartialEq)]
pub enum BoundaryTrigger {
    Timer(Timer),
    Message(MessageRef),
    /// Catches errors thrown inside the activity; `error: None` catches every code.
    Error(Option<ErrorRef>),
}

/// A `messageRef`, resolved to the message's name and correlation key after reading.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageRef {
    pub id: String,
    /// `None` when the reference names no `bpmn:message` (a validation problem).
    pub name: Option<String>,
    pub correlation_key: Option<ExprId>,
}

/// An `errorRef`, resolved to the error's code after reading.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorRef {
    pub id: String,
    pub resolved: bool,
    /// `errorCode`; without one the error's id stands for its code.
    pub code: Option<String>,
}

impl ErrorRef {
    pub fn code(&self) -> &str {
        self.code.as_deref().unwrap_or(&self.id)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerKind {
    /// `timeDate`: one instant.
    Date,
    /// `timeDuration`: a delay after the timer starts.
    Duration,
    /// `timeCycle`: `R<n>/<duration>` (or `R<n>/<start>/<duration>`); a non-interrupting
    /// boundary fires on every repetition.
    Cycle,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Timer {
    pub kind: TimerKind,
    pub value: ExprId,
    /// `weft:calendar` on the timer definition: count the delay in this business calendar's
    /// working time.
    pub calendar: Option<String>,
}

/// A service or business rule task: work done outside the engine by a job worker.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// `zeebe:taskDefinition type`, e.g. `weft:transition`, `weft:webhook`; `weft:decision`
    /// for a business rule task calling a decision.
    pub kind: String,
    pub retries: Option<u32>,
    /// `zeebe:taskHeaders`; a business rule task's `decisionId` and `resultVariable` too.
    pub headers: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CallActivity {
    /// `zeebe:calledElement processId`.
    pub process_id: String,
    /// Whether the child starts with all the caller's variables (Camunda's default) or only
    /// with the input mappings.
    pub propagate_parent: bool,
    /// Whether every variable of the finished child comes back (Camunda's default) or only
    /// the output mappings.
    pub propagate_child: bool,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserTask {
    /// `zeebe:assignmentDefinition assignee`: a principal, literal or FEEL.
    pub assignee: Option<ExprId>,
    /// Comma-separated literal, or FEEL giving a string or a list.
    pub candidate_groups: Option<ExprId>,
    pub candidate_users: Option<ExprId>,
    /// `weft:assignment rule`, resolved by the façade against the org directory.
    pub rule: Option<AssignmentRule>,
    /// `weft:assignment forbidSelfApproval="true"`: the starter may not complete it.
    pub forbid_self_approval: bool,
    pub form: Option<Form>,
    /// `weft:form` / `weft:field`: what completing the task must send, checked by the façade.
    pub fields: Vec<FormField>,
    /// `zeebe:taskSchedule dueDate` / `followUpDate`.
    pub due: Option<ExprId>,
    pub follow_up: Option<ExprId>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Form {
    /// `formId`: a form deployed with the process.
    Id(String),
    /// `formKey` (embedded Camunda forms) or `externalReference`.
    Key(String),
}

/// One field of a task's form (`<weft:field name="reason" type="text" required="true"
/// options="a,b"/>` inside `<weft:form>`): the outputs a completion must carry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FormField {
    pub name: String,
    /// `text`, `integer`, `decimal`, `boolean`, `date` or `json`.
    #[serde(rename = "type")]
    pub field_type: String,
    #[serde(default)]
    pub required: bool,
    /// Allowed values of a `text` field, when listed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// What forms show: `label` (English, or any language) and `labelZh` (Chinese).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_zh: Option<String>,
    /// What forms show for each option, in `options`' order (`optionLabels`, and
    /// `optionLabelsZh` in Chinese); empty: the option values themselves.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub option_labels: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub option_labels_zh: Vec<String>,
}

/// The field types a form may declare.
pub const FORM_FIELD_TYPES: [&str; 6] = ["text", "integer", "decimal", "boolean", "date", "json"];

/// How the façade picks the assignee when no fixed one is given.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "rule", content = "value")]
pub enum AssignmentRule {
    /// `user:<id or login>`.
    User(String),
    /// `role:<name>`: anyone holding the role.
    Role(String),
    /// `unit:<name>`: the members of an org unit.
    Unit(String),
    /// `unit_head:<name>`.
    UnitHead(String),
    /// `manager_chain:<n>`: the starter's manager `n` levels up (`manager` is 1), skipping
    /// vacant positions and the starter.
    ManagerChain(u8),
    /// `starter`: whoever started the process.
    Starter,
    /// `round_robin`: the next member of the candidate groups in turn.
    RoundRobin,
    /// `least_loaded`: the member of the candidate groups with the fewest open tasks.
    LeastLoaded,
    /// `decision:<id>`: a decision table picks.
    Decision(String),
}

impl AssignmentRule {
    pub fn parse(text: &str) -> Option<AssignmentRule> {
        let text = text.trim();
        let (head, arg) = match text.split_once(':') {
            Some((h, a)) => (h.trim(), Some(a.trim()).filter(|a| !a.is_empty())),
            None => (text, None),
        };
        let owned = |a: Option<&str>| a.map(str::to_owned);
        Some(match (head, arg) {
            ("user", a) => AssignmentRule::User(owned(a)?),
            ("role", a) => AssignmentRule::Role(owned(a)?),
            ("unit", a) => AssignmentRule::Unit(owned(a)?),
            ("unit_head", a) => AssignmentRule::UnitHead(owned(a)?),
            ("manager", None) => AssignmentRule::ManagerChain(1),
            ("manager_chain", Some(n)) => {
                AssignmentRule::ManagerChain(n.parse().ok().filter(|n| (1..=20).contains(n))?)
            }
            ("starter", None) => AssignmentRule::Starter,
            ("round_robin", None) => AssignmentRule::RoundRobin,
            ("least_loaded", None) => AssignmentRule::LeastLoaded,
            ("decision", a) => AssignmentRule::Decision(owned(a)?),
            _ => return None,
        })
    }
}

/// `bpmn:multiInstanceLoopCharacteristics` with `zeebe:loopCharacteristics`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MultiInstance {
    pub sequential: bool,
    pub input_collection: Option<ExprId>,
    /// The local variable each instance sees its item as.
    pub input_element: Option<String>,
    /// The variable the collected `output_element` values are written to at the end.
    pub output_collection: Option<String>,
    pub output_element: Option<ExprId>,
    /// `bpmn:loopCardinality`: a number of instances instead of a collection.
    pub cardinality: Option<ExprId>,
    pub completion: Option<ExprId>,
}
