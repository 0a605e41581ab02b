//! A multi-instance embedded sub-process: each iteration runs its own scope with its item,
//! outputs are collected by index, and the body's boundary events end every iteration.

mod common;

use common::{Driver, summary};
use serde_json::json;
use weft_process::{Effect, Event, WaitId};

fn jobs(effects: &[Effect]) -> Vec<(WaitId, serde_json::Value, serde_json::Value)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::RunJob { id, inputs, .. } => Some((*id, inputs["item"].clone(), inputs["item_id"].clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn each_iteration_sees_its_item_and_the_results_are_collected_in_order() {
    let mut d = Driver::start("batch.bpmn", "batch_check", json!({ "items": ["a", "b", "c"] }));
    assert_eq!(summary(&d.log), ["timer too_slow", "job verify", "job verify", "job verify"]);
    let started = jobs(&d.log);
    assert_eq!(
        started.iter().map(|(_, item, id)| (item.clone(), id.clone())).collect::<Vec<_>>(),
        [(json!("a"), json!("a")), (json!("b"), json!("b")), (json!("c"), json!("c"))]
    );
    for (i, (job, _, _)) in started.iter().enumerate().rev() {
        let effects =
            d.apply(Event::JobCompleted { job: *job, outputs: common::vars(json!({ "verdict": format!("ok {i}") })) });
        if i > 0 {
            assert!(effects.is_empty(), "{effects:?}");
        } else {
            assert_eq!(summary(&effects), ["cancel timer", "completed"]);
        }
    }
    assert_eq!(d.var("results"), json!(["ok 0", "ok 1", "ok 2"]));
    assert_eq!(d.var("verdict"), json!(null), "outputs stay in their iteration");
    assert_eq!(d.path().iter().filter(|e| **e == "check_each").count(), 3, "one step per iteration");
}

#[test]
fn an_error_in_one_iteration_is_caught_on_the_body_and_ends_the_others() {
    let mut d = Driver::start("batch.bpmn", "batch_check", json!({ "items": ["a", "b"] }));
    let started = jobs(&d.log);
    let effects =
        d.apply(Event::JobFailed { job: started[1].0, error_code: Some("bad_line".into()), message: "bad".into() });
    assert_eq!(summary(&effects), ["cancel job", "cancel timer", "task handle_bad"]);
    assert_eq!(d.instance.scopes.len(), 1);
    d.complete("handle_bad", json!({}));
    assert!(d.completed());
}

#[test]
fn the_body_timer_interrupts_every_iteration() {
    let mut d = Driver::start("batch.bpmn", "batch_check", json!({ "items": ["a", "b"] }));
    let effects = d.fire("too_slow");
    assert_eq!(summary(&effects), ["cancel job", "cancel job", "completed"]);
    assert_eq!(d.path().last(), Some(&"timed_out"));
}
