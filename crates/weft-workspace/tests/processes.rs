//! The durable process runtime through the façade, on SQLite and PostgreSQL: deployment
//! and versions, approvals (serial tiers by amount with manager-chain assignment, all-of
//! and 2-of-3 countersign), reminders and escalation on a test clock, return-to-step and
//! withdraw, delegation during an absence, a call activity, a service task transitioning
//! the bound record, a timer in business time across a weekend and a holiday, exactly-once,
//! who may not act on a task, and 加签 (an approver added before or after the holder, or to a
//! countersign) with its refusals.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json, json};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;
use weft_model::Principal;
use weft_model::access::RoleDef;
use weft_testkit::fixtures::{self, object, workspace};
use weft_testkit::people;
use weft_testkit::{TestBackend, TestDatabase, on_both_databases};
use weft_workspace::delegation::{NewDelegation, format_day};
use weft_workspace::identity::Clock;
use weft_workspace::processes::{Delivery, DeployProcess, ProcessStarts, StartProcess, TaskView};
use weft_workspace::{Created, Error, Workspace};

on_both_databases!(
    deployments_are_versioned_and_admin_only,
    the_peer_approval_runs_end_to_end,
    three_tiers_by_amount_follow_the_manager_chain_and_approve_the_record,
    an_all_of_countersign_ends_at_the_first_rejection,
    two_of_three_approve,
    a_reminder_then_an_escalation_to_the_manager,
    return_to_an_earlier_step_and_withdraw,
    delegation_during_an_absence,
    a_call_activity_waits_for_its_child,
    a_timer_in_business_time_skips_the_weekend_and_a_holiday,
    a_completed_task_is_not_completed_twice,
    strangers_guests_and_members_without_the_role_cannot_act,
    a_failing_job_is_retried_with_backoff_then_an_incident_an_admin_retries,
    a_message_before_its_subscription_is_buffered_and_delivered_once,
    metrics_count_steps_durations_and_live_work,
    a_business_rule_task_evaluates_a_deployed_decision,
    a_job_held_by_a_dead_worker_is_taken_over_and_runs_once,
    a_lifecycle_transition_starts_the_process_once,
    a_message_start_event_starts_an_instance_per_message,
    round_robin_and_least_loaded_pick_among_the_candidates,
    a_timer_start_event_starts_instances_on_its_schedule_once_each,
    to_dos_are_in_the_inbox_of_who_may_act,
    an_approver_added_before_answers_first_then_the_task_comes_back,
    an_approver_added_after_is_asked_once_the_holder_approved,
    an_approver_added_to_a_countersign_is_one_more_countersigner,
    adding_an_approver_is_refused_to_others_and_for_bad_approvers,
    the_record_timeline_tells_the_process_history_and_guests_only_their_tasks,
);

