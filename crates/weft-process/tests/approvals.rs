//! Approval flows at the engine level: tiers by amount, countersigning (all-of, any-of,
//! N-of-M, in turn), returning to an earlier step and withdrawing.

mod common;

use common::{Driver, summary};
use serde_json::json;
use weft_process::{AssignmentRule, Effect, EndReason, EngineError, Event, Status};

fn tier_path(amount: i64) -> Vec<String> {
    let mut d = Driver::start("three_tier.bpmn", "po_approval", json!({ "amount": amount }));
    let mut approvals = Vec::new();
    for step in ["manager_approve", "director_approve", "cfo_approve"] {
        if d.open_tasks() == [step] {
            d.complete(step, json!({ "approved": true }));
            approvals.push(step.to_owned());
        }
    }
    assert!(d.open_tasks().is_empty(), "tasks left: {:?}", d.open_tasks());
    let effects = d.finish_job("mark_approved", json!({}));
    assert_eq!(summary(&effects), ["completed"]);
    assert!(d.completed());
    assert_eq!(d.path().last(), Some(&"end_approved"));
    approvals
}

#[test]
fn three_tier_amount_approval_asks_more_people_as_the_amount_grows() {
    assert_eq!(tier_path(5_000), ["manager_approve"]);
    assert_eq!(tier_path(10_000), ["manager_approve"]);
    assert_eq!(tier_path(50_000), ["manager_approve", "director_approve"]);
    assert_eq!(tier_path(500_000), ["manager_approve", "director_approve", "cfo_approve"]);
}

#[test]
fn three_tier_tasks_carry_assignment_rules_forms_and_the_job_its_headers() {
    let d = Driver::start("three_tier.bpmn", "po_approval", json!({ "amount": "12000.50" }));
    let Some(Effect::CreateUserTask { assignment, form, name, .. }) = d.log.first() else { panic!("{:?}", d.log) };
    assert_eq!(assignment.rule, Some(AssignmentRule::ManagerChain(1)));
    assert!(assignment.forbid_self_approval);
    assert_eq!(assignment.candidate_groups, ["managers"]);
    assert_eq!(name.as_deref(), Some("Manager approves"));
    assert_eq!(form, &Some(weft_process::model::Form::Id("approval_form".into())));

    let mut d = d;
    let effects = d.complete("manager_approve", json!({ "approved": true }));
    let Some(Effect::CreateUserTask { element, assignment, .. }) = effects.first() else { panic!("{effects:?}") };
    assert_eq!(element, "director_approve");
    assert_eq!(assignment.candidate_groups, ["directors", "finance"]);
    assert_eq!(assignment.rule, Some(AssignmentRule::ManagerChain(2)));
    let effects = d.complete("director_approve", json!({ "approved": true }));
    let Some(Effect::RunJob { kind, headers, retries, .. }) = effects.first() else { panic!("{effects:?}") };
    assert_eq!(kind, "weft:transition");
    assert_eq!(headers, &[("transition".to_owned(), "approve".to_owned())]);
    assert_eq!(*retries, Some(5));
}

#[test]
fn a_manager_rejection_ends_the_order_without_the_transition() {
    let mut d = Driver::start("three_tier.bpmn", "po_approval", json!({ "amount": 500_000 }));
    let effects = d.complete("manager_approve", json!({ "approved": false, "comment": "too expensive" }));
    assert_eq!(summary(&effects), ["completed"]);
    assert_eq!(d.var("comment"), json!("too expensive"));
    assert_eq!(d.path(), ["manager_approve", "end_rejected"]);
}

fn countersign(fixture: &str, process: &str, answers: &[(&str, bool)]) -> (Driver<'static>, Vec<Effect>) {
    let mut d = Driver::start(fixture, process, json!({ "approvers": ["ann", "bob", "cy"] }));
    let mut last = Vec::new();
    for (who, approved) in answers {
        let task = d.task_of("countersign", who);
        last = d.apply(Event::TaskCompleted { task, outputs: common::vars(json!({ "approved": approved })) });
    }
    (d, last)
}

