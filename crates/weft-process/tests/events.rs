//! Timers, messages, errors and terminate ends at the engine level.

mod common;

use common::{Driver, T0, WeekdaysOnly, deployed, summary, vars};
use serde_json::json;
use time::macros::datetime;
use weft_process::{AssignmentRule, Effect, Engine, EngineError, Event, Status};

#[test]
fn a_non_interrupting_reminder_repeats_beside_the_task_and_an_escalation_replaces_it() {
    let mut d = Driver::start(
        "reminders.bpmn",
        "sla_approval",
        json!({ "approver": "ann", "due_at": "2026-03-03T18:00:00+08:00" }),
    );
    assert_eq!(summary(&d.log), ["timer remind_timer", "timer escalate_timer", "task approve"]);
    let Some(Effect::CreateUserTask { due, assignment, .. }) = d.log.get(2) else { panic!("{:?}", d.log) };
    assert_eq!(*due, Some(datetime!(2026-03-03 10:00 UTC)));
    assert_eq!(assignment.assignee.as_deref(), Some("ann"));
    assert_eq!(d.timer_at("remind_timer"), Some(datetime!(2026-03-02 13:00 UTC)));
    assert_eq!(d.timer_at("escalate_timer"), Some(datetime!(2026-03-03 09:00 UTC)));

    let effects = d.fire("remind_timer");
    assert_eq!(summary(&effects), ["timer remind_timer", "job send_reminder"]);
    let Some(Effect::RunJob { inputs, kind, .. }) = effects.get(1) else { panic!() };
    assert_eq!((kind.as_str(), &inputs["to"]), ("weft:notify", &json!("ann")));
    assert_eq!(d.open_tasks(), ["approve"]);
    assert_eq!(d.timer_at("remind_timer"), Some(datetime!(2026-03-02 17:00 UTC)));
    d.finish_job("send_reminder", json!({}));
    assert_eq!(d.status(), Status::Active);

    // R2: the second reminder is the last one.
    let effects = d.fire("remind_timer");
    assert_eq!(summary(&effects), ["job send_reminder"]);
    assert_eq!(d.timer_at("remind_timer"), None);

    let effects = d.fire("escalate_timer");
    assert_eq!(summary(&effects), ["cancel task", "task escalated_approve"]);
    let Some(Effect::CreateUserTask { assignment, .. }) = effects.last() else { panic!() };
    assert_eq!(assignment.rule, Some(AssignmentRule::ManagerChain(1)));
    d.complete("escalated_approve", json!({ "approved": true }));
    assert_eq!(d.status(), Status::Active, "the second reminder's job still runs");
    let effects = d.finish_job("send_reminder", json!({}));
    assert_eq!(summary(&effects), ["completed"]);
    let approve = d.instance.history.iter().find(|s| s.element == "approve").expect("a step");
    assert_eq!((approve.started_at, approve.ended_at), (T0, datetime!(2026-03-03 09:00 UTC)));
    assert_eq!(approve.outcome, weft_process::Outcome::Cancelled);
}

#[test]
fn completing_the_task_in_time_cancels_both_timers() {
    let mut d = Driver::start("reminders.bpmn", "sla_approval", json!({ "approver": "ann" }));
    let effects = d.complete("approve", json!({ "approved": true }));
    assert_eq!(summary(&effects), ["cancel timer", "cancel timer", "completed"]);
}

#[test]
fn timers_with_a_calendar_count_in_its_working_time() {
    let friday_night = datetime!(2026-03-06 22:00 UTC);
    let deployment = deployed("reminders.bpmn");
    let engine = Engine::with_working_time(&WeekdaysOnly);
    let start = weft_process::Start::new(uuid::Uuid::nil(), "sla_approval", vars(json!({ "approver": "ann" })));
    let (instance, effects) = engine.start(&deployment, start, friday_night).expect("starts");
    let at = |element: &str| {
        effects.iter().find_map(|e| match e {
            Effect::ScheduleTimer { element: el, at, .. } if el == element => Some(*at),
            _ => None,
        })
    };
    // The reminder names a calendar: Saturday 02:00 moves to Monday 02:00.
    assert_eq!(at("remind_timer"), Some(datetime!(2026-03-09 02:00 UTC)));
    // The escalation names none: plain time.
    assert_eq!(at("escalate_timer"), Some(datetime!(2026-03-07 22:00 UTC)));
    assert_eq!(instance.status, Status::Active);
}

