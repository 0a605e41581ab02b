//! Deployment refuses a definition with every problem listed, each at its element and line.

mod common;

use weft_expr::{FieldType, Schema};
use weft_process::{Environment, Problem, ProblemCode, deploy, parse};

fn env() -> Environment {
    Environment::new(Schema::new().with_var("amount", FieldType::Decimal).with_var("approved", FieldType::Boolean))
}

fn problems(xml: &str) -> Vec<Problem> {
    match deploy(xml, &env()) {
        Ok(_) => Vec::new(),
        Err(problems) => problems,
    }
}

fn codes(problems: &[Problem]) -> Vec<(String, ProblemCode)> {
    problems.iter().map(|p| (p.element.clone().unwrap_or_default(), p.code)).collect()
}

/// A process of `body` in a Camunda Modeler document.
fn process(body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="d" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="p" isExecutable="true">
{body}
  </bpmn:process>
</bpmn:definitions>"#
    )
}

#[test]
fn a_broken_definition_lists_every_problem_at_once() {
    let found = problems(&common::fixture("broken.bpmn"));
    let got = codes(&found);
    use ProblemCode::*;
    for expected in [
        ("compute", UnsupportedElement),
        ("shout", UnsupportedElement),
        ("big", DuplicateId),
        ("gw", NoDefaultFlow),
        ("f_other", MissingCondition),
        ("f_big", InvalidExpression),
        ("f_small", InvalidExpression),
        ("small", DeadEnd),
        ("orphan", Unreachable),
        ("call_missing", UnknownProcess),
        ("sign_all", NoInputCollection),
        ("lost_timer", UnattachedBoundary),
        ("lost_timer", InvalidTimer),
        ("f_ghost", UnknownReference),
    ] {
        assert!(got.contains(&(expected.0.to_owned(), expected.1)), "missing {expected:?} in\n{found:#?}");
    }
    let compute = found.iter().find(|p| p.element.as_deref() == Some("compute")).expect("compute");
    assert_eq!(compute.line, Some(7));
    assert!(compute.message.contains("scriptTask"), "{}", compute.message);
    let typo = found.iter().find(|p| p.element.as_deref() == Some("f_big")).expect("f_big");
    assert!(typo.message.contains("amount"), "a suggestion is offered: {}", typo.message);
    assert!(!got.iter().any(|(e, c)| e.starts_with('f') && *c == UnknownReference && e != "f_ghost"), "{found:#?}");
    let lines: Vec<u32> = found.iter().filter_map(|p| p.line).collect();
    assert!(lines.windows(2).all(|w| w[0] <= w[1]), "ordered by line: {lines:?}");
}

#[test]
fn malformed_and_foreign_documents_are_refused_whole() {
    for (xml, needle) in [
        ("<bpmn:definitions", "not well-formed"),
        ("<definitions xmlns=\"http://example.org\"/>", "not `definitions` in the BPMN 2.0 namespace"),
        ("<!DOCTYPE x [<!ENTITY a \"b\">]><x/>", "not well-formed"),
    ] {
        let problems = parse(xml).expect_err(xml);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].code, ProblemCode::MalformedXml);
        assert!(problems[0].message.contains(needle), "{}", problems[0].message);
    }
}

#[test]
fn the_namespace_counts_not_the_prefix() {
    let xml = r#"<d:definitions xmlns:d="http://www.omg.org/spec/BPMN/20100524/MODEL" id="x">
      <d:process id="p" isExecutable="true">
        <d:startEvent id="s"/><d:endEvent id="e"/>
        <d:sequenceFlow id="f" sourceRef="s" targetRef="e"/>
      </d:process>
    </d:definitions>"#;
    assert!(deploy(xml, &env()).is_ok());
}

