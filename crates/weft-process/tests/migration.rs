//! Moving a running instance to a new version: what carries over (tasks, timers and their
//! due times, variables, history), what the new version then does, and every change that
//! is refused (with the element and why) while the instance stays as it was.

mod common;

use std::collections::BTreeMap;

use common::{Driver, deployed, fixture, schema};
use serde_json::json;
use weft_process::{Deployment, Environment, Event, migrate};

fn version(xml: &str) -> Deployment {
    weft_process::deploy(xml, &Environment::new(schema())).unwrap_or_else(|p| panic!("does not deploy: {p:?}"))
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
}

/// The leave request with a finance step between the team lead and HR.
fn with_finance_step() -> String {
    fixture("return_withdraw.bpmn")
        .replace(
            r#"<bpmn:sequenceFlow id="f3" sourceRef="team_lead" targetRef="hr_check" />"#,
            r#"<bpmn:sequenceFlow id="f3" sourceRef="team_lead" targetRef="finance" />
    <bpmn:sequenceFlow id="f3b" sourceRef="finance" targetRef="hr_check" />"#,
        )
        .replace(
            r#"<bpmn:userTask id="hr_check" name="HR checks">"#,
            r#"<bpmn:userTask id="finance" name="Finance checks">
      <bpmn:extensionElements>
        <weft:assignment rule="role:finance" />
      </bpmn:extensionElements>
      <bpmn:incoming>f3</bpmn:incoming>
      <bpmn:outgoing>f3b</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:userTask id="hr_check" name="HR checks">"#,
        )
        .replace(
            "<bpmn:incoming>f3</bpmn:incoming>\n      <bpmn:outgoing>f4</bpmn:outgoing>",
            "<bpmn:incoming>f3b</bpmn:incoming>\n      <bpmn:outgoing>f4</bpmn:outgoing>",
        )
}

fn at_team_lead() -> Driver<'static> {
    let mut d = Driver::start("return_withdraw.bpmn", "leave_request", json!({ "amount": 3 }));
    d.complete("fill_in", json!({}));
    d
}

#[test]
fn an_instance_moves_to_the_new_version_and_then_follows_it() {
    let mut d = at_team_lead();
    let task = d.task("team_lead");
    let v2 = version(&with_finance_step());
    let (migrated, moved) = migrate(&d.deployment, &v2, &d.instance, &BTreeMap::new()).expect("migrates");
    assert!(moved.is_empty(), "nothing was renamed: {moved:?}");
    assert_eq!(migrated.variables, d.instance.variables);
    assert_eq!(migrated.history, d.instance.history, "the steps taken stay as they were");
    d.deployment = v2;
    d.instance = migrated;
    assert_eq!(d.task("team_lead"), task, "the open task keeps its id: the inbox row stays valid");
    d.complete("team_lead", json!({ "approved": true }));
    assert_eq!(d.open_tasks(), ["finance"], "the new version's step comes next");
    d.complete("finance", json!({}));
    d.complete("hr_check", json!({}));
    assert!(d.completed());
}

#[test]
fn a_renamed_step_needs_a_mapping_and_keeps_its_task_with_one() {
    let mut d = at_team_lead();
    let task = d.task("team_lead");
    let renamed = fixture("return_withdraw.bpmn").replace("team_lead", "lead_approval");
    let v2 = version(&renamed);

    let problems = migrate(&d.deployment, &v2, &d.instance, &BTreeMap::new()).unwrap_err();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].element, "team_lead");
    assert!(problems[0].reason.contains("map it"), "{problems:?}");

    let (migrated, moved) = migrate(&d.deployment, &v2, &d.instance, &map(&[("team_lead", "lead_approval")])).unwrap();
    assert_eq!(moved, map(&[("team_lead", "lead_approval")]));
    d.deployment = v2;
    d.instance = migrated;
    assert_eq!(d.task("lead_approval"), task);
    d.complete("lead_approval", json!({ "approved": true }));
    assert_eq!(d.open_tasks(), ["hr_check"]);
}