fn fixture(name: &str) -> String {
    let path = format!("{}/../weft-process/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A company: the director heads it, the manager heads Sales under it, the starter works
/// in Sales; a CFO and an HR clerk stand apart.
struct Org {
    db: TestDatabase,
    ws: Workspace,
    clock: Clock,
    admin: Principal,
    starter: Principal,
    manager: Principal,
    director: Principal,
    cfo: Principal,
    hr: Principal,
    other: Principal,
}

async fn org(backend: TestBackend, clock: Clock) -> Org {
    let (db, ws) = workspace(backend).await;
    let ws = ws.with_process_clock(clock.clone());
    fixtures::declare(&ws, &[fixtures::purchase_order()]).await;
    let admin = people::member(&ws, &["admin"]).await;
    let hr_role = RoleDef {
        name: "hr".into(),
        labels: BTreeMap::new(),
        description: String::new(),
        for_guests: false,
        grants: vec![],
        field_rules: vec![],
    };
    ws.put_role(&admin, hr_role).await.expect("hr role");
    let starter = people::member(&ws, &["employee"]).await;
    let manager = people::member(&ws, &["employee"]).await;
    let director = people::member(&ws, &["employee"]).await;
    let cfo = people::member(&ws, &["employee"]).await;
    let hr = people::member(&ws, &["employee", "hr"]).await;
    let other = people::member(&ws, &["employee"]).await;
    let company = people::unit(&ws, "Company", None).await;
    let sales = people::unit(&ws, "Sales", Some(company)).await;
    people::join(&ws, &director, company, true).await;
    people::join(&ws, &manager, sales, true).await;
    people::join(&ws, &starter, sales, true).await;
    ws.set_unit_manager(&admin, company, Some(director.id)).await.expect("company head");
    ws.set_unit_manager(&admin, sales, Some(manager.id)).await.expect("sales head");
    Org { db, ws, clock, admin, starter, manager, director, cfo, hr, other }
}

async fn deploy(o: &Org, xml: String, record_type: Option<&str>, variables: &[(&str, &str)]) {
    let input = DeployProcess {
        xml,
        record_type: record_type.map(str::to_owned),
        variables: variables.iter().map(|(n, t)| ((*n).to_owned(), (*t).to_owned())).collect(),
        ..Default::default()
    };
    o.ws.deploy_process(&o.admin, input).await.expect("the process deploys");
}

async fn start(o: &Org, by: &Principal, key: &str, variables: Json) -> Uuid {
    let variables = match variables {
        Json::Object(m) => m,
        _ => Map::new(),
    };
    let input = StartProcess { key: key.into(), record: None, variables, idempotency_key: None };
    o.ws.start_process(by, input).await.expect("the process starts").id
}

async fn open_tasks(o: &Org, instance: Uuid) -> Vec<TaskView> {
    let tasks = o.ws.process_tasks(&o.admin, instance).await.expect("tasks");
    tasks.into_iter().filter(|t| t.status == "open").collect()
}

async fn only_open_task(o: &Org, instance: Uuid) -> TaskView {
    let mut open = open_tasks(o, instance).await;
    assert_eq!(open.len(), 1, "one open task expected, got {open:?}");
    open.remove(0)
}

async fn status(o: &Org, instance: Uuid) -> String {
    o.ws.process_instance(&o.admin, instance).await.expect("instance").status
}

async fn elements_done(o: &Org, instance: Uuid) -> Vec<String> {
    o.ws.process_steps(&o.admin, instance).await.expect("steps").into_iter().map(|s| s.0).collect()
}

async fn count(o: &Org, sql: &str) -> i64 {
    o.db.scalar(sql).await.unwrap_or(0)
}

async fn deployments_are_versioned_and_admin_only(backend: TestBackend) {
    let o = org(backend, Clock::default()).await;
    let xml = fixture("peer_spiff_approval.bpmn");
    let input = DeployProcess {
        xml: xml.clone(),
        variables: [("amount".into(), "decimal".into())].into(),
        ..Default::default()
    };
    let first = o.ws.deploy_process(&o.admin, input.clone()).await.unwrap();
    assert_eq!((first[0].key.as_str(), first[0].version, first[0].unchanged), ("approval", 1, false));
    let again = o.ws.deploy_process(&o.admin, input.clone()).await.unwrap();
    assert_eq!((again[0].version, again[0].unchanged, again[0].id), (1, true, first[0].id));
    let changed = DeployProcess { xml: xml.replace("Expense approval", "Expense approval v2"), ..input.clone() };
    assert_eq!(o.ws.deploy_process(&o.admin, changed).await.unwrap()[0].version, 2);
    assert!(matches!(o.ws.deploy_process(&o.starter, input.clone()).await, Err(Error::Forbidden(_))));
    // A condition naming a variable nobody declared is refused with the problem.
    let undeclared = DeployProcess { xml, ..Default::default() };
    assert!(matches!(o.ws.deploy_process(&o.admin, undeclared).await, Err(Error::Validation(_))));
    assert_eq!(count(&o, "SELECT COUNT(*) FROM audit_log WHERE action = 'process.deploy'").await, 2);
}

async fn the_peer_approval_runs_end_to_end(backend: TestBackend) {
    let o = org(backend, Clock::default()).await;
    deploy(&o, fixture("peer_spiff_approval.bpmn"), None, &[("amount", "decimal")]).await;
    for (amount, approver) in [(500, "manager_approve"), (25_000, "director_approve")] {
        let id = start(&o, &o.starter, "approval", json!({ "amount": amount })).await;
        // Unassigned steps are an admin's to do.
        let submit = only_open_task(&o, id).await;
        assert_eq!(submit.element, "submit");
        o.ws.complete_task(&o.admin, &submit.id, Map::new()).await.unwrap();
        let approve = only_open_task(&o, id).await;
        assert_eq!(approve.element, approver);
        o.ws.approve_task(&o.admin, &approve.id, true, Some("fine".into())).await.unwrap();
        assert_eq!(status(&o, id).await, "completed");
        let done = elements_done(&o, id).await;
        assert!(["submit", approver, "end"].iter().all(|e| done.iter().any(|d| d == e)), "{done:?}");
        let other = if approver == "manager_approve" { "director_approve" } else { "manager_approve" };
        assert!(!done.iter().any(|d| d == other), "{done:?}");
        let done = o.ws.process_task(&o.admin, &approve.id).await.unwrap();
        assert_eq!(done.status, "completed");
        assert_eq!(done.outcome, Some(json!({ "approved": true, "comment": "fine" })));
    }
}

async fn submitted_order(o: &Org, amount: &str) -> Uuid {
    let created =
        o.ws.create(&o.starter, "purchase_order", object(json!({ "subject": "Steel", "amount": amount })), None)
            .await
            .expect("order");
    let Created::Fresh(view) = created else { panic!("fresh") };
    o.ws.transition(&o.starter, "purchase_order", view.system.id, "submit", None, Map::new()).await.expect("submit");
    view.system.id
}

async fn three_tiers_by_amount_follow_the_manager_chain_and_approve_the_record(backend: TestBackend) {
    let o = org(backend, Clock::default()).await;
    let xml = fixture("three_tier.bpmn").replace("assignee=\"cfo\"", &format!("assignee=\"{}\"", o.cfo.id));
    deploy(&o, xml, Some("purchase_order"), &[]).await;

    let order = submitted_order(&o, "150000").await;
    let id =
        o.ws.start_process_for_record(&o.starter, "po_approval", "purchase_order", order, Map::new()).await.unwrap().id;
    for (element, approver) in
        [("manager_approve", &o.manager), ("director_approve", &o.director), ("cfo_approve", &o.cfo)]
    {
        let task = only_open_task(&o, id).await;
        assert_eq!((task.element.as_str(), task.assignee), (element, Some(approver.id)));
        assert_eq!(task.record_id, Some(order));
        o.ws.approve_task(approver, &task.id, true, None).await.unwrap();
    }
    assert_eq!(status(&o, id).await, "active", "the record transition is a job");
    o.ws.run_jobs_until_idle().await.unwrap();
    assert_eq!(status(&o, id).await, "completed");
    let record = o.ws.get(&o.starter, "purchase_order", order).await.unwrap();
    assert_eq!(record.system.state.as_deref(), Some("approved"));

    // A small order needs the manager only; a rejection ends it without touching the record.
    let small = submitted_order(&o, "800").await;
    let id =
        o.ws.start_process_for_record(&o.starter, "po_approval", "purchase_order", small, Map::new()).await.unwrap().id;
    let task = only_open_task(&o, id).await;
    o.ws.approve_task(&o.manager, &task.id, false, Some("too early".into())).await.unwrap();
    assert_eq!(status(&o, id).await, "completed");
    assert!(elements_done(&o, id).await.contains(&"end_rejected".to_owned()));
    let record = o.ws.get(&o.starter, "purchase_order", small).await.unwrap();
    assert_eq!(record.system.state.as_deref(), Some("submitted"));
}

async fn countersign(o: &Org, file: &str, key: &str) -> (Uuid, Vec<TaskView>) {
    deploy(o, fixture(file), None, &[("approvers", "json"), ("approver", "text")]).await;
    let people = [o.manager.id, o.director.id, o.cfo.id];
    let approvers: Vec<String> = people.iter().map(Uuid::to_string).collect();
    let id = start(o, &o.starter, key, json!({ "approvers": approvers })).await;
    let mut tasks = open_tasks(o, id).await;
    tasks.sort_by_key(|t| people.iter().position(|p| Some(*p) == t.assignee));
    assert_eq!(tasks.iter().map(|t| t.assignee).collect::<Vec<_>>(), people.map(Some));
    (id, tasks)
}

async fn an_all_of_countersign_ends_at_the_first_rejection(backend: TestBackend) {
    let o = org(backend, Clock::default()).await;
    let (id, tasks) = countersign(&o, "countersign_all.bpmn", "countersign_all").await;
    o.ws.approve_task(&o.manager, &tasks[0].id, true, None).await.unwrap();
    o.ws.approve_task(&o.director, &tasks[1].id, false, Some("no budget".into())).await.unwrap();
    assert_eq!(status(&o, id).await, "completed");
    assert!(elements_done(&o, id).await.contains(&"end_rejected".to_owned()));
    let cfo_task = o.ws.process_task(&o.admin, &tasks[2].id).await.unwrap();
    assert_eq!(cfo_task.status, "cancelled");
    assert!(matches!(o.ws.approve_task(&o.cfo, &tasks[2].id, true, None).await, Err(Error::Conflict(_))));
}

async fn two_of_three_approve(backend: TestBackend) {
    let o = org(backend, Clock::default()).await;
    let (id, tasks) = countersign(&o, "countersign_two_of_three.bpmn", "countersign_two_of_three").await;
    o.ws.approve_task(&o.manager, &tasks[0].id, true, None).await.unwrap();
    assert_eq!(status(&o, id).await, "active");
    o.ws.approve_task(&o.cfo, &tasks[2].id, true, None).await.unwrap();
    assert_eq!(status(&o, id).await, "completed");
    let done = elements_done(&o, id).await;
    assert!(done.contains(&"end_approved".to_owned()), "{done:?}");
    assert_eq!(o.ws.process_task(&o.admin, &tasks[1].id).await.unwrap().status, "cancelled");
}

fn cn_calendar() -> weft_calendar::CalendarDef {
    serde_json::from_value(json!({
        "name": "cn-mainland",
        "offset": "+08:00",
        "week": {
            "monday": ["09:00-12:00", "13:00-18:00"], "tuesday": ["09:00-12:00", "13:00-18:00"],
            "wednesday": ["09:00-12:00", "13:00-18:00"], "thursday": ["09:00-12:00", "13:00-18:00"],
            "friday": ["09:00-12:00", "13:00-18:00"]
        },
        "holidays": [{ "name": "A holiday", "dates": "2026-11-02" }]
    }))
    .expect("calendar")
}

async fn a_reminder_then_an_escalation_to_the_manager(backend: TestBackend) {
    // Monday 2026-03-02, 09:00 in Beijing.
    let clock = Clock::frozen(datetime!(2026-03-02 01:00 UTC));
    let o = org(backend, clock).await;
    o.ws.put_business_calendar(&o.admin, cn_calendar()).await.unwrap();
    deploy(&o, fixture("reminders.bpmn"), None, &[("approver", "text"), ("due_at", "datetime")]).await;
    let id = start(
        &o,
        &o.starter,
        "sla_approval",
        json!({ "approver": o.starter.id.to_string(),
        "due_at": "2026-03-03T01:00:00Z" }),
    )
    .await;
    let task = only_open_task(&o, id).await;
    assert_eq!(task.assignee, Some(o.starter.id));
    let notices = "SELECT COUNT(*) FROM outbox WHERE kind = 'process.notify'";

    // Four working hours (lunch excluded): 14:00 Beijing. Not yet at 13:59.
    o.clock.advance(std::time::Duration::from_secs(4 * 3600 + 59 * 60));
    o.ws.run_jobs_until_idle().await.unwrap();
    assert_eq!(count(&o, notices).await, 0);
    o.clock.advance(std::time::Duration::from_secs(120));
    o.ws.run_jobs_until_idle().await.unwrap();
    assert_eq!(count(&o, notices).await, 1, "one reminder");
    assert_eq!(only_open_task(&o, id).await.id, task.id, "a reminder does not interrupt");

    // A day later the escalation takes the task away and gives it to the manager.
    o.clock.advance(std::time::Duration::from_secs(20 * 3600));
    o.ws.run_jobs_until_idle().await.unwrap();
    assert_eq!(o.ws.process_task(&o.admin, &task.id).await.unwrap().status, "cancelled");
    let escalated = only_open_task(&o, id).await;
    assert_eq!((escalated.element.as_str(), escalated.assignee), ("escalated_approve", Some(o.manager.id)));
    let reminders = count(&o, notices).await;
    o.ws.complete_task(&o.manager, &escalated.id, Map::new()).await.unwrap();
    o.clock.advance(std::time::Duration::from_secs(3 * 24 * 3600));
    o.ws.run_jobs_until_idle().await.unwrap();
    assert_eq!(count(&o, notices).await, reminders, "no reminder after the task ended");
    assert_eq!(status(&o, id).await, "completed");
}

async fn return_to_an_earlier_step_and_withdraw(backend: TestBackend) {
    let o = org(backend, Clock::default()).await;
    deploy(&o, fixture("return_withdraw.bpmn"), None, &[]).await;
    let id = start(&o, &o.starter, "leave_request", json!({})).await;
    let fill = only_open_task(&o, id).await;
    assert_eq!((fill.element.as_str(), fill.assignee), ("fill_in", Some(o.starter.id)));
    o.ws.complete_task(&o.starter, &fill.id, Map::new()).await.unwrap();
    let lead = only_open_task(&o, id).await;
    assert_eq!((lead.element.as_str(), lead.assignee), ("team_lead", Some(o.manager.id)));
    o.ws.return_task(&o.manager, &lead.id, "fill_in", Some("add the dates".into())).await.unwrap();
    let again = only_open_task(&o, id).await;
    assert_eq!((again.element.as_str(), again.assignee), ("fill_in", Some(o.starter.id)));
    assert_ne!(again.id, fill.id);
    o.ws.complete_task(&o.starter, &again.id, Map::new()).await.unwrap();
    let lead = only_open_task(&o, id).await;
    o.ws.approve_task(&o.manager, &lead.id, true, None).await.unwrap();
    let hr = only_open_task(&o, id).await;
    assert_eq!((hr.element.as_str(), hr.candidate_roles.clone()), ("hr_check", vec!["hr".to_owned()]));
    o.ws.complete_task(&o.hr, &hr.id, Map::new()).await.unwrap();
    assert_eq!(status(&o, id).await, "completed");

    // Withdrawn while the team lead has it: only the starter may.
    let id = start(&o, &o.starter, "leave_request", json!({})).await;
    let fill = only_open_task(&o, id).await;
    o.ws.complete_task(&o.starter, &fill.id, Map::new()).await.unwrap();
    let lead = only_open_task(&o, id).await;
    assert!(matches!(o.ws.withdraw_process(&o.manager, id, None).await, Err(Error::Forbidden(_))));
    assert!(matches!(o.ws.withdraw_process(&o.other, id, None).await, Err(Error::NotFound(_))));
    o.ws.withdraw_process(&o.starter, id, Some("not needed".into())).await.unwrap();
    assert_eq!(status(&o, id).await, "withdrawn");
    assert_eq!(o.ws.process_task(&o.admin, &lead.id).await.unwrap().status, "cancelled");
}

async fn delegation_during_an_absence(backend: TestBackend) {
    let o = org(backend, Clock::default()).await;
    deploy(&o, fixture("return_withdraw.bpmn"), None, &[]).await;
    // A task the manager already has when the absence starts: the delegate acts for them.
    let before = start(&o, &o.starter, "leave_request", json!({})).await;
    let fill = only_open_task(&o, before).await;
    o.ws.complete_task(&o.starter, &fill.id, Map::new()).await.unwrap();
    let held = only_open_task(&o, before).await;
    assert!(matches!(o.ws.complete_task(&o.other, &held.id, Map::new()).await, Err(Error::NotFound(_))));

    let today = o.ws.process_now().date();
    let absence = NewDelegation {
        from: None,
        to: o.other.id,
        starts_on: format_day(today),
        ends_on: format_day(today + Duration::days(2)),
        reason: "annual leave".into(),
    };
    o.ws.create_delegation(&o.manager, absence).await.unwrap();
    o.ws.approve_task(&o.other, &held.id, true, None).await.unwrap();
    let done = o.ws.process_task(&o.admin, &held.id).await.unwrap();
    assert_eq!(done.ended_by, Some(format!("{} for {}", o.other.id, o.manager.id)));

    // A task created during the absence goes to the delegate straight away.
    let during = start(&o, &o.starter, "leave_request", json!({})).await;
    let fill = only_open_task(&o, during).await;
    o.ws.complete_task(&o.starter, &fill.id, Map::new()).await.unwrap();
    let routed = only_open_task(&o, during).await;
    assert_eq!((routed.assignee, routed.delegated_from), (Some(o.other.id), Some(o.manager.id)));
    o.ws.approve_task(&o.other, &routed.id, true, None).await.unwrap();
    assert_eq!(only_open_task(&o, during).await.element, "hr_check");
}

const CALL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:weft="http://weft.dev/schema/bpmn/1.0" id="d">
  <bpmn:process id="parent" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:callActivity id="call_review">
      <bpmn:extensionElements>
        <zeebe:calledElement processId="review" propagateAllChildVariables="false" />
        <zeebe:ioMapping><zeebe:output source="=verdict" target="verdict" /></zeebe:ioMapping>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:callActivity>
    <bpmn:userTask id="after"><bpmn:extensionElements><weft:assignment rule="starter" /></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call_review" />
    <bpmn:sequenceFlow id="f2" sourceRef="call_review" targetRef="after" />
    <bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="end" />
  </bpmn:process>
  <bpmn:process id="review" isExecutable="true">
    <bpmn:startEvent id="r_start"><bpmn:outgoing>r1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="r_task"><bpmn:extensionElements><weft:assignment rule="manager" /></bpmn:extensionElements>
      <bpmn:incoming>r1</bpmn:incoming><bpmn:outgoing>r2</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="r_end"><bpmn:incoming>r2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="r1" sourceRef="r_start" targetRef="r_task" />
    <bpmn:sequenceFlow id="r2" sourceRef="r_task" targetRef="r_end" />
  </bpmn:process>
</bpmn:definitions>"#;

async fn a_call_activity_waits_for_its_child(backend: TestBackend) {
    let o = org(backend, Clock::default()).await;
    deploy(&o, CALL.to_owned(), None, &[("verdict", "text")]).await;
    let id = start(&o, &o.starter, "parent", json!({})).await;
    assert!(open_tasks(&o, id).await.is_empty());
    o.ws.run_jobs_until_idle().await.unwrap();
    let child = o.ws.my_tasks(&o.manager).await.unwrap();
    assert_eq!(child.len(), 1);
    let child_instance = o.ws.process_instance(&o.admin, child[0].instance).await.unwrap();
    assert_eq!(child_instance.parent_instance, Some(id));
    assert_eq!(child_instance.started_by, Some(o.starter.id), "the child runs for the same starter");
    let mut outputs = Map::new();
    outputs.insert("verdict".into(), json!("fine"));
    o.ws.complete_task(&o.manager, &child[0].id, outputs).await.unwrap();
    assert_eq!(status(&o, child_instance.id).await, "completed");
    o.ws.run_jobs_until_idle().await.unwrap();
    let after = only_open_task(&o, id).await;
    assert_eq!((after.element.as_str(), after.assignee), ("after", Some(o.starter.id)));
    let parent = o.ws.process_instance(&o.admin, id).await.unwrap();
    assert_eq!(parent.variables.get("verdict"), Some(&json!("fine")));
    // The job that told the parent ran once: running the jobs again changes nothing.
    assert_eq!(o.ws.run_jobs_until_idle().await.unwrap(), Default::default());
}

const BUSINESS_TIMER: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:weft="http://weft.dev/schema/bpmn/1.0" id="d">
  <bpmn:process id="sla" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="answer"><bpmn:extensionElements><weft:assignment rule="starter" /></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:boundaryEvent id="late" attachedToRef="answer">
      <bpmn:timerEventDefinition weft:calendar="cn-mainland">
        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT4H</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
      <bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_late"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="answer" />
    <bpmn:sequenceFlow id="f2" sourceRef="answer" targetRef="end" />
    <bpmn:sequenceFlow id="f3" sourceRef="late" targetRef="end_late" />
  </bpmn:process>
</bpmn:definitions>"#;

async fn a_timer_in_business_time_skips_the_weekend_and_a_holiday(backend: TestBackend) {
    // Friday 2026-10-30, 16:00 in Beijing: two working hours left that day (to 18:00); Monday
    // 2026-11-02 is a holiday; the other two hours end Tuesday at 11:00 (03:00 UTC).
    let start_at: OffsetDateTime = datetime!(2026-10-30 08:00 UTC);
    let o = org(backend, Clock::frozen(start_at)).await;
    o.ws.put_business_calendar(&o.admin, cn_calendar()).await.unwrap();
    assert_eq!(o.ws.business_calendar(&o.starter, "cn-mainland").await.unwrap().name, "cn-mainland");
    deploy(&o, BUSINESS_TIMER.to_owned(), None, &[]).await;
    let id = start(&o, &o.starter, "sla", json!({})).await;
    let due = datetime!(2026-11-03 03:00 UTC);
    o.clock.advance((due - start_at - Duration::minutes(1)).unsigned_abs());
    o.ws.run_jobs_until_idle().await.unwrap();
    assert_eq!(status(&o, id).await, "active", "not late a minute before");
    o.clock.advance(std::time::Duration::from_secs(120));
    o.ws.run_jobs_until_idle().await.unwrap();
    assert_eq!(status(&o, id).await, "completed");
    assert!(elements_done(&o, id).await.contains(&"end_late".to_owned()));
}

async fn a_completed_task_is_not_completed_twice(backend: TestBackend) {
    let o = org(backend, Clock::default()).await;
    deploy(&o, fixture("return_withdraw.bpmn"), None, &[]).await;
    let id = start(&o, &o.starter, "leave_request", json!({})).await;
    let fill = only_open_task(&o, id).await;
    o.ws.complete_task(&o.starter, &fill.id, Map::new()).await.unwrap();
    let footprint = "SELECT (SELECT COUNT(*) FROM audit_log) + (SELECT COUNT(*) FROM outbox) \
                     + (SELECT COUNT(*) FROM process_tasks) + (SELECT COUNT(*) FROM process_steps)";
    let before = count(&o, footprint).await;
    let again = o.ws.complete_task(&o.starter, &fill.id, Map::new()).await;
    assert!(matches!(again, Err(Error::Conflict(_))), "{again:?}");
    assert_eq!(count(&o, footprint).await, before, "a refused replay writes nothing");
    let lead = only_open_task(&o, id).await;
    let (a, b) = tokio::join!(
        o.ws.approve_task(&o.manager, &lead.id, true, None),
        o.ws.approve_task(&o.admin, &lead.id, true, None)
    );
    assert!(a.is_ok() != b.is_ok(), "exactly one of two racing completions wins: {a:?} {b:?}");
    let hr = open_tasks(&o, id).await;
    assert_eq!(hr.len(), 1, "the next step was created once");
    assert_eq!(count(&o, "SELECT COUNT(*) FROM process_tasks WHERE element = 'hr_check'").await, 1);
}

async fn strangers_guests_and_members_without_the_role_cannot_act(backend: TestBackend) {
    let o = org(backend, Clock::default()).await;
    deploy(&o, fixture("return_withdraw.bpmn"), None, &[]).await;
    let id = start(&o, &o.starter, "leave_request", json!({})).await;
    let fill = only_open_task(&o, id).await;
    let party = Uuid::now_v7();
    let guest = people::guest(&o.ws, party, &["guest"]).await;
    for who in [&o.other, &guest, &o.manager] {
        let refused = o.ws.complete_task(who, &fill.id, Map::new()).await;
        assert!(matches!(refused, Err(Error::NotFound(_))), "{refused:?}");
    }
    o.ws.complete_task(&o.starter, &fill.id, Map::new()).await.unwrap();
    let lead = only_open_task(&o, id).await;
    // The starter knows the task exists but it is not theirs.
    assert!(matches!(o.ws.approve_task(&o.starter, &lead.id, true, None).await, Err(Error::Forbidden(_))));
    o.ws.approve_task(&o.manager, &lead.id, true, None).await.unwrap();
    let hr = only_open_task(&o, id).await;
    for who in [&o.other, &o.manager, &guest] {
        let refused = o.ws.complete_task(who, &hr.id, Map::new()).await;
        assert!(matches!(refused, Err(Error::NotFound(_))), "{refused:?}");
    }
    // A candidate claims it; then another candidate may only look.
    let claimed = o.ws.claim_task(&o.hr, &hr.id).await.unwrap();
    assert_eq!(claimed.assignee, Some(o.hr.id));
    let second_hr = people::member(&o.ws, &["employee", "hr"]).await;
    assert!(matches!(o.ws.complete_task(&second_hr, &hr.id, Map::new()).await, Err(Error::Forbidden(_))));
    o.ws.transfer_task(&o.hr, &hr.id, second_hr.id).await.unwrap();
    o.ws.complete_task(&second_hr, &hr.id, Map::new()).await.unwrap();
    assert_eq!(status(&o, id).await, "completed");
    assert_eq!(
        count(&o, "SELECT COUNT(*) FROM audit_log WHERE action IN ('process.task.claim', 'process.task.transfer')")
            .await,
        2
    );
}

const UNKNOWN_JOB: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d">
  <bpmn:process id="calls_out" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:serviceTask id="call">
      <bpmn:extensionElements><zeebe:taskDefinition type="acme:erp_sync" retries="2" /></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call" />
    <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>"#;

async fn a_failing_job_is_retried_with_backoff_then_an_incident_an_admin_retries(backend: TestBackend) {
    let o = org(backend, Clock::frozen(datetime!(2026-03-02 01:00 UTC))).await;
    deploy(&o, UNKNOWN_JOB.to_owned(), None, &[]).await;
    let id = start(&o, &o.starter, "calls_out", json!({})).await;
    let first = o.ws.run_due_jobs(10).await.unwrap();
    assert_eq!((first.done, first.retried, first.incidents), (0, 1, 0));
    assert_eq!(o.ws.run_due_jobs(10).await.unwrap(), Default::default(), "backing off");
    o.clock.advance(std::time::Duration::from_secs(60));
    let second = o.ws.run_due_jobs(10).await.unwrap();
    assert_eq!((second.done, second.retried, second.incidents), (0, 0, 1));
    let instance = o.ws.process_instance(&o.admin, id).await.unwrap();
    assert_eq!((instance.status.as_str(), instance.incidents.len()), ("active", 1));
    let incident = instance.incidents[0].0.clone();
    assert!(matches!(o.ws.retry_process_incident(&o.starter, id, &incident).await, Err(Error::Forbidden(_))));
    o.ws.retry_process_incident(&o.admin, id, &incident).await.unwrap();
    assert!(o.ws.process_instance(&o.admin, id).await.unwrap().incidents.is_empty());
    let pending = "SELECT COUNT(*) FROM process_jobs WHERE status = 'pending'";
    assert_eq!(count(&o, pending).await, 1, "the step runs again as a new job");
    o.ws.cancel_process(&o.admin, id, Some("the ERP is gone".into())).await.unwrap();
    assert_eq!(status(&o, id).await, "cancelled");
    assert_eq!(count(&o, pending).await, 0, "cancelling the instance cancels its jobs");
}

const WAIT_FOR_REPLY: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:weft="http://weft.dev/schema/bpmn/1.0" id="d">
  <bpmn:process id="rfq" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="reply">
      <bpmn:extensionElements>
        <zeebe:ioMapping><zeebe:output source="=price" target="quoted_price" /></zeebe:ioMapping>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:messageEventDefinition messageRef="m_quote" />
    </bpmn:intermediateCatchEvent>
    <bpmn:userTask id="evaluate"><bpmn:extensionElements><weft:assignment rule="starter" /></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="reply" />
    <bpmn:sequenceFlow id="f2" sourceRef="reply" targetRef="evaluate" />
    <bpmn:sequenceFlow id="f3" sourceRef="evaluate" targetRef="end" />
  </bpmn:process>
  <bpmn:message id="m_quote" name="quote">
    <bpmn:extensionElements><zeebe:subscription correlationKey="=rfq_number" /></bpmn:extensionElements>
  </bpmn:message>
</bpmn:definitions>"#;

async fn a_message_before_its_subscription_is_buffered_and_delivered_once(backend: TestBackend) {
    let o = org(backend, Clock::default()).await;
    deploy(
        &o,
        WAIT_FOR_REPLY.to_owned(),
        None,
        &[("rfq_number", "text"), ("price", "decimal"), ("quoted_price", "decimal")],
    )
    .await;
    let mut price = Map::new();
    price.insert("price".into(), json!("99.5"));
    // The supplier answers RFQ-1 before the process waits for it.
    let early = o.ws.publish_process_message(&o.starter, "quote", Some("RFQ-1"), price.clone()).await.unwrap();
    assert!(matches!(early, Delivery::Buffered(_)));
    let first = start(&o, &o.starter, "rfq", json!({ "rfq_number": "RFQ-1" })).await;
    let second = start(&o, &o.starter, "rfq", json!({ "rfq_number": "RFQ-1" })).await;
    o.ws.run_jobs_until_idle().await.unwrap();
    let waiting: Vec<usize> = [open_tasks(&o, first).await.len(), open_tasks(&o, second).await.len()].into();
    assert_eq!(waiting, [1, 0], "the buffered message went to one instance only");
    let got = o.ws.process_instance(&o.admin, first).await.unwrap();
    assert_eq!(got.variables.get("quoted_price"), Some(&json!("99.5")));
    // A message for a live subscription goes straight to it.
    let direct = o.ws.publish_process_message(&o.starter, "quote", Some("RFQ-1"), price).await.unwrap();
    assert_eq!(direct, Delivery::Delivered(second));
    assert_eq!(open_tasks(&o, second).await.len(), 1);
    let guest = people::guest(&o.ws, Uuid::now_v7(), &["guest"]).await;
    let refused = o.ws.publish_process_message(&guest, "quote", Some("RFQ-1"), Map::new()).await;
    assert!(matches!(refused, Err(Error::Forbidden(_))));
}

async fn metrics_count_steps_durations_and_live_work(backend: TestBackend) {
    let o = org(backend, Clock::frozen(datetime!(2026-03-02 01:00 UTC))).await;
    deploy(&o, fixture("peer_spiff_approval.bpmn"), None, &[("amount", "decimal")]).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(start(&o, &o.starter, "approval", json!({ "amount": 500 })).await);
    }
    for id in &ids[..2] {
        o.clock.advance(std::time::Duration::from_secs(600));
        let submit = only_open_task(&o, *id).await;
        o.ws.complete_task(&o.admin, &submit.id, Map::new()).await.unwrap();
    }
    let metrics = o.ws.process_metrics(&o.starter, "approval").await.unwrap();
    assert_eq!(metrics.active, 3);
    assert_eq!(metrics.longest_running.first().map(|r| r.0), Some(ids[0]));
    let step = |name: &str| metrics.steps.iter().find(|s| s.element == name).cloned().unwrap_or_default();
    let submit = step("submit");
    assert_eq!((submit.completed, submit.live), (2, 1));
    assert_eq!((submit.average_ms, submit.p90_ms), (900_000, 1_200_000));
    assert_eq!(step("manager_approve").live, 2);
}

const MATRIX: &str = r##"<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="approvals" name="approvals"
             namespace="https://weft.example/dmn/approvals">
  <decision id="approver" name="Approver">
    <informationRequirement id="ir1"><requiredInput href="#amount"/></informationRequirement>
    <decisionTable id="table" hitPolicy="FIRST">
      <input id="in_amount" label="amount"><inputExpression id="e1" typeRef="number"><text>amount</text></inputExpression></input>
      <output id="out_tier" name="tier" typeRef="string"/>
      <rule id="r1"><inputEntry id="r1a"><text>&lt; 10000</text></inputEntry><outputEntry id="r1o"><text>"manager"</text></outputEntry></rule>
      <rule id="r2"><inputEntry id="r2a"><text>&gt;= 10000</text></inputEntry><outputEntry id="r2o"><text>"finance director"</text></outputEntry></rule>
    </decisionTable>
  </decision>
  <inputData id="amount" name="amount"><variable id="v1" name="amount" typeRef="number"/></inputData>
</definitions>"##;

const ROUTED: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:weft="http://weft.dev/schema/bpmn/1.0" id="d">
  <bpmn:process id="routed" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:businessRuleTask id="pick">
      <bpmn:extensionElements>
        <zeebe:calledDecision decisionId="approvals/Approver" resultVariable="tier" />
        <zeebe:ioMapping><zeebe:input source="=amount" target="amount" /></zeebe:ioMapping>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:userTask id="check"><bpmn:extensionElements><weft:assignment rule="starter" /></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="pick" />
    <bpmn:sequenceFlow id="f2" sourceRef="pick" targetRef="check" />
    <bpmn:sequenceFlow id="f3" sourceRef="check" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>"#;

async fn a_business_rule_task_evaluates_a_deployed_decision(backend: TestBackend) {
    let o = org(backend, Clock::default()).await;
    o.ws.deploy_decision(&o.admin, MATRIX.to_owned()).await.expect("decision");
    deploy(&o, ROUTED.to_owned(), None, &[("amount", "decimal"), ("tier", "text")]).await;
    let id = start(&o, &o.starter, "routed", json!({ "amount": "25000" })).await;
    o.ws.run_jobs_until_idle().await.unwrap();
    let instance = o.ws.process_instance(&o.admin, id).await.unwrap();
    assert_eq!(instance.variables.get("tier"), Some(&json!("finance director")), "{instance:?}");
    assert_eq!(only_open_task(&o, id).await.element, "check");
}

async fn a_job_held_by_a_dead_worker_is_taken_over_and_runs_once(backend: TestBackend) {
    let start_at: OffsetDateTime = datetime!(2026-10-30 08:00 UTC);
    let o = org(backend, Clock::frozen(start_at)).await;
    o.ws.put_business_calendar(&o.admin, cn_calendar()).await.unwrap();
    deploy(&o, BUSINESS_TIMER.to_owned(), None, &[]).await;
    let id = start(&o, &o.starter, "sla", json!({})).await;
    // A worker claimed the timer and died: its lock runs out when the timer is due.
    let claimed = o
        .db
        .execute("UPDATE process_jobs SET status = 'running', locked_by = 'dead', attempts = 1, locked_until = due_at")
        .await;
    assert_eq!(claimed, 1);
    o.clock.advance(std::time::Duration::from_secs(5 * 24 * 3600));
    let run = o.ws.run_jobs_until_idle().await.unwrap();
    assert_eq!(run.done, 1);
    assert_eq!(status(&o, id).await, "completed");
    assert_eq!(count(&o, "SELECT COUNT(*) FROM outbox WHERE kind = 'process.timer_fire'").await, 1);
    assert_eq!(o.ws.run_jobs_until_idle().await.unwrap(), Default::default());
}

async fn a_lifecycle_transition_starts_the_process_once(backend: TestBackend) {
    let o = org(backend, Clock::default()).await;
    let xml = fixture("three_tier.bpmn");
    let bad = DeployProcess {
        xml: xml.clone(),
        record_type: Some("purchase_order".into()),
        start_on: Some("sumbit".into()),
        ..Default::default()
    };
    assert!(matches!(o.ws.deploy_process(&o.admin, bad).await, Err(Error::BadRequest(_))));
    let good = DeployProcess {
        xml,
        record_type: Some("purchase_order".into()),
        start_on: Some("submit".into()),
        ..Default::default()
    };
    o.ws.deploy_process(&o.admin, good).await.unwrap();
    let order = submitted_order(&o, "500").await;
    o.ws.run_consumer_once(&ProcessStarts).await.unwrap();
    o.ws.run_consumer_once(&ProcessStarts).await.unwrap();
    let started = o.ws.processes_of_record(&o.starter, "purchase_order", order).await.unwrap();
    assert_eq!(started.len(), 1);
    assert_eq!((started[0].process_key.as_str(), started[0].started_by), ("po_approval", Some(o.starter.id)));
    let task = only_open_task(&o, started[0].id).await;
    assert_eq!((task.element.as_str(), task.assignee), ("manager_approve", Some(o.manager.id)));
    o.ws.approve_task(&o.manager, &task.id, true, None).await.unwrap();
    o.ws.run_jobs_until_idle().await.unwrap();
    let record = o.ws.get(&o.starter, "purchase_order", order).await.unwrap();
    assert_eq!(record.system.state.as_deref(), Some("approved"));
}

const ORDER_RECEIVED: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d_orders" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="incoming_order" name="Incoming order" isExecutable="true">
    <bpmn:startEvent id="received" name="Order received">
      <bpmn:outgoing>f1</bpmn:outgoing>
      <bpmn:messageEventDefinition messageRef="m_order" />
    </bpmn:startEvent>
    <bpmn:userTask id="confirm" name="Confirm the order">
      <bpmn:extensionElements><zeebe:assignmentDefinition assignee="=starter" /></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="received" targetRef="confirm" />
    <bpmn:sequenceFlow id="f2" sourceRef="confirm" targetRef="end" />
  </bpmn:process>
  <bpmn:message id="m_order" name="order_received" />
</bpmn:definitions>"#;

async fn a_message_start_event_starts_an_instance_per_message(backend: TestBackend) {
    let o = org(backend, Clock::default()).await;
    deploy(&o, ORDER_RECEIVED.to_owned(), None, &[("order_number", "text")]).await;
    let payload = |n: &str| object(json!({ "order_number": n }));
    let first = o.ws.publish_process_message(&o.starter, "order_received", None, payload("SO-1")).await.unwrap();
    let Delivery::Started(first) = first else { panic!("the message starts the process: {first:?}") };
    let second = o.ws.publish_process_message(&o.starter, "order_received", None, payload("SO-2")).await.unwrap();
    let Delivery::Started(second) = second else { panic!("a second message, a second instance: {second:?}") };
    assert_ne!(first, second);
    let got = o.ws.process_instance(&o.starter, first).await.unwrap();
    assert_eq!((got.process_key.as_str(), got.started_by), ("incoming_order", Some(o.starter.id)));
    assert_eq!(got.variables.get("order_number"), Some(&json!("SO-1")));
    let task = only_open_task(&o, first).await;
    assert_eq!((task.element.as_str(), task.assignee), ("confirm", Some(o.starter.id)));
    // A message no process starts on and nothing waits for is kept.
    let kept = o.ws.publish_process_message(&o.starter, "invoice_received", None, Map::new()).await.unwrap();
    assert!(matches!(kept, Delivery::Buffered(_)));
    assert_eq!(count(&o, "SELECT COUNT(*) FROM process_instances").await, 2);
}

fn pool_process(key: &str, rule: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:weft="http://weft.dev/schema/bpmn/1.0" id="d_{key}" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="{key}" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="handle" name="Handle">
      <bpmn:extensionElements>
        <zeebe:assignmentDefinition candidateGroups="pool" />
        <weft:assignment rule="{rule}" forbidSelfApproval="true" />
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="handle" />
    <bpmn:sequenceFlow id="f2" sourceRef="handle" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>"#
    )
}