#[test]
fn gateways_need_a_default_unless_they_have_one_way_out() {
    let xml = process(
        r#"<bpmn:startEvent id="s"/>
    <bpmn:exclusiveGateway id="g"/>
    <bpmn:inclusiveGateway id="i"/>
    <bpmn:endEvent id="a"/><bpmn:endEvent id="b"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="g"/>
    <bpmn:sequenceFlow id="f1" sourceRef="g" targetRef="i"><bpmn:conditionExpression>amount &gt; 1</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f2" sourceRef="g" targetRef="a"><bpmn:conditionExpression>amount &lt;= 1</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f3" sourceRef="i" targetRef="b"><bpmn:conditionExpression>=approved</bpmn:conditionExpression></bpmn:sequenceFlow>"#,
    );
    let found = codes(&problems(&xml));
    assert_eq!(found, [("g".to_owned(), ProblemCode::NoDefaultFlow)], "one flow out of `i` needs no default");
}

#[test]
fn conditions_are_checked_against_the_declared_variables_and_types() {
    let xml = process(
        r#"<bpmn:startEvent id="s"/>
    <bpmn:exclusiveGateway id="g" default="f2"/>
    <bpmn:endEvent id="a"/><bpmn:endEvent id="b"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="g"/>
    <bpmn:sequenceFlow id="f1" sourceRef="g" targetRef="a"><bpmn:conditionExpression>=amount</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f2" sourceRef="g" targetRef="b"/>"#,
    );
    let found = problems(&xml);
    assert_eq!(codes(&found), [("f1".to_owned(), ProblemCode::InvalidExpression)]);
    assert!(found[0].message.contains("true or false"), "{}", found[0].message);
}

#[test]
fn starts_are_counted_per_process_and_sub_process() {
    let xml = process(
        r#"<bpmn:startEvent id="s1"/><bpmn:startEvent id="s2"/>
    <bpmn:subProcess id="sub">
      <bpmn:startEvent id="inner_timer"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:startEvent>
      <bpmn:endEvent id="inner_end"/>
      <bpmn:sequenceFlow id="i1" sourceRef="inner_timer" targetRef="inner_end"/>
    </bpmn:subProcess>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s1" targetRef="sub"/>
    <bpmn:sequenceFlow id="f2" sourceRef="s2" targetRef="sub"/>
    <bpmn:sequenceFlow id="f3" sourceRef="sub" targetRef="e"/>"#,
    );
    let found = codes(&problems(&xml));
    assert!(found.contains(&("p".to_owned(), ProblemCode::SeveralNoneStarts)), "{found:?}");
    assert!(found.contains(&("inner_timer".to_owned(), ProblemCode::StartNotAllowed)), "{found:?}");
    assert!(found.contains(&("sub".to_owned(), ProblemCode::NoStartEvent)), "{found:?}");
}

#[test]
fn event_gateways_lead_to_catch_events_and_tasks_take_no_conditions() {
    let xml = process(
        r#"<bpmn:startEvent id="s"/>
    <bpmn:eventBasedGateway id="g"/>
    <bpmn:userTask id="t"/>
    <bpmn:intermediateCatchEvent id="c"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="g"/>
    <bpmn:sequenceFlow id="f1" sourceRef="g" targetRef="t"/>
    <bpmn:sequenceFlow id="f2" sourceRef="g" targetRef="c"/>
    <bpmn:sequenceFlow id="f3" sourceRef="t" targetRef="e"><bpmn:conditionExpression>=approved</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f4" sourceRef="c" targetRef="e"/>"#,
    );
    let found = codes(&problems(&xml));
    assert_eq!(
        found,
        [("t".to_owned(), ProblemCode::InvalidEventGateway), ("f3".to_owned(), ProblemCode::ConditionNotAllowed)]
    );
}

