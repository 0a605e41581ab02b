//! Forks and joins: parallel, inclusive (with the "can a token still arrive?" check), and
//! call activities handing work to child instances.

mod common;

use common::{Driver, summary};
use serde_json::json;
use weft_process::{Effect, Event, Status};

#[test]
fn inclusive_join_waits_for_both_taken_branches_of_three() {
    let mut d = Driver::start("inclusive.bpmn", "contract_review", json!({ "needs_legal": true, "amount": 60000 }));
    assert_eq!(d.open_tasks(), ["finance", "legal"]);
    let effects = d.complete("legal", json!({}));
    assert!(effects.is_empty(), "the join must wait for finance: {effects:?}");
    let effects = d.complete("finance", json!({}));
    assert_eq!(summary(&effects), ["job credit_check"]);
    let effects = d.finish_job("credit_check", json!({}));
    assert_eq!(summary(&effects), ["task sign"]);
    d.complete("sign", json!({}));
    assert!(d.completed());
}

#[test]
fn inclusive_join_fires_at_once_when_only_one_branch_was_taken() {
    let mut d = Driver::start("inclusive.bpmn", "contract_review", json!({ "needs_legal": true, "amount": 10 }));
    assert_eq!(d.open_tasks(), ["legal"]);
    let effects = d.complete("legal", json!({}));
    assert_eq!(summary(&effects), ["task sign"]);
}

#[test]
fn inclusive_fork_takes_the_default_when_no_condition_holds() {
    let mut d = Driver::start("inclusive.bpmn", "contract_review", json!({ "needs_legal": false, "amount": 10 }));
    assert_eq!(d.open_tasks(), ["general"]);
    let effects = d.complete("general", json!({}));
    assert_eq!(summary(&effects), ["task sign"]);
}

#[test]
fn parallel_join_waits_for_every_incoming_flow() {
    let mut d = Driver::start("parallel.bpmn", "new_hire", json!({}));
    assert_eq!(summary(&d.log), ["task laptop", "task desk", "job badge"]);
    assert!(d.complete("desk", json!({})).is_empty());
    assert!(d.finish_job("badge", json!({})).is_empty());
    let effects = d.complete("laptop", json!({}));
    assert_eq!(summary(&effects), ["task welcome"]);
    assert_eq!(d.instance.tokens.len(), 1, "the join used up the other tokens");
    d.complete("welcome", json!({}));
    assert!(d.completed());
}

#[test]
fn a_call_activity_starts_a_child_and_maps_its_result_back() {
    let mut parent = Driver::start("call_activity.bpmn", "onboard_supplier", json!({ "supplier_name": "Acme" }));
    let Some(Effect::StartChildInstance { id, process, variables, .. }) = parent.log.first().cloned() else {
        panic!("{:?}", parent.log)
    };
    assert_eq!(process, "vendor_check");
    assert_eq!((&variables["name"], &variables["supplier_name"]), (&json!("Acme"), &json!("Acme")));

    let mut child =
        Driver::start_with(weft_process::Engine::new(), parent.deployment.clone(), &process, json!(variables));
    let effects = child.finish_job("lookup", json!({ "score": 80, "blacklisted": false }));
    let Some(Effect::Completed { outputs }) = effects.last().cloned() else { panic!("{effects:?}") };

    let effects = parent.apply(Event::ChildCompleted { child: id, outputs });
    assert_eq!(summary(&effects), ["completed"]);
    assert_eq!(parent.var("vendor_score"), json!(80));
    assert_eq!(parent.var("score"), json!(null), "propagateAllChildVariables=false keeps only the mapping");
    assert_eq!(parent.path(), ["check_vendor", "end_ok"]);
}

#[test]
fn a_child_ending_in_an_uncaught_error_is_caught_at_the_call_activity() {
    let mut parent = Driver::start("call_activity.bpmn", "onboard_supplier", json!({ "supplier_name": "Shady" }));
    let Some(Effect::StartChildInstance { id, variables, .. }) = parent.log.first().cloned() else { panic!() };
    let mut child =
        Driver::start_with(weft_process::Engine::new(), parent.deployment.clone(), "vendor_check", json!(variables));
    let effects = child.finish_job("lookup", json!({ "blacklisted": true }));
    let Some(Effect::Incident { error_code: Some(code), message, .. }) = effects.last().cloned() else {
        panic!("{effects:?}")
    };
    assert_eq!(code, "blacklisted");
    let effects = parent.apply(Event::ChildFailed { child: id, error_code: Some(code), message });
    assert_eq!(summary(&effects), ["completed"]);
    assert_eq!(parent.path(), ["check_vendor", "vendor_failed", "end_refused"]);
    child.apply(Event::Cancel);
    assert_eq!(child.status(), Status::Cancelled);
}

#[test]
fn cancelling_a_parent_cancels_its_child() {
    let mut parent = Driver::start("call_activity.bpmn", "onboard_supplier", json!({ "supplier_name": "Acme" }));
    let effects = parent.apply(Event::Cancel);
    assert_eq!(summary(&effects), ["cancel child", "terminated Cancelled"]);
}