#[test]
fn event_based_gateway_takes_the_message_and_cancels_the_timer() {
    let mut d = Driver::start("event_gateway.bpmn", "quote_request", json!({ "rfq_number": "RFQ-7" }));
    let effects = d.finish_job("send_request", json!({}));
    assert_eq!(summary(&effects), ["subscribe quote", "timer two_days"]);
    let Some(Effect::Subscribe { correlation, .. }) = effects.first() else { panic!() };
    assert_eq!(correlation.as_deref(), Some("RFQ-7"));

    let wrong =
        Event::MessageReceived { name: "quote".into(), correlation: Some("RFQ-8".into()), payload: Default::default() };
    assert!(matches!(d.try_apply(wrong), Err(EngineError::NoSubscription { .. })));

    let reply = Event::MessageReceived {
        name: "quote".into(),
        correlation: Some("RFQ-7".into()),
        payload: vars(json!({ "price": "1200.00", "currency": "CNY" })),
    };
    let effects = d.apply(reply);
    assert_eq!(summary(&effects), ["cancel timer", "task evaluate"]);
    assert_eq!(d.var("quoted_price"), json!("1200.00"));
    assert_eq!(d.var("currency"), json!(null), "only the output mapping is kept");
    d.complete("evaluate", json!({}));
    assert!(d.completed());
    assert!(d.path().contains(&"quote_received"));
}

#[test]
fn event_based_gateway_takes_the_timer_and_cancels_the_subscription() {
    let mut d = Driver::start("event_gateway.bpmn", "quote_request", json!({ "rfq_number": "RFQ-9" }));
    d.finish_job("send_request", json!({}));
    let effects = d.fire("two_days");
    assert_eq!(summary(&effects), ["unsubscribe", "task chase"]);
    assert_eq!(d.now, datetime!(2026-03-04 09:00 UTC));
}

#[test]
fn an_error_end_event_in_a_sub_process_is_caught_by_its_boundary() {
    let mut d = Driver::start("errors.bpmn", "order_fulfilment", json!({ "in_stock": true }));
    assert_eq!(summary(&d.log), ["job check_stock"]);
    let effects = d.finish_job("check_stock", json!({ "in_stock": false }));
    assert_eq!(summary(&effects), ["task backorder"]);
    assert_eq!(d.path(), ["check_stock", "out_of_stock_end", "reserve", "stock_missing"]);
    assert_eq!(d.instance.scopes.len(), 1, "the sub-process scope is gone");
}

#[test]
fn a_job_failing_with_an_error_code_is_caught_by_the_error_boundary() {
    let mut d = Driver::start("errors.bpmn", "order_fulfilment", json!({ "in_stock": true }));
    let effects = d.finish_job("check_stock", json!({}));
    assert_eq!(summary(&effects), ["job charge"]);
    let job = d.job("charge");
    let effects =
        d.apply(Event::JobFailed { job, error_code: Some("card_declined".into()), message: "declined".into() });
    assert_eq!(summary(&effects), ["completed"]);
    assert_eq!(d.path().last(), Some(&"end_declined"));
}

#[test]
fn a_job_failing_without_a_code_is_an_incident_an_admin_can_retry() {
    let mut d = Driver::start("errors.bpmn", "order_fulfilment", json!({ "in_stock": true }));
    d.finish_job("check_stock", json!({}));
    let job = d.job("charge");
    let effects = d.apply(Event::JobFailed { job, error_code: None, message: "gateway timeout".into() });
    let Some(Effect::Incident { id, element, message, error_code }) = effects.first() else { panic!("{effects:?}") };
    assert_eq!((element.as_str(), message.as_str(), error_code), ("charge", "gateway timeout", &None));
    let incident = *id;
    assert_eq!(d.instance.incidents().count(), 1);
    let effects = d.apply(Event::RetryIncident { incident });
    assert_eq!(summary(&effects), ["job charge"]);
    assert_eq!(d.instance.incidents().count(), 0);
    assert!(matches!(d.try_apply(Event::RetryIncident { incident }), Err(EngineError::UnknownIncident(_))));
    d.finish_job("charge", json!({}));
    assert!(d.completed());
}

#[test]
fn an_error_nothing_catches_becomes_an_incident_with_its_code() {
    let mut d = Driver::start("errors.bpmn", "order_fulfilment", json!({ "in_stock": true }));
    d.finish_job("check_stock", json!({}));
    let job = d.job("charge");
    let effects = d.apply(Event::JobFailed { job, error_code: Some("fraud".into()), message: "flagged".into() });
    let Some(Effect::Incident { error_code, .. }) = effects.first() else { panic!("{effects:?}") };
    assert_eq!(error_code.as_deref(), Some("fraud"));
    assert_eq!(d.status(), Status::Active);
}

#[test]
fn a_terminate_end_event_ends_every_other_path() {
    let mut d = Driver::start("terminate.bpmn", "tender", json!({}));
    assert_eq!(d.open_tasks(), ["collect_docs", "review"]);
    let effects = d.complete("review", json!({}));
    assert_eq!(summary(&effects), ["cancel task", "completed"]);
    assert!(d.completed());
    assert!(d.instance.waits.is_empty() && d.instance.tokens.is_empty());
}

#[test]
fn cancel_closes_timers_subscriptions_and_jobs() {
    let mut d = Driver::start("event_gateway.bpmn", "quote_request", json!({ "rfq_number": "RFQ-1" }));
    d.finish_job("send_request", json!({}));
    let effects = d.apply(Event::Cancel);
    assert_eq!(summary(&effects), ["unsubscribe", "cancel timer", "terminated Cancelled"]);
    assert_eq!(d.status(), Status::Cancelled);
}