async fn round_robin_and_least_loaded_pick_among_the_candidates(backend: TestBackend) {
    let o = org(backend, Clock::default()).await;
    let role = RoleDef {
        name: "pool".into(),
        labels: BTreeMap::new(),
        description: String::new(),
        for_guests: false,
        grants: vec![],
        field_rules: vec![],
    };
    o.ws.put_role(&o.admin, role).await.expect("pool role");
    let mut pool = Vec::new();
    for _ in 0..3 {
        pool.push(people::member(&o.ws, &["employee", "pool"]).await.id);
    }
    // The starter holds the role too, but may not take their own request.
    let starter = people::member(&o.ws, &["employee", "pool"]).await;
    pool.sort();
    deploy(&o, pool_process("rotation", "round_robin"), None, &[]).await;
    deploy(&o, pool_process("balance", "least_loaded"), None, &[]).await;

    let mut turns = Vec::new();
    for _ in 0..4 {
        let id = start(&o, &starter, "rotation", json!({})).await;
        turns.push(only_open_task(&o, id).await.assignee.expect("assigned in turn"));
    }
    assert_eq!(turns, [pool[0], pool[1], pool[2], pool[0]]);

    // pool[0] holds two open tasks, the others one: the next balanced task goes to pool[1],
    // then pool[2]; once pool[0] finishes both, to pool[0].
    let first = start(&o, &starter, "balance", json!({})).await;
    assert_eq!(only_open_task(&o, first).await.assignee, Some(pool[1]));
    let second = start(&o, &starter, "balance", json!({})).await;
    assert_eq!(only_open_task(&o, second).await.assignee, Some(pool[2]));
    for task in o.ws.my_tasks(&Principal::member(pool[0])).await.unwrap() {
        o.ws.complete_task(&Principal::member(pool[0]), &task.id, Map::new()).await.unwrap();
    }
    let third = start(&o, &starter, "balance", json!({})).await;
    assert_eq!(only_open_task(&o, third).await.assignee, Some(pool[0]));
}