#[test]
fn unsupported_features_are_named() {
    let xml = process(
        r#"<bpmn:startEvent id="s"><bpmn:signalEventDefinition/></bpmn:startEvent>
    <bpmn:complexGateway id="cg"/>
    <bpmn:subProcess id="events" triggeredByEvent="true"><bpmn:startEvent id="es"><bpmn:errorEventDefinition/></bpmn:startEvent></bpmn:subProcess>
    <bpmn:transaction id="tx"/>
    <bpmn:sendTask id="send"/>
    <bpmn:userTask id="loop"><bpmn:standardLoopCharacteristics/></bpmn:userTask>
    <bpmn:endEvent id="e"><bpmn:escalationEventDefinition/></bpmn:endEvent>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="cg"/>
    <bpmn:sequenceFlow id="f1" sourceRef="cg" targetRef="events"/>
    <bpmn:sequenceFlow id="f2" sourceRef="events" targetRef="tx"/>
    <bpmn:sequenceFlow id="f3" sourceRef="tx" targetRef="send"/>
    <bpmn:sequenceFlow id="f4" sourceRef="send" targetRef="loop"/>
    <bpmn:sequenceFlow id="f5" sourceRef="loop" targetRef="e"/>"#,
    );
    let found = problems(&xml);
    let unsupported: Vec<(&str, &str)> = found
        .iter()
        .filter(|p| p.code == ProblemCode::UnsupportedElement)
        .map(|p| (p.element.as_deref().unwrap_or(""), p.message.as_str()))
        .collect();
    assert_eq!(
        unsupported,
        [
            ("s", "a signal start event is not supported"),
            ("cg", "`complexGateway` is not supported"),
            ("events", "an event sub-process is not supported"),
            ("tx", "`transaction` is not supported"),
            ("send", "`sendTask` is not supported"),
            ("loop", "a standard loop (use multi-instance) is not supported"),
            ("e", "a escalation end event is not supported"),
        ],
        "{found:#?}"
    );
    assert_eq!(found.len(), unsupported.len(), "placeholders keep the graph whole: {found:#?}");
}

#[test]
fn a_document_without_an_executable_process_is_refused() {
    let xml = r#"<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
      <bpmn:process id="p" isExecutable="false"><bpmn:startEvent id="s"/><bpmn:endEvent id="e"/>
      <bpmn:sequenceFlow id="f" sourceRef="s" targetRef="e"/></bpmn:process></bpmn:definitions>"#;
    assert_eq!(codes(&problems(xml)), [(String::new(), ProblemCode::NoProcess)]);
}

#[test]
fn a_call_to_a_process_deployed_earlier_is_accepted() {
    let xml = process(
        r#"<bpmn:startEvent id="s"/>
    <bpmn:callActivity id="c"><bpmn:extensionElements><zeebe:calledElement processId="elsewhere"/></bpmn:extensionElements></bpmn:callActivity>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="c"/>
    <bpmn:sequenceFlow id="f1" sourceRef="c" targetRef="e"/>"#,
    );
    assert_eq!(codes(&problems(&xml)), [("c".to_owned(), ProblemCode::UnknownProcess)]);
    assert!(deploy(&xml, &env().with_process("elsewhere")).is_ok());
}

#[test]
fn every_fixture_but_the_broken_one_deploys() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".bpmn") && n != "broken.bpmn")
        .collect();
    names.sort();
    assert!(names.len() >= 10, "{names:?}");
    for name in names {
        common::deployed(&name);
    }
}

#[test]
fn a_documentation_pool_is_not_checked() {
    let xml = r#"<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
      <bpmn:collaboration id="c">
        <bpmn:participant id="us" processRef="p"/>
        <bpmn:participant id="supplier" processRef="theirs"/>
        <bpmn:messageFlow id="m" sourceRef="t" targetRef="their_task"/>
      </bpmn:collaboration>
      <bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="s"/><bpmn:endEvent id="e"/>
        <bpmn:sequenceFlow id="f" sourceRef="s" targetRef="e"/></bpmn:process>
      <bpmn:process id="theirs" isExecutable="false">
        <bpmn:scriptTask id="their_task"/>
        <bpmn:exclusiveGateway id="their_gateway"/>
        <bpmn:sequenceFlow id="g" sourceRef="their_task" targetRef="their_gateway"><bpmn:conditionExpression>${x}</bpmn:conditionExpression></bpmn:sequenceFlow>
      </bpmn:process>
    </bpmn:definitions>"#;
    let deployment = deploy(xml, &env()).expect("the supplier's pool is documentation");
    assert_eq!(deployment.process_ids().collect::<Vec<_>>(), ["p"]);
}
