//! A test driver: deploys a fixture, runs an instance against a test clock, keeps every
//! effect, and checks after each step that the state survives a JSON round trip (what the
//! persistence layer will do to it).
#![allow(dead_code)]

use std::path::Path;

use serde_json::{Map, Value as Json, json};
use time::OffsetDateTime;
use time::macros::datetime;
use uuid::Uuid;
use weft_expr::{FieldType, Schema};
use weft_process::{
    Deployment, Effect, Engine, Environment, Event, Instance, Start, Status, WaitId, WaitKind, WorkingTime, deploy,
};

pub const T0: OffsetDateTime = datetime!(2026-03-02 09:00 UTC);

pub fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The variables the fixtures' expressions use.
pub fn schema() -> Schema {
    Schema::new()
        .with_var("amount", FieldType::Decimal)
        .with_var("approved", FieldType::Boolean)
        .with_var("approvers", FieldType::Opaque("json"))
        .with_var("approver", FieldType::Text)
        .with_var("due_at", FieldType::DateTime)
        .with_var("needs_legal", FieldType::Boolean)
        .with_var("supplier_name", FieldType::Text)
        .with_var("vendor_score", FieldType::Integer)
        .with_var("blacklisted", FieldType::Boolean)
        .with_var("in_stock", FieldType::Boolean)
        .with_var("rfq_number", FieldType::Text)
        .with_var("level", FieldType::Text)
        .with_var("route", FieldType::Text)
        .with_var("order_number", FieldType::Text)
        .with_var("review_on", FieldType::DateTime)
        .with_var("items", FieldType::Opaque("json"))
}

pub fn deployed(name: &str) -> Deployment {
    deploy(&fixture(name), &Environment::new(schema())).unwrap_or_else(|problems| {
        panic!("{name} does not deploy:\n{}", problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n"))
    })
}

pub fn vars(value: Json) -> Map<String, Json> {
    match value {
        Json::Object(map) => map,
        other => panic!("variables must be an object, not {other}"),
    }
}

pub struct Driver<'w> {
    pub deployment: Deployment,
    pub engine: Engine<'w>,
    pub instance: Instance,
    /// Every effect so far, in order.
    pub log: Vec<Effect>,
    pub now: OffsetDateTime,
}

impl Driver<'static> {
    pub fn start(fixture_name: &str, process: &str, variables: Json) -> Driver<'static> {
        Driver::start_with(Engine::new(), deployed(fixture_name), process, variables)
    }
}

