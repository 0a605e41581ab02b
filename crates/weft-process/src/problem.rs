//! Why a definition is refused. Deployment lists every problem at once, each tied to the
//! element (and XML line) a modeller has to fix, with a code a UI can branch on.

use std::fmt;

/// What is wrong, for programs; the message says it for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProblemCode {
    /// Not well-formed XML, or not a BPMN 2.0 `definitions` document.
    MalformedXml,
    /// An element Weft does not execute (script task, signal event, compensation…).
    UnsupportedElement,
    /// A required attribute or child is missing.
    MissingAttribute,
    /// An attribute or text that does not read as what it should be.
    InvalidValue,
    /// Two elements share an id.
    DuplicateId,
    /// The document has no executable process.
    NoProcess,
    /// A process or sub-process without a start event.
    NoStartEvent,
    /// More than one none start event in a process or sub-process.
    SeveralNoneStarts,
    /// A start event an embedded sub-process cannot have (message, timer).
    StartNotAllowed,
    /// A reference (flow source or target, default flow, message, error) to no such id.
    UnknownReference,
    /// An element no start event leads to.
    Unreachable,
    /// A non-end element with no outgoing flow: its token would vanish silently.
    DeadEnd,
    /// An exclusive or inclusive gateway with several outgoing flows and no default.
    NoDefaultFlow,
    /// A flow out of a gateway with several outgoing flows that has no condition.
    MissingCondition,
    /// A condition on a flow out of something other than an exclusive or inclusive gateway.
    ConditionNotAllowed,
    /// A FEEL expression that does not parse, names unknown variables or has the wrong type.
    InvalidExpression,
    /// A boundary event whose `attachedToRef` names no activity.
    UnattachedBoundary,
    /// A call activity to a process neither in this document nor already deployed.
    UnknownProcess,
    /// A multi-instance activity with neither an input collection nor a cardinality.
    NoInputCollection,
    /// An event-based gateway followed by something other than catch events.
    InvalidEventGateway,
    /// A timer whose date, duration or cycle cannot be read.
    InvalidTimer,
}

impl ProblemCode {
    /// The snake_case name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemCode::MalformedXml => "malformed_xml",
            ProblemCode::UnsupportedElement => "unsupported_element",
            ProblemCode::MissingAttribute => "missing_attribute",
            ProblemCode::InvalidValue => "invalid_value",
            ProblemCode::DuplicateId => "duplicate_id",
            ProblemCode::NoProcess => "no_process",
            ProblemCode::NoStartEvent => "no_start_event",
            ProblemCode::SeveralNoneStarts => "several_none_starts",
            ProblemCode::StartNotAllowed => "start_not_allowed",
            ProblemCode::UnknownReference => "unknown_reference",
            ProblemCode::Unreachable => "unreachable",
            ProblemCode::DeadEnd => "dead_end",
            ProblemCode::NoDefaultFlow => "no_default_flow",
            ProblemCode::MissingCondition => "missing_condition",
            ProblemCode::ConditionNotAllowed => "condition_not_allowed",
            ProblemCode::InvalidExpression => "invalid_expression",
            ProblemCode::UnattachedBoundary => "unattached_boundary",
            ProblemCode::UnknownProcess => "unknown_process",
            ProblemCode::NoInputCollection => "no_input_collection",
            ProblemCode::InvalidEventGateway => "invalid_event_gateway",
            ProblemCode::InvalidTimer => "invalid_timer",
        }
    }
}

impl fmt::Display for ProblemCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One reason a definition cannot be deployed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The id of the element to fix; `None` for the document as a whole (or an element that
    /// has no id).
    pub element: Option<String>,
    /// 1-based line in the XML, when known.
    pub line: Option<u32>,
    pub code: ProblemCode,
    pub message: String,
}

impl Problem {
    pub(crate) fn new(
        element: Option<&str>,
        line: Option<u32>,
        code: ProblemCode,
        message: impl Into<String>,
    ) -> Problem {
        Problem { element: element.map(str::to_owned), line, code, message: message.into() }
    }

    pub(crate) fn at(element: &str, line: u32, code: ProblemCode, message: impl Into<String>) -> Problem {
        Problem::new(Some(element), Some(line), code, message)
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.element, self.line) {
            (Some(e), Some(l)) => write!(f, "{e} (line {l}): {}: {}", self.code, self.message),
            (Some(e), None) => write!(f, "{e}: {}: {}", self.code, self.message),
            (None, Some(l)) => write!(f, "line {l}: {}: {}", self.code, self.message),
            (None, None) => write!(f, "{}: {}", self.code, self.message),
        }
    }
}