#[test]
fn every_problem_is_listed_and_nothing_changes() {
    let d = at_team_lead();
    let before = d.instance.clone();
    let v2 = version(
        &fixture("return_withdraw.bpmn")
            .replace(
                r#"<bpmn:userTask id="hr_check" name="HR checks">
      <bpmn:extensionElements>
        <weft:assignment rule="role:hr" />
      </bpmn:extensionElements>"#,
                r#"<bpmn:serviceTask id="hr_check" name="HR checks">
      <bpmn:extensionElements>
        <zeebe:taskDefinition type="weft:webhook" />
      </bpmn:extensionElements>"#,
            )
            .replace("</bpmn:userTask>\n    <bpmn:endEvent", "</bpmn:serviceTask>\n    <bpmn:endEvent"),
    );
    let problems = migrate(
        &d.deployment,
        &v2,
        &d.instance,
        &map(&[("team_lead", "hr_check"), ("no_such_step", "fill_in"), ("fill_in", "nowhere")]),
    )
    .unwrap_err();
    let text: Vec<String> = problems.iter().map(|p| format!("{}: {}", p.element, p.reason)).collect();
    assert_eq!(problems.len(), 2, "{text:#?}");
    assert!(text.iter().any(|t| t.starts_with("no_such_step: the running version has no element")), "{text:#?}");
    assert!(text.iter().any(|t| t.starts_with("fill_in: the new version has no element `nowhere`")), "{text:#?}");

    let problems = migrate(&d.deployment, &v2, &d.instance, &map(&[("team_lead", "hr_check")])).unwrap_err();
    assert_eq!(problems.len(), 1);
    assert!(problems[0].reason.contains("a userTask is not a serviceTask"), "{problems:?}");
    assert_eq!(d.instance, before);
}

#[test]
fn armed_timers_keep_their_due_time_and_new_boundaries_are_refused() {
    let mut d = Driver::start("reminders.bpmn", "sla_approval", json!({}));
    let escalation = d.timer_at("escalate_timer").expect("armed");
    // v2 changes the escalation to two days: the running timer keeps its due time.
    let v2 = version(&fixture("reminders.bpmn").replace(">P1D<", ">P2D<"));
    let (migrated, _) = migrate(&d.deployment, &v2, &d.instance, &BTreeMap::new()).unwrap();
    d.deployment = v2;
    d.instance = migrated;
    assert_eq!(d.timer_at("escalate_timer"), Some(escalation));
    d.fire("escalate_timer");
    assert_eq!(d.open_tasks(), ["escalated_approve"]);

    // A version without the reminder: its armed timer has nowhere to go.
    let d = Driver::start("reminders.bpmn", "sla_approval", json!({}));
    let without = fixture("reminders.bpmn").replace(
        "attachedToRef=\"approve\">\n      <bpmn:outgoing>f_remind",
        "attachedToRef=\"escalated_approve\">\n      <bpmn:outgoing>f_remind",
    );
    let v3 = version(&without);
    let problems = migrate(&d.deployment, &v3, &d.instance, &BTreeMap::new()).unwrap_err();
    assert!(
        problems.iter().any(|p| p.element == "remind_timer" && p.reason.contains("attached to `approve`")),
        "{problems:?}"
    );

    // A version that attaches a new timer to the step the instance is at.
    let mut d = Driver::start("return_withdraw.bpmn", "leave_request", json!({}));
    d.complete("fill_in", json!({}));
    let with_timer = fixture("return_withdraw.bpmn").replace(
        r#"<bpmn:userTask id="hr_check""#,
        r#"<bpmn:boundaryEvent id="lead_late" attachedToRef="team_lead">
      <bpmn:outgoing>f_late</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">P3D</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f_late" sourceRef="lead_late" targetRef="hr_check" />
    <bpmn:userTask id="hr_check""#,
    );
    let v4 = version(&with_timer.replace(
        "<bpmn:incoming>f3</bpmn:incoming>",
        "<bpmn:incoming>f3</bpmn:incoming>\n      <bpmn:incoming>f_late</bpmn:incoming>",
    ));
    let problems = migrate(&d.deployment, &v4, &d.instance, &BTreeMap::new()).unwrap_err();
    assert!(problems.iter().any(|p| p.element == "team_lead" && p.reason.contains("`lead_late`")), "{problems:?}");
}

#[test]
fn an_ended_instance_does_not_move() {
    let mut d = at_team_lead();
    d.apply(Event::Withdraw);
    let problems =
        migrate(&d.deployment, &deployed("return_withdraw.bpmn"), &d.instance, &BTreeMap::new()).unwrap_err();
    assert!(problems[0].reason.contains("no longer active"), "{problems:?}");
}

#[test]
fn countersign_iterations_move_with_their_body() {
    let mut d = Driver::start("countersign_all.bpmn", "countersign_all", json!({ "approvers": ["a", "b", "c"] }));
    let open = d.open_tasks();
    assert_eq!(open.len(), 3, "{open:?}");
    let element = open[0].clone();
    let renamed = fixture("countersign_all.bpmn").replace(&format!("\"{element}\""), "\"sign\"");
    let v2 = version(&renamed);
    let (migrated, moved) = migrate(&d.deployment, &v2, &d.instance, &map(&[(&element, "sign")])).unwrap();
    assert_eq!(moved.len(), 1);
    d.deployment = v2;
    d.instance = migrated;
    assert_eq!(d.open_tasks(), ["sign", "sign", "sign"]);
    for who in ["a", "b", "c"] {
        let task = d.task_of("sign", who);
        d.apply(Event::TaskCompleted { task, outputs: common::vars(json!({ "approved": true })) });
    }
    assert!(d.open_tasks().is_empty(), "{:?}", d.open_tasks());
}