fn timer_started(name: &str, definition: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="d_stocktake" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="stocktake" name="{name}" isExecutable="true">
    <bpmn:startEvent id="every_hour">
      <bpmn:outgoing>f1</bpmn:outgoing>
      <bpmn:timerEventDefinition>{definition}</bpmn:timerEventDefinition>
    </bpmn:startEvent>
    <bpmn:userTask id="count" name="Count the stock">
      <bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="every_hour" targetRef="count" />
    <bpmn:sequenceFlow id="f2" sourceRef="count" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>"#
    )
}

async fn a_timer_start_event_starts_instances_on_its_schedule_once_each(backend: TestBackend) {
    let o = org(backend, Clock::frozen(datetime!(2026-03-02 01:00 UTC))).await;
    let instances = |version: i64| {
        format!("SELECT COUNT(*) FROM process_instances WHERE process_key = 'stocktake' AND version = {version}")
    };
    let cycle = r#"<bpmn:timeCycle xsi:type="bpmn:tFormalExpression">R3/PT1H</bpmn:timeCycle>"#;
    deploy(&o, timer_started("Stocktake", cycle), None, &[]).await;
    o.ws.run_jobs_until_idle().await.unwrap();
    assert_eq!(count(&o, &instances(1)).await, 0, "not before the first hour");
    o.clock.advance(std::time::Duration::from_secs(3600));
    o.ws.run_jobs_until_idle().await.unwrap();
    o.ws.run_jobs_until_idle().await.unwrap();
    assert_eq!(count(&o, &instances(1)).await, 1, "one instance per occurrence");
    let started = o.db.scalar("SELECT COUNT(*) FROM process_tasks WHERE element = 'count'").await;
    assert_eq!(started, Some(1));
    o.clock.advance(std::time::Duration::from_secs(3600));
    o.ws.run_jobs_until_idle().await.unwrap();
    assert_eq!(count(&o, &instances(1)).await, 2);

    // A new version takes over: the old schedule stops, the new date fires once.
    let date = r#"<bpmn:timeDate xsi:type="bpmn:tFormalExpression">2026-03-05T00:00:00Z</bpmn:timeDate>"#;
    deploy(&o, timer_started("Stocktake v2", date), None, &[]).await;
    o.clock.advance(std::time::Duration::from_secs(10 * 86_400));
    o.ws.run_jobs_until_idle().await.unwrap();
    o.ws.run_jobs_until_idle().await.unwrap();
    assert_eq!(count(&o, &instances(1)).await, 2, "the old version's timer was cancelled");
    assert_eq!(count(&o, &instances(2)).await, 1);
    assert_eq!(count(&o, "SELECT COUNT(*) FROM process_start_timers WHERE status = 'pending'").await, 0);

    // A timer start event must be a literal timer.
    let feel = r#"<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">=duration("PT1H")</bpmn:timeDuration>"#;
    let input = DeployProcess { xml: timer_started("Stocktake v3", feel), ..Default::default() };
    assert!(matches!(o.ws.deploy_process(&o.admin, input).await, Err(Error::Validation(_))));
}

