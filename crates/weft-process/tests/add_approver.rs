//! 加签 at the engine level: an approver added before the holder (they answer first, then
//! the step comes back), after the holder (asked once the holder approved; a rejection skips
//! them), and inside a countersign (one more iteration, parallel or in turn).

mod common;

use common::{Driver, summary};
use serde_json::json;
use weft_process::{Effect, EngineError, Event, WaitId};

/// The assignee of the user task `id` as the engine asked for it.
fn assignee_of(d: &Driver<'_>, id: WaitId) -> Option<String> {
    d.log.iter().rev().find_map(|e| match e {
        Effect::CreateUserTask { id: i, assignment, .. } if *i == id => assignment.assignee.clone(),
        _ => None,
    })
}

fn at_team_lead() -> Driver<'static> {
    let mut d = Driver::start("return_withdraw.bpmn", "leave_request", json!({}));
    d.complete("fill_in", json!({}));
    d
}

#[test]
fn an_approver_added_before_answers_first_then_the_step_comes_back_to_its_holder() {
    let mut d = at_team_lead();
    let lead = d.task("team_lead");
    let effects = d.apply(Event::AddApproverBefore { task: lead, approver: "legal".into(), then: "the-lead".into() });
    assert_eq!(summary(&effects), ["task team_lead"], "no cancel: the caller closes the handed-on task");
    let legal = d.task("team_lead");
    assert_ne!(legal, lead);
    assert_eq!(assignee_of(&d, legal).as_deref(), Some("legal"));
    let Some(Effect::CreateUserTask { assignment, .. }) = effects.first() else { panic!() };
    assert_eq!(assignment.rule, None, "the definition's rule does not apply to the added approver");
    // The handed-on task is gone: answering it is refused, nothing changes.
    let err = d.try_apply(Event::TaskCompleted { task: lead, outputs: Default::default() }).unwrap_err();
    assert_eq!(err, EngineError::UnknownWait(lead));

    let effects = d.complete("team_lead", json!({ "approved": true, "comment": "legal is fine" }));
    assert_eq!(summary(&effects), ["task team_lead"]);
    let back = d.task("team_lead");
    assert_eq!(assignee_of(&d, back).as_deref(), Some("the-lead"));
    assert_eq!(d.path(), ["fill_in"], "still the same step");
    d.complete("team_lead", json!({ "approved": true }));
    assert_eq!(d.open_tasks(), ["hr_check"]);
    assert_eq!(d.path(), ["fill_in", "team_lead"], "one step, however many answered it");
    // The next step is assigned by its definition again.
    let hr = d.task("hr_check");
    assert_eq!(assignee_of(&d, hr), None);
}

#[test]
fn a_rejection_by_the_approver_added_before_is_the_steps_rejection() {
    let mut d = at_team_lead();
    let lead = d.task("team_lead");
    d.apply(Event::AddApproverBefore { task: lead, approver: "legal".into(), then: "the-lead".into() });
    d.complete("team_lead", json!({ "approved": false, "comment": "no" }));
    assert!(d.open_tasks().iter().all(|t| t != "team_lead"), "{:?}", d.open_tasks());
    assert_eq!(d.var("approved"), json!(false));
}

#[test]
fn approvers_added_after_are_asked_in_turn_once_the_holder_approved() {
    let mut d = at_team_lead();
    let lead = d.task("team_lead");
    let effects = d.apply(Event::AddApproverAfter { task: lead, approver: "finance".into() });
    assert!(effects.is_empty(), "nothing to do until the holder answers: {effects:?}");
    assert_eq!(d.task("team_lead"), lead, "the holder keeps the task");
    // Added later, asked sooner: "after me" means right after the current holder.
    d.apply(Event::AddApproverAfter { task: lead, approver: "audit".into() });

    let effects = d.apply(Event::TaskCompleted { task: lead, outputs: common::vars(json!({ "approved": true })) });
    assert_eq!(summary(&effects), ["task team_lead"]);
    let audit = d.task("team_lead");
    assert_eq!(assignee_of(&d, audit).as_deref(), Some("audit"));
    d.complete("team_lead", json!({ "approved": true }));
    let finance = d.task("team_lead");
    assert_eq!(assignee_of(&d, finance).as_deref(), Some("finance"));
    d.complete("team_lead", json!({ "approved": true }));
    assert_eq!(d.open_tasks(), ["hr_check"]);
}

#[test]
fn a_holder_who_rejects_skips_the_approvers_added_after() {
    let mut d = at_team_lead();
    let lead = d.task("team_lead");
    d.apply(Event::AddApproverAfter { task: lead, approver: "finance".into() });
    d.apply(Event::TaskCompleted { task: lead, outputs: common::vars(json!({ "approved": false })) });
    assert!(d.open_tasks().iter().all(|t| t != "team_lead"), "{:?}", d.open_tasks());
    assert!(d.instance.tokens.iter().all(|t| t.then.is_empty() && t.assignee.is_none()));
}

