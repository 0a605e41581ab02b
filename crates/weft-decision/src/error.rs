use std::fmt;

/// What kind of problem stops a model from being deployed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProblemKind {
    /// Not well-formed XML (or a DTD, which is refused).
    InvalidXml,
    /// Not a DMN 1.1–1.5 `<definitions>` document.
    NotDmn,
    /// Over one of the [`Limits`](crate::Limits): size, nesting, node count.
    TooLarge,
    DuplicateId,
    DuplicateName,
    MissingName,
    /// A requirement points at an element that is not in the model.
    UnresolvedReference,
    /// A decision requires itself.
    Cycle,
    /// A decision table is malformed (entries per rule, hit policy, outputs).
    InvalidTable,
    /// A construct Weft refuses (external Java/PMML functions).
    Unsupported,
    /// The engine refused the model (typically a FEEL syntax error or an unknown type).
    InvalidModel,
}

impl ProblemKind {
    /// The snake_case code of this problem, for the API.
    pub fn code(self) -> &'static str {
        match self {
            ProblemKind::InvalidXml => "invalid_xml",
            ProblemKind::NotDmn => "not_dmn",
            ProblemKind::TooLarge => "too_large",
            ProblemKind::DuplicateId => "duplicate_id",
            ProblemKind::DuplicateName => "duplicate_name",
            ProblemKind::MissingName => "missing_name",
            ProblemKind::UnresolvedReference => "unresolved_reference",
            ProblemKind::Cycle => "cycle",
            ProblemKind::InvalidTable => "invalid_table",
            ProblemKind::Unsupported => "unsupported",
            ProblemKind::InvalidModel => "invalid_model",
        }
    }
}

/// One reason a model cannot be deployed: its kind, the element it concerns (a decision's
/// name, or an id), and a sentence for the person who modelled it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecisionProblem {
    pub kind: ProblemKind,
    pub element: Option<String>,
    pub message: String,
}

impl DecisionProblem {
    pub(crate) fn new(kind: ProblemKind, element: Option<String>, message: String) -> DecisionProblem {
        DecisionProblem { kind, element, message }
    }
}

impl fmt::Display for DecisionProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.element {
            Some(e) => write!(f, "{} ({}): {}", e, self.kind.code(), self.message),
            None => write!(f, "{}: {}", self.kind.code(), self.message),
        }
    }
}

/// Why an evaluation produced no outcome. FEEL errors inside an expression are not
/// errors here: FEEL makes them `null`, and the outcome carries that null.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    #[error("no decision named '{name}'{}", suggestion.as_ref().map(|s| format!(" (did you mean '{s}'?)")).unwrap_or_default())]
    UnknownDecision { name: String, suggestion: Option<String> },
    #[error("the input must be a JSON object of input names to values")]
    InputNotAnObject,
    #[error("evaluation took longer than {millis} ms and was abandoned")]
    Timeout { millis: u64 },
    #[error("too many evaluations are running; try again")]
    Busy,
    #[error("the decision engine failed: {0}")]
    Engine(String),
}

impl EvalError {
    /// The snake_case code of this error, for the API.
    pub fn code(&self) -> &'static str {
        match self {
            EvalError::UnknownDecision { .. } => "unknown_decision",
            EvalError::InputNotAnObject => "input_not_an_object",
            EvalError::Timeout { .. } => "evaluation_timeout",
            EvalError::Busy => "busy",
            EvalError::Engine(_) => "engine_failure",
        }
    }
}
