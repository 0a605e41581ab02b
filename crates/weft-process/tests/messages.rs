//! Message starts, decisions as jobs, message throws and ends, and dated timers.

mod common;

use common::{Driver, deployed, summary, vars};
use serde_json::json;
use time::macros::datetime;
use uuid::Uuid;
use weft_process::{Effect, Engine, EngineError, Event, Start};

fn start_by_message(variables: serde_json::Value) -> Driver<'static> {
    let deployment = deployed("routing.bpmn");
    let (process, start_event) = deployment.message_start("po_submitted").expect("a message start");
    assert_eq!((process, start_event), ("po_router", "submitted"));
    let start = Start {
        instance: Uuid::from_u128(7),
        process: process.to_owned(),
        start_event: Some(start_event.to_owned()),
        variables: vars(variables),
    };
    let (instance, log) = Engine::new().start(&deployment, start, common::T0).expect("starts");
    Driver { deployment, engine: Engine::new(), instance, log, now: common::T0 }
}

#[test]
fn a_message_starts_the_process_and_a_decision_runs_as_a_job() {
    let d = start_by_message(json!({ "order_number": "PO-1" }));
    let Some(Effect::RunJob { kind, headers, .. }) = d.log.first() else { panic!("{:?}", d.log) };
    assert_eq!(kind, "weft:decision");
    assert_eq!(
        headers,
        &[("decisionId".to_owned(), "po_route".to_owned()), ("resultVariable".to_owned(), "route".to_owned())]
    );
    assert!(
        Engine::new().start(&d.deployment, Start::new(Uuid::nil(), "po_router", vars(json!({}))), common::T0).is_err()
    );
}

#[test]
fn a_throw_event_publishes_its_message_and_goes_on() {
    let mut d = start_by_message(json!({ "order_number": "PO-1" }));
    let effects = d.finish_job("decide_route", json!({ "route": "fast" }));
    assert_eq!(summary(&effects), ["publish po_fast_track", "completed"]);
    let Some(Effect::PublishMessage { correlation, .. }) = effects.first() else { panic!() };
    assert_eq!(correlation.as_deref(), Some("PO-1"));
}

#[test]
fn a_dated_timer_waits_until_its_date_then_a_message_end_publishes_with_inputs() {
    let mut d = start_by_message(json!({ "order_number": "PO-2", "review_on": "2026-03-10T08:00:00+08:00" }));
    let effects = d.finish_job("decide_route", json!({ "route": "slow" }));
    let Some(Effect::ScheduleTimer { at, .. }) = effects.first() else { panic!("{effects:?}") };
    assert_eq!(*at, datetime!(2026-03-10 00:00 UTC));
    let effects = d.fire("wait_until");
    assert_eq!(summary(&effects), ["publish po_routed", "completed"]);
    let Some(Effect::PublishMessage { variables, correlation, .. }) = effects.first() else { panic!() };
    assert_eq!((variables, correlation.as_deref()), (&vars(json!({ "route": "slow" })), Some("PO-2")));
}

#[test]
fn a_bad_date_is_an_incident_that_a_retry_after_fixing_the_variable_clears() {
    let mut d = start_by_message(json!({ "order_number": "PO-3", "review_on": "next tuesday" }));
    let effects = d.finish_job("decide_route", json!({ "route": "slow" }));
    let Some(Effect::Incident { id, element, .. }) = effects.first().cloned() else { panic!("{effects:?}") };
    assert_eq!(element, "wait_until");
    d.apply(Event::SetVariables { variables: vars(json!({ "review_on": "2026-03-03T09:00:00Z" })) });
    let effects = d.apply(Event::RetryIncident { incident: id });
    assert_eq!(summary(&effects), ["timer wait_until"]);
}

#[test]
fn wait_ids_read_back_from_their_text() {
    let id = weft_process::WaitId { instance: Uuid::from_u128(0xabc), seq: 42 };
    let text = id.to_string();
    assert_eq!(text, "00000000-0000-0000-0000-000000000abc.42");
    assert_eq!(text.parse::<weft_process::WaitId>(), Ok(id));
    assert!("nonsense".parse::<weft_process::WaitId>().is_err());
}

#[test]
fn an_instance_of_another_process_or_format_is_refused() {
    let mut d = start_by_message(json!({ "order_number": "PO-4" }));
    let other = deployed("parallel.bpmn");
    let err = d.engine.apply(&other, &mut d.instance, Event::Cancel, d.now).unwrap_err();
    assert_eq!(err, EngineError::UnknownProcess("po_router".into()));
    d.instance.format = 99;
    let err = d.engine.apply(&d.deployment, &mut d.instance, Event::Cancel, d.now).unwrap_err();
    assert_eq!(err, EngineError::UnsupportedFormat(99));
}