impl<'w> Driver<'w> {
    pub fn start_with(engine: Engine<'w>, deployment: Deployment, process: &str, variables: Json) -> Driver<'w> {
        let instance_id = Uuid::from_u128(0x0196_0000_0000_7000_8000_0000_0000_0001);
        let start = Start::new(instance_id, process, vars(variables));
        let (instance, log) = engine.start(&deployment, start, T0).expect("the instance starts");
        let driver = Driver { deployment, engine, instance, log, now: T0 };
        driver.round_trip();
        driver
    }

    fn round_trip(&self) {
        let text = serde_json::to_string(&self.instance).expect("the state serialises");
        let back: Instance = serde_json::from_str(&text).expect("the state reads back");
        assert_eq!(back, self.instance, "the state changes through JSON: {text}");
    }

    pub fn try_apply(&mut self, event: Event) -> Result<Vec<Effect>, weft_process::EngineError> {
        let before = self.instance.clone();
        let result = self.engine.apply(&self.deployment, &mut self.instance, event, self.now);
        match &result {
            Ok(effects) => {
                let text = serde_json::to_string(effects).expect("effects serialise");
                let back: Vec<Effect> = serde_json::from_str(&text).expect("effects read back");
                assert_eq!(&back, effects, "effects change through JSON: {text}");
                self.log.extend(effects.iter().cloned());
            }
            Err(_) => assert_eq!(before, self.instance, "a refused event changed the state"),
        }
        self.round_trip();
        result
    }

    pub fn apply(&mut self, event: Event) -> Vec<Effect> {
        let text = format!("{event:?}");
        self.try_apply(event).unwrap_or_else(|e| panic!("{text} refused: {e}"))
    }

    fn waits_of(&self, element: &str, kind: fn(&WaitKind) -> bool) -> Vec<WaitId> {
        self.instance.open_waits().filter(|(_, w)| w.element == element && kind(&w.kind)).map(|(id, _)| id).collect()
    }

    /// The open user task at `element` (the only one).
    pub fn task(&self, element: &str) -> WaitId {
        let found = self.waits_of(element, |k| matches!(k, WaitKind::UserTask));
        assert_eq!(found.len(), 1, "open tasks at {element}: {:?} (open: {:?})", found, self.open_tasks());
        found[0]
    }

    /// The open user task at `element` assigned to `assignee`.
    pub fn task_of(&self, element: &str, assignee: &str) -> WaitId {
        let open = self.waits_of(element, |k| matches!(k, WaitKind::UserTask));
        let found: Vec<WaitId> = open
            .into_iter()
            .filter(|id| {
                self.log.iter().any(|e| {
                    matches!(e, Effect::CreateUserTask { id: i, assignment, .. }
                        if i == id && assignment.assignee.as_deref() == Some(assignee))
                })
            })
            .collect();
        assert_eq!(found.len(), 1, "open tasks at {element} for {assignee}: {found:?}");
        found[0]
    }

    /// Elements with an open user task, sorted.
    pub fn open_tasks(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .instance
            .open_waits()
            .filter(|(_, w)| matches!(w.kind, WaitKind::UserTask))
            .map(|(_, w)| w.element.clone())
            .collect();
        out.sort();
        out
    }

    pub fn complete(&mut self, element: &str, outputs: Json) -> Vec<Effect> {
        let task = self.task(element);
        self.apply(Event::TaskCompleted { task, outputs: vars(outputs) })
    }

    pub fn job(&self, element: &str) -> WaitId {
        let found = self.waits_of(element, |k| matches!(k, WaitKind::Job));
        assert_eq!(found.len(), 1, "open jobs at {element}: {found:?}");
        found[0]
    }

    pub fn finish_job(&mut self, element: &str, outputs: Json) -> Vec<Effect> {
        let job = self.job(element);
        self.apply(Event::JobCompleted { job, outputs: vars(outputs) })
    }

    /// Moves the clock to when the timer of `element` is due and fires it.
    pub fn fire(&mut self, element: &str) -> Vec<Effect> {
        let (id, at) = self
            .instance
            .open_waits()
            .find_map(|(id, w)| match w.kind {
                WaitKind::Timer { at, .. } if w.element == element => Some((id, at)),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no timer at {element}"));
        self.now = self.now.max(at);
        self.apply(Event::TimerFired { timer: id })
    }

    pub fn timer_at(&self, element: &str) -> Option<OffsetDateTime> {
        self.instance.open_waits().find_map(|(_, w)| match w.kind {
            WaitKind::Timer { at, .. } if w.element == element => Some(at),
            _ => None,
        })
    }

    pub fn status(&self) -> Status {
        self.instance.status
    }

    pub fn var(&self, name: &str) -> Json {
        self.instance.variables.get(name).cloned().unwrap_or(Json::Null)
    }

    /// The elements of the ended steps, in order.
    pub fn path(&self) -> Vec<&str> {
        self.instance.history.iter().map(|s| s.element.as_str()).collect()
    }

    pub fn completed(&self) -> bool {
        self.status() == Status::Completed
    }
}

/// What an effect list did, compactly, for assertions.
pub fn summary(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .map(|e| match e {
            Effect::CreateUserTask { element, .. } => format!("task {element}"),
            Effect::CancelUserTask { .. } => "cancel task".into(),
            Effect::ScheduleTimer { element, .. } => format!("timer {element}"),
            Effect::CancelTimer { .. } => "cancel timer".into(),
            Effect::Subscribe { message, .. } => format!("subscribe {message}"),
            Effect::Unsubscribe { .. } => "unsubscribe".into(),
            Effect::RunJob { element, .. } => format!("job {element}"),
            Effect::CancelJob { .. } => "cancel job".into(),
            Effect::StartChildInstance { process, .. } => format!("child {process}"),
            Effect::CancelChildInstance { .. } => "cancel child".into(),
            Effect::PublishMessage { message, .. } => format!("publish {message}"),
            Effect::Completed { .. } => "completed".into(),
            Effect::Terminated { reason } => format!("terminated {reason:?}"),
            Effect::Incident { element, message, .. } => format!("incident {element}: {message}"),
        })
        .collect()
}

/// A stand-in business calendar: plain time, except that an instant falling on a weekend
/// moves to the Monday after, at the same time of day.
pub struct WeekdaysOnly;

impl WorkingTime for WeekdaysOnly {
    fn add(
        &self,
        calendar: Option<&str>,
        from: OffsetDateTime,
        duration: weft_process::IsoDuration,
    ) -> Option<OffsetDateTime> {
        let at = duration.after(from)?;
        if calendar.is_none() {
            return Some(at);
        }
        let shift = match at.weekday() {
            time::Weekday::Saturday => 2,
            time::Weekday::Sunday => 1,
            _ => 0,
        };
        Some(at + time::Duration::days(shift))
    }
}

pub fn no_vars() -> Json {
    json!({})
}