async fn to_dos_are_in_the_inbox_of_who_may_act(backend: TestBackend) {
    use weft_workspace::collab::InboxQuery;
    let clock = Clock::frozen(datetime!(2026-03-02 01:00 UTC));
    let o = org(backend, clock).await;
    o.ws.put_business_calendar(&o.admin, cn_calendar()).await.unwrap();
    deploy(&o, fixture("reminders.bpmn"), None, &[("approver", "text"), ("due_at", "datetime")]).await;
    let id = start(
        &o,
        &o.starter,
        "sla_approval",
        json!({ "approver": o.starter.id.to_string(), "due_at": "2026-03-03T01:00:00Z" }),
    )
    .await;
    let task = only_open_task(&o, id).await;
    let todo = InboxQuery { kind: Some("todo".into()), ..InboxQuery::default() };

    let page = o.ws.inbox(&o.starter, &todo).await.unwrap();
    assert_eq!(page.items.len(), 1, "{page:?}");
    let item = &page.items[0];
    assert_eq!((item.kind.as_str(), item.task.as_deref()), ("todo", Some(task.id.as_str())));
    assert_eq!(item.due_at.as_deref(), Some("2026-03-03T01:00:00.000000Z"));
    assert!(!item.overdue);
    let counts = o.ws.inbox_counts(&o.starter).await.unwrap();
    assert_eq!((counts.open_by_kind.get("todo").copied(), counts.overdue), (Some(1), 0));
    // Nobody else has it; a guest has no to-dos at all.
    assert!(o.ws.inbox(&o.other, &todo).await.unwrap().items.is_empty());
    let guest = people::guest(&o.ws, Uuid::now_v7(), &["guest"]).await;
    assert!(o.ws.inbox(&guest, &todo).await.unwrap().items.is_empty());

    // Past its due time it is overdue (the escalation job has not run yet).
    o.clock.advance(std::time::Duration::from_secs(2 * 86_400));
    let page = o.ws.inbox(&o.starter, &todo).await.unwrap();
    assert!(page.items[0].overdue);
    assert_eq!(page.items[0].id, item.id, "a to-do keeps its id");
    assert_eq!(o.ws.inbox_counts(&o.starter).await.unwrap().overdue, 1);
}