#[test]
fn adding_to_something_that_is_not_an_open_user_task_is_refused_without_change() {
    let mut d = at_team_lead();
    let lead = d.task("team_lead");
    d.apply(Event::TaskCompleted { task: lead, outputs: Default::default() });
    let err = d.try_apply(Event::AddApproverAfter { task: lead, approver: "x".into() }).unwrap_err();
    assert_eq!(err, EngineError::UnknownWait(lead));
    let err = d.try_apply(Event::AddApproverBefore { task: lead, approver: "x".into(), then: "y".into() }).unwrap_err();
    assert_eq!(err, EngineError::UnknownWait(lead));
}

#[test]
fn an_approver_added_to_an_all_of_countersign_is_one_more_iteration_everyone_waits_for() {
    let mut d = Driver::start("countersign_all.bpmn", "countersign_all", json!({ "approvers": ["ann", "bob"] }));
    let ann = d.task_of("countersign", "ann");
    let effects = d.apply(Event::AddApproverAfter { task: ann, approver: "dan".into() });
    assert_eq!(summary(&effects), ["task countersign"]);
    let Some(Effect::CreateUserTask { inputs, .. }) = effects.first() else { panic!() };
    assert_eq!((inputs["approver"].clone(), inputs["loopCounter"].clone()), (json!("dan"), json!(3)));
    let dan = d.task_of("countersign", "dan");
    for task in [ann, d.task_of("countersign", "bob")] {
        d.apply(Event::TaskCompleted { task, outputs: common::vars(json!({ "approved": true })) });
    }
    assert!(!d.completed(), "the added approver is still to answer");
    d.apply(Event::TaskCompleted { task: dan, outputs: common::vars(json!({ "approved": true })) });
    assert!(d.completed());
    assert_eq!(d.var("nrOfApproved"), json!(3), "the added answer counts");
    assert_eq!(d.path().last(), Some(&"end_approved"));
}

#[test]
fn an_added_countersigner_can_reject_and_answers_are_collected_in_their_place() {
    let mut d = Driver::start("countersign_all.bpmn", "countersign_all", json!({ "approvers": ["ann", "bob"] }));
    let ann = d.task_of("countersign", "ann");
    d.apply(Event::AddApproverAfter { task: ann, approver: "dan".into() });
    let dan = d.task_of("countersign", "dan");
    d.apply(Event::TaskCompleted { task: ann, outputs: common::vars(json!({ "approved": true })) });
    let effects = d.apply(Event::TaskCompleted { task: dan, outputs: common::vars(json!({ "approved": false })) });
    assert_eq!(summary(&effects), ["cancel task", "completed"]);
    assert_eq!(d.var("answers"), json!([true, null, false]));
    assert_eq!(d.path().last(), Some(&"end_rejected"));
}

#[test]
fn an_approver_added_to_a_review_in_turn_comes_right_after_the_current_one() {
    let mut d = Driver::start("review_in_turn.bpmn", "review_in_turn", json!({ "approvers": ["ann", "bob"] }));
    let ann = d.task_of("countersign", "ann");
    let effects = d.apply(Event::AddApproverAfter { task: ann, approver: "dan".into() });
    assert!(effects.is_empty(), "in turn: nobody new is asked yet");
    d.apply(Event::AddApproverAfter { task: ann, approver: "eve".into() });
    let mut order = Vec::new();
    let mut task = ann;
    loop {
        let effects = d.apply(Event::TaskCompleted { task, outputs: common::vars(json!({ "approved": true })) });
        let Some(Effect::CreateUserTask { id, assignment, .. }) = effects.first() else { break };
        order.push(assignment.assignee.clone().unwrap_or_default());
        task = *id;
    }
    assert_eq!(order, ["eve", "dan", "bob"]);
    assert!(d.completed());
}

#[test]
fn before_inside_a_countersign_keeps_one_answer_for_the_iteration() {
    let mut d = Driver::start("countersign_all.bpmn", "countersign_all", json!({ "approvers": ["ann", "bob"] }));
    let ann = d.task_of("countersign", "ann");
    d.apply(Event::AddApproverBefore { task: ann, approver: "dan".into(), then: "ann".into() });
    let dan = d.task_of("countersign", "dan");
    let effects = d.apply(Event::TaskCompleted { task: dan, outputs: common::vars(json!({ "approved": true })) });
    assert_eq!(summary(&effects), ["task countersign"]);
    let Some(Effect::CreateUserTask { id: back, inputs, .. }) = effects.first() else { panic!() };
    assert_eq!(inputs["approver"], json!("ann"), "the iteration keeps its item");
    let back = *back;
    d.apply(Event::TaskCompleted { task: back, outputs: common::vars(json!({ "approved": true })) });
    let bob = d.task_of("countersign", "bob");
    d.apply(Event::TaskCompleted { task: bob, outputs: common::vars(json!({ "approved": true })) });
    assert!(d.completed());
    assert_eq!(d.var("answers"), json!([true, true]));
}