#[test]
fn all_of_countersign_opens_a_task_per_approver_in_parallel() {
    let d = Driver::start("countersign_all.bpmn", "countersign_all", json!({ "approvers": ["ann", "bob", "cy"] }));
    assert_eq!(summary(&d.log), ["task countersign", "task countersign", "task countersign"]);
    let assignees: Vec<_> = d
        .log
        .iter()
        .filter_map(|e| match e {
            Effect::CreateUserTask { assignment, inputs, .. } => Some((
                assignment.assignee.clone().unwrap_or_default(),
                inputs["approver"].clone(),
                inputs["loopCounter"].clone(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        assignees,
        [
            ("ann".into(), json!("ann"), json!(1)),
            ("bob".into(), json!("bob"), json!(2)),
            ("cy".into(), json!("cy"), json!(3))
        ]
    );
}

#[test]
fn all_of_countersign_with_one_rejection_stops_and_cancels_the_rest() {
    let (d, last) = countersign("countersign_all.bpmn", "countersign_all", &[("ann", true), ("bob", false)]);
    assert_eq!(summary(&last), ["cancel task", "completed"]);
    assert_eq!(d.var("nrOfRejected"), json!(1));
    assert_eq!(d.var("nrOfApproved"), json!(1));
    assert_eq!(d.var("answers"), json!([true, false, null]));
    assert!(d.completed());
    let steps: Vec<_> = d.instance.history.iter().map(|s| (s.element.as_str(), s.outcome)).collect();
    use weft_process::Outcome::{Cancelled, Completed};
    assert_eq!(
        steps,
        [
            ("countersign", Completed),
            ("countersign", Completed),
            ("countersign", Cancelled),
            ("end_rejected", Completed)
        ]
    );
}

#[test]
fn all_of_countersign_completes_when_everyone_approved() {
    let (d, last) =
        countersign("countersign_all.bpmn", "countersign_all", &[("cy", true), ("ann", true), ("bob", true)]);
    assert_eq!(summary(&last), ["completed"]);
    assert_eq!(d.path().last(), Some(&"end_approved"));
    assert_eq!(d.var("nrOfApproved"), json!(3));
    assert_eq!(d.var("answers"), json!([true, true, true]));
}

#[test]
fn any_of_approval_completes_on_the_first_answer() {
    let (d, last) = countersign("countersign_any.bpmn", "countersign_any", &[("bob", true)]);
    assert_eq!(summary(&last), ["cancel task", "cancel task", "completed"]);
    assert_eq!(d.path().last(), Some(&"end_approved"));
    assert_eq!(d.var("nrOfApproved"), json!(1));
}

#[test]
fn two_of_three_completes_on_the_second_approval() {
    let (d, last) =
        countersign("countersign_two_of_three.bpmn", "countersign_two_of_three", &[("ann", true), ("cy", true)]);
    assert_eq!(summary(&last), ["cancel task", "completed"]);
    assert_eq!(d.path().last(), Some(&"end_approved"));
    assert_eq!(d.var("nrOfApproved"), json!(2));
}

#[test]
fn two_of_three_waits_for_the_third_after_a_rejection_and_fails_on_a_second() {
    let (d, last) =
        countersign("countersign_two_of_three.bpmn", "countersign_two_of_three", &[("ann", true), ("bob", false)]);
    assert!(last.is_empty(), "{last:?}");
    assert_eq!(d.status(), Status::Active);
    let (d, last) =
        countersign("countersign_two_of_three.bpmn", "countersign_two_of_three", &[("ann", false), ("bob", false)]);
    assert_eq!(summary(&last), ["cancel task", "completed"]);
    assert_eq!(d.path().last(), Some(&"end_rejected"));
    assert_eq!(d.var("nrOfApproved"), json!(0));
}

#[test]
fn sequential_review_asks_one_after_the_other_and_stops_at_a_rejection() {
    let mut d = Driver::start("review_in_turn.bpmn", "review_in_turn", json!({ "approvers": ["ann", "bob", "cy"] }));
    assert_eq!(summary(&d.log), ["task countersign"]);
    let task = d.task_of("countersign", "ann");
    let effects = d.apply(Event::TaskCompleted { task, outputs: common::vars(json!({ "approved": true })) });
    assert_eq!(summary(&effects), ["task countersign"]);
    let task = d.task_of("countersign", "bob");
    let effects = d.apply(Event::TaskCompleted { task, outputs: common::vars(json!({ "approved": false })) });
    assert_eq!(summary(&effects), ["completed"]);
    assert_eq!(d.var("answers"), json!([true, false, null]));
}

#[test]
fn an_empty_approver_list_skips_the_countersign() {
    let d = Driver::start("countersign_all.bpmn", "countersign_all", json!({ "approvers": [] }));
    assert!(d.completed());
    assert_eq!(d.var("answers"), json!([]));
    assert_eq!((d.var("nrOfApproved"), d.var("nrOfRejected")), (json!(0), json!(0)));
    assert_eq!(d.path(), ["end_approved"]);
}

#[test]
fn a_missing_approver_list_is_an_incident_not_a_panic() {
    let d = Driver::start("countersign_all.bpmn", "countersign_all", json!({}));
    assert_eq!(summary(&d.log), ["incident countersign: the input collection of `countersign` is null, not a list"]);
    assert_eq!(d.instance.incidents().count(), 1);
}

#[test]
fn return_to_an_earlier_step_cancels_the_current_one_and_reopens_it() {
    let mut d = Driver::start("return_withdraw.bpmn", "leave_request", json!({}));
    d.complete("fill_in", json!({ "days": 3 }));
    d.complete("team_lead", json!({ "approved": true }));
    assert_eq!(d.open_tasks(), ["hr_check"]);
    let effects = d.apply(Event::ReturnTo { element: "fill_in".into() });
    assert_eq!(summary(&effects), ["cancel task", "task fill_in"]);
    let Some(Effect::CreateUserTask { assignment, .. }) = effects.last() else { panic!() };
    assert_eq!(assignment.rule, Some(AssignmentRule::Starter));
    d.complete("fill_in", json!({ "days": 2 }));
    d.complete("team_lead", json!({ "approved": true }));
    d.complete("hr_check", json!({}));
    assert!(d.completed());
    assert_eq!(d.var("days"), json!(2));
    use weft_process::Outcome::{Cancelled, Completed};
    let steps: Vec<_> = d.instance.history.iter().map(|s| (s.element.as_str(), s.outcome)).collect();
    assert_eq!(
        steps,
        [
            ("fill_in", Completed),
            ("team_lead", Completed),
            ("hr_check", Cancelled),
            ("fill_in", Completed),
            ("team_lead", Completed),
            ("hr_check", Completed),
            ("end", Completed)
        ]
    );
}

#[test]
fn returning_to_something_that_is_not_a_step_is_refused() {
    let mut d = Driver::start("return_withdraw.bpmn", "leave_request", json!({}));
    for element in ["nowhere", "start", "end"] {
        let err = d.try_apply(Event::ReturnTo { element: element.into() }).unwrap_err();
        assert!(matches!(err, EngineError::CannotReturn { .. }), "{err}");
    }
}

#[test]
fn withdraw_cancels_every_open_task_and_ends_the_instance() {
    let mut d = Driver::start("return_withdraw.bpmn", "leave_request", json!({}));
    d.complete("fill_in", json!({}));
    let effects = d.apply(Event::Withdraw);
    assert_eq!(summary(&effects), ["cancel task", "terminated Withdrawn"]);
    assert_eq!(d.status(), Status::Withdrawn);
    assert!(matches!(effects.last(), Some(Effect::Terminated { reason: EndReason::Withdrawn })));
    let err = d.try_apply(Event::Cancel).unwrap_err();
    assert_eq!(err, EngineError::NotActive(Status::Withdrawn));
}

#[test]
fn a_completed_task_cannot_be_completed_twice() {
    let mut d = Driver::start("return_withdraw.bpmn", "leave_request", json!({}));
    let task = d.task("fill_in");
    d.apply(Event::TaskCompleted { task, outputs: Default::default() });
    let err = d.try_apply(Event::TaskCompleted { task, outputs: Default::default() }).unwrap_err();
    assert_eq!(err, EngineError::UnknownWait(task));
    let job_as_task = d.task("team_lead");
    let err = d.try_apply(Event::TimerFired { timer: job_as_task }).unwrap_err();
    assert!(matches!(err, EngineError::WrongWait { .. }), "{err}");
}

#[test]
fn the_peer_benchmark_process_runs_both_branches() {
    // A verbatim copy of ../shared/peers/spiff/approval.bpmn, the benchmark's process.
    let source = common::fixture("peer_spiff_approval.bpmn");
    let schema = weft_expr::Schema::new()
        .with_var("amount", weft_expr::FieldType::Decimal)
        .with_var("level", weft_expr::FieldType::Text);
    let deployment = weft_process::deploy(&source, &weft_process::Environment::new(schema)).expect("deploys");
    for (amount, approver) in [(5_000, "manager_approve"), (20_000, "director_approve")] {
        let mut d = Driver::start_with(
            weft_process::Engine::new(),
            deployment.clone(),
            "approval",
            json!({ "amount": amount, "level": "staff" }),
        );
        assert_eq!(d.open_tasks(), ["submit"]);
        d.complete("submit", json!({}));
        assert_eq!(d.open_tasks(), [approver]);
        let effects = d.complete(approver, json!({}));
        assert_eq!(summary(&effects), ["completed"]);
    }
}