/// A leave request at the team lead's (the manager's) approval.
async fn at_team_lead(o: &Org) -> (Uuid, TaskView) {
    deploy(o, fixture("return_withdraw.bpmn"), None, &[]).await;
    let id = start(o, &o.starter, "leave_request", json!({})).await;
    let fill = only_open_task(o, id).await;
    o.ws.complete_task(&o.starter, &fill.id, Map::new()).await.unwrap();
    let lead = only_open_task(o, id).await;
    assert_eq!((lead.element.as_str(), lead.assignee), ("team_lead", Some(o.manager.id)));
    (id, lead)
}

async fn an_approver_added_before_answers_first_then_the_task_comes_back(backend: TestBackend) {
    let o = org(backend, Clock::default()).await;
    let (id, lead) = at_team_lead(&o).await;
    o.ws.add_approver(&o.manager, &lead.id, o.director.id, "before", Some("please check the budget".into()))
        .await
        .unwrap();
    let handed_on = o.ws.process_task(&o.manager, &lead.id).await.unwrap();
    assert_eq!(handed_on.status, "completed");
    assert_eq!(
        handed_on.outcome,
        Some(json!({ "added_approver": o.director.id, "position": "before", "comment": "please check the budget" }))
    );
    let first = only_open_task(&o, id).await;
    assert_eq!((first.element.as_str(), first.assignee), ("team_lead", Some(o.director.id)));
    // The director's to-do is in their inbox, not the manager's.
    assert!(o.ws.my_tasks(&o.director).await.unwrap().iter().any(|t| t.id == first.id));
    assert!(o.ws.my_tasks(&o.manager).await.unwrap().is_empty());
    o.ws.approve_task(&o.director, &first.id, true, Some("budget ok".into())).await.unwrap();
    let back = only_open_task(&o, id).await;
    assert_eq!((back.element.as_str(), back.assignee), ("team_lead", Some(o.manager.id)));
    o.ws.approve_task(&o.manager, &back.id, true, None).await.unwrap();
    assert_eq!(only_open_task(&o, id).await.element, "hr_check");
    assert_eq!(elements_done(&o, id).await, ["fill_in", "team_lead"], "one step, three answers");
    let audited = "SELECT COUNT(*) FROM audit_log WHERE action = 'process.task.add_approver'";
    assert_eq!(count(&o, audited).await, 1);
    assert_eq!(count(&o, "SELECT COUNT(*) FROM outbox WHERE kind = 'process.task_add_approver'").await, 1);

    // The added approver's rejection is the step's: the manager is not asked again.
    let (id, lead) = at_team_lead(&o).await;
    o.ws.add_approver(&o.manager, &lead.id, o.director.id, "before", None).await.unwrap();
    let first = only_open_task(&o, id).await;
    o.ws.approve_task(&o.director, &first.id, false, Some("no".into())).await.unwrap();
    assert!(open_tasks(&o, id).await.iter().all(|t| t.element != "team_lead"));
}

async fn an_approver_added_after_is_asked_once_the_holder_approved(backend: TestBackend) {
    let o = org(backend, Clock::default()).await;
    let (id, lead) = at_team_lead(&o).await;
    o.ws.add_approver(&o.manager, &lead.id, o.cfo.id, "after", None).await.unwrap();
    let held = o.ws.process_task(&o.manager, &lead.id).await.unwrap();
    assert_eq!((held.status.as_str(), held.assignee), ("open", Some(o.manager.id)), "the holder keeps it");
    assert_eq!(held.approvers_after, [o.cfo.id]);
    // An admin adds one more, right after the holder.
    o.ws.add_approver(&o.admin, &lead.id, o.director.id, "after", None).await.unwrap();
    assert_eq!(o.ws.process_task(&o.manager, &lead.id).await.unwrap().approvers_after, [o.director.id, o.cfo.id]);
    o.ws.approve_task(&o.manager, &lead.id, true, None).await.unwrap();
    for approver in [&o.director, &o.cfo] {
        let next = only_open_task(&o, id).await;
        assert_eq!((next.element.as_str(), next.assignee), ("team_lead", Some(approver.id)));
        o.ws.approve_task(approver, &next.id, true, None).await.unwrap();
    }
    assert_eq!(only_open_task(&o, id).await.element, "hr_check");

    // A holder who rejects ends the step: nobody added after is asked.
    let (id, lead) = at_team_lead(&o).await;
    o.ws.add_approver(&o.manager, &lead.id, o.cfo.id, "after", None).await.unwrap();
    o.ws.approve_task(&o.manager, &lead.id, false, None).await.unwrap();
    assert!(open_tasks(&o, id).await.iter().all(|t| t.element != "team_lead"));
}

async fn an_approver_added_to_a_countersign_is_one_more_countersigner(backend: TestBackend) {
    let o = org(backend, Clock::default()).await;
    let (id, tasks) = countersign(&o, "countersign_all.bpmn", "countersign_all").await;
    o.ws.add_approver(&o.director, &tasks[1].id, o.hr.id, "after", None).await.unwrap();
    let open = open_tasks(&o, id).await;
    assert_eq!(open.len(), 4);
    let added = open.iter().find(|t| t.assignee == Some(o.hr.id)).expect("the added countersigner's task");
    assert_eq!(added.element, "countersign");
    // Already a countersigner: refused.
    let again = o.ws.add_approver(&o.director, &tasks[1].id, o.cfo.id, "after", None).await;
    assert!(matches!(&again, Err(Error::Validation(e)) if e[0].pointer == "/principal"), "{again:?}");
    for (who, task) in [(&o.manager, &tasks[0]), (&o.director, &tasks[1]), (&o.cfo, &tasks[2])] {
        o.ws.approve_task(who, &task.id, true, None).await.unwrap();
    }
    assert_eq!(status(&o, id).await, "active", "all-of waits for the added countersigner");
    o.ws.approve_task(&o.hr, &added.id, true, None).await.unwrap();
    assert_eq!(status(&o, id).await, "completed");
    assert!(elements_done(&o, id).await.contains(&"end_approved".to_owned()));
}

async fn adding_an_approver_is_refused_to_others_and_for_bad_approvers(backend: TestBackend) {
    use weft_model::schema::FieldErrorCode;
    let o = org(backend, Clock::default()).await;
    let (id, lead) = at_team_lead(&o).await;
    let guest = people::guest(&o.ws, Uuid::now_v7(), &["guest"]).await;
    let footprint = "SELECT (SELECT COUNT(*) FROM audit_log) + (SELECT COUNT(*) FROM outbox) \
                     + (SELECT COUNT(*) FROM process_tasks)";
    let before = count(&o, footprint).await;
    // Strangers and guests are told the task does not exist; the starter may know it does.
    for who in [&o.other, &guest] {
        let refused = o.ws.add_approver(who, &lead.id, o.cfo.id, "after", None).await;
        assert!(matches!(refused, Err(Error::NotFound(_))), "{refused:?}");
    }
    let refused = o.ws.add_approver(&o.starter, &lead.id, o.cfo.id, "after", None).await;
    assert!(matches!(refused, Err(Error::Forbidden(_))), "{refused:?}");
    let field = |r: Result<(), Error>| match r {
        Err(Error::Validation(errors)) => errors.into_iter().map(|e| (e.pointer, e.code)).collect::<Vec<_>>(),
        other => panic!("a validation error expected, got {other:?}"),
    };
    let unknown = o.ws.add_approver(&o.manager, &lead.id, Uuid::now_v7(), "after", None).await;
    assert_eq!(field(unknown), [("/principal".to_owned(), FieldErrorCode::UnknownReference)]);
    let a_guest = o.ws.add_approver(&o.manager, &lead.id, guest.id, "before", None).await;
    assert_eq!(field(a_guest), [("/principal".to_owned(), FieldErrorCode::GuardFailed)]);
    let myself = o.ws.add_approver(&o.manager, &lead.id, o.manager.id, "after", None).await;
    assert_eq!(field(myself), [("/principal".to_owned(), FieldErrorCode::GuardFailed)]);
    let nowhere = o.ws.add_approver(&o.manager, &lead.id, o.cfo.id, "beside", None).await;
    assert_eq!(field(nowhere), [("/position".to_owned(), FieldErrorCode::UnknownOption)]);
    o.ws.add_approver(&o.manager, &lead.id, o.cfo.id, "after", None).await.unwrap();
    let twice = o.ws.add_approver(&o.manager, &lead.id, o.cfo.id, "after", None).await;
    assert_eq!(field(twice), [("/principal".to_owned(), FieldErrorCode::GuardFailed)]);
    let written = count(&o, footprint).await;
    assert_eq!(written, before + 2, "only the accepted addition wrote (its audit entry and event)");

    // A task that has ended: 409.
    o.ws.approve_task(&o.manager, &lead.id, true, None).await.unwrap();
    let ended = o.ws.add_approver(&o.manager, &lead.id, o.director.id, "after", None).await;
    assert!(matches!(ended, Err(Error::Conflict(_))), "{ended:?}");

    // An unclaimed task: a candidate must claim it first.
    let cfo_task = only_open_task(&o, id).await;
    o.ws.approve_task(&o.cfo, &cfo_task.id, true, None).await.unwrap();
    let hr = only_open_task(&o, id).await;
    assert_eq!(hr.assignee, None);
    let unclaimed = o.ws.add_approver(&o.hr, &hr.id, o.director.id, "after", None).await;
    assert!(matches!(unclaimed, Err(Error::Forbidden(_))), "{unclaimed:?}");
    let nobody = o.ws.add_approver(&o.admin, &hr.id, o.director.id, "before", None).await;
    assert!(matches!(nobody, Err(Error::Conflict(_))), "{nobody:?}");
}

/// A supplier's confirmation (a partner contact's task), then the buyer's check.
const PO_REVIEW: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d_review">
  <bpmn:process id="po_review" name="Order review" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="supplier_confirms" name="Supplier confirms">
      <bpmn:extensionElements><zeebe:assignmentDefinition assignee="GUEST" /></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:userTask id="buyer_checks" name="Buyer checks">
      <bpmn:extensionElements><zeebe:assignmentDefinition assignee="MANAGER" /></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="supplier_confirms" />
    <bpmn:sequenceFlow id="f2" sourceRef="supplier_confirms" targetRef="buyer_checks" />
    <bpmn:sequenceFlow id="f3" sourceRef="buyer_checks" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>"#;

async fn the_record_timeline_tells_the_process_history_and_guests_only_their_tasks(backend: TestBackend) {
    // The process clock after the wall clock the record's history is written with, stepping
    // a minute per action, so the order is the actions' order.
    let clock = Clock::frozen(OffsetDateTime::now_utc() + Duration::hours(1));
    let o = org(backend, clock).await;
    let minute = || o.clock.advance(std::time::Duration::from_secs(60));
    let portal = RoleDef {
        name: "order_portal".into(),
        labels: BTreeMap::new(),
        description: String::new(),
        for_guests: true,
        grants: vec![
            serde_json::from_value(json!({ "type": "purchase_order", "actions": ["read"], "scope": "party" }))
                .expect("grant"),
        ],
        field_rules: vec![],
    };
    o.ws.put_role(&o.admin, portal).await.unwrap();
    let party = Uuid::now_v7();
    let guest = people::guest(&o.ws, party, &["order_portal"]).await;
    let xml = PO_REVIEW.replace("GUEST", &guest.id.to_string()).replace("MANAGER", &o.manager.id.to_string());
    deploy(&o, xml, Some("purchase_order"), &[]).await;
    let input = object(json!({ "subject": "Bolts", "amount": "120", "party": party.to_string() }));
    let Created::Fresh(order) = o.ws.create(&o.admin, "purchase_order", input, None).await.unwrap() else {
        panic!("fresh")
    };
    let order = order.system.id;
    let id =
        o.ws.start_process_for_record(&o.admin, "po_review", "purchase_order", order, Map::new()).await.unwrap().id;

    minute();
    let supplier = only_open_task(&o, id).await;
    o.ws.complete_task(&o.admin, &supplier.id, Map::new()).await.unwrap();
    minute();
    let buyer = only_open_task(&o, id).await;
    o.ws.add_approver(&o.manager, &buyer.id, o.director.id, "before", Some("have a look".into())).await.unwrap();
    minute();
    let first = only_open_task(&o, id).await;
    o.ws.approve_task(&o.director, &first.id, true, Some("fine".into())).await.unwrap();
    minute();
    let back = only_open_task(&o, id).await;
    o.ws.return_task(&o.manager, &back.id, "supplier_confirms", Some("confirm the date".into())).await.unwrap();
    minute();
    let again = only_open_task(&o, id).await;
    o.ws.complete_task(&o.admin, &again.id, Map::new()).await.unwrap();
    minute();
    let buyer = only_open_task(&o, id).await;
    o.ws.transfer_task(&o.manager, &buyer.id, o.cfo.id).await.unwrap();
    minute();
    o.ws.approve_task(&o.cfo, &buyer.id, false, Some("too dear".into())).await.unwrap();
    assert_eq!(status(&o, id).await, "completed");

    // The test kit names everyone `Person <id>`.
    let name = |p: &Principal| format!("Person {}", p.id);
    let (admin, manager, director, cfo, guest_name) =
        (name(&o.admin), name(&o.manager), name(&o.director), name(&o.cfo), name(&guest));
    let timeline = o.ws.timeline(&o.admin, "purchase_order", order).await.unwrap();
    assert_eq!(timeline[0].command, "create", "the record's history comes first");
    // (command, actor, step, to whom, outcome or comment)
    type Seen = (String, Option<String>, Option<String>, Option<String>, Option<String>);
    let seen: Vec<Seen> = timeline
        .iter()
        .filter(|e| e.kind == "process")
        .map(|e| {
            let step = e.process.clone().expect("a process entry has its step");
            assert_eq!(step.instance, id);
            (e.command.clone(), e.actor_name.clone(), step.element, step.to_name, step.outcome.or(step.comment))
        })
        .collect();
    let s = |v: &str| Some(v.to_owned());
    let expected = vec![
        ("process.started".to_owned(), s(&admin), None, None, None),
        ("process.task_created".into(), None, s("supplier_confirms"), s(&guest_name), None),
        ("process.task_completed".into(), s(&admin), s("supplier_confirms"), None, s("completed")),
        ("process.task_created".into(), None, s("buyer_checks"), s(&manager), None),
        ("process.approver_added".into(), s(&manager), s("buyer_checks"), s(&director), s("have a look")),
        ("process.task_created".into(), None, s("buyer_checks"), s(&director), None),
        ("process.task_completed".into(), s(&director), s("buyer_checks"), None, s("approved")),
        ("process.task_created".into(), None, s("buyer_checks"), s(&manager), None),
        ("process.returned".into(), s(&manager), s("buyer_checks"), None, s("confirm the date")),
        ("process.task_cancelled".into(), None, s("buyer_checks"), None, None),
        ("process.task_created".into(), None, s("supplier_confirms"), s(&guest_name), None),
        ("process.task_completed".into(), s(&admin), s("supplier_confirms"), None, s("completed")),
        ("process.task_created".into(), None, s("buyer_checks"), s(&manager), None),
        ("process.transferred".into(), s(&manager), s("buyer_checks"), s(&cfo), None),
        ("process.task_completed".into(), s(&cfo), s("buyer_checks"), None, s("rejected")),
        ("process.ended".into(), None, None, None, s("completed")),
    ];
    assert_eq!(seen, expected);
    let rejected = timeline.iter().rev().find(|e| e.command == "process.task_completed").unwrap();
    let step = rejected.process.as_ref().unwrap();
    assert_eq!((step.comment.as_deref(), step.step_name.as_deref()), (Some("too dear"), Some("Buyer checks")));
    let returned = timeline.iter().find(|e| e.command == "process.returned").unwrap().process.clone().unwrap();
    assert_eq!(returned.to_step_name.as_deref(), Some("Supplier confirms"));
    // A member who may read the order sees the same.
    let members = o.ws.timeline(&o.starter, "purchase_order", order).await.unwrap();
    assert_eq!(members.iter().filter(|e| e.kind == "process").count(), expected.len());

    // The supplier's contact sees its own tasks only: no start, no buyer's steps, no end.
    let theirs = o.ws.timeline(&guest, "purchase_order", order).await.unwrap();
    let commands: Vec<(&str, Option<&str>)> = theirs
        .iter()
        .filter(|e| e.kind == "process")
        .map(|e| (e.command.as_str(), e.process.as_ref().and_then(|p| p.element.as_deref())))
        .collect();
    let supplier = Some("supplier_confirms");
    assert_eq!(
        commands,
        [
            ("process.task_created", supplier),
            ("process.task_completed", supplier),
            ("process.task_created", supplier),
            ("process.task_completed", supplier)
        ]
    );
    assert!(theirs.iter().all(|e| e.process.as_ref().is_none_or(|p| p.comment.is_none())));
    // A guest of another party sees no timeline at all.
    let stranger = people::guest(&o.ws, Uuid::now_v7(), &["order_portal"]).await;
    assert!(matches!(o.ws.timeline(&stranger, "purchase_order", order).await, Err(Error::NotFound(_))));
}
