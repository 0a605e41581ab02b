//! Behaviour of Weft's decision interface: hit policies (on the fast path and on the
//! engine, which must agree), requirement graphs with business knowledge models,
//! explanations, JSON mapping, deploy-time problems and hostile input.

mod common;

use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;
use weft_decision::{DecisionModel, EvalError, EvalOptions, Limits, ProblemKind, Value};

fn n(s: &str) -> Value {
    Value::number(s).unwrap()
}

fn s(x: &str) -> Value {
    Value::string(x)
}

fn input(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

/// Evaluates on both paths, checks they agree (value and matched rules), returns the fast one.
fn both(model: &DecisionModel, decision: &str, values: &BTreeMap<String, Value>) -> (Value, Vec<usize>) {
    let fast = model.evaluate_values(decision, values, &EvalOptions::default()).unwrap();
    let engine = model.evaluate_values(decision, values, &EvalOptions { explain: true, engine_only: true }).unwrap();
    assert_eq!(fast.value, engine.value, "fast path and engine disagree on {values:?}");
    let rules =
        |o: &weft_decision::DecisionOutcome| o.explanation.last().map(|t| t.matched_rules.clone()).unwrap_or_default();
    assert_eq!(rules(&fast), rules(&engine), "matched rules disagree on {values:?}");
    let matched = rules(&fast);
    (fast.value, matched)
}

fn scoring(hit_policy: &str) -> DecisionModel {
    let xml = common::table(
        "Score",
        hit_policy,
        &[("age", "number")],
        &[("score", "number")],
        &[(&["< 30"], &["10"]), (&["< 50"], &["20"]), (&[">= 18"], &["5"]), (&["> 100"], &["1"])],
    );
    let model = DecisionModel::parse(&xml).unwrap();
    assert!(model.decisions()[0].fast_path, "a table of literals takes the fast path");
    model
}

#[test]
fn unique_returns_the_single_match_and_null_on_overlap() {
    let m = scoring("UNIQUE");
    assert_eq!(both(&m, "Score", &input(&[("age", n("10"))])), (Value::Null, vec![1, 2]));
    assert_eq!(both(&m, "Score", &input(&[("age", n("60"))])), (n("5"), vec![3]));
    assert_eq!(both(&m, "Score", &input(&[("age", n("200"))])), (Value::Null, vec![3, 4]));
}

#[test]
fn first_returns_the_first_match_in_rule_order() {
    let m = scoring("FIRST");
    assert_eq!(both(&m, "Score", &input(&[("age", n("20"))])), (n("10"), vec![1, 2, 3]));
    assert_eq!(both(&m, "Score", &input(&[("age", n("5"))])).0, n("10"));
    assert_eq!(both(&m, "Score", &input(&[("age", Value::Null)])), (Value::Null, vec![]));
}

#[test]
fn any_accepts_agreeing_matches_only() {
    let xml = common::table(
        "Ok",
        "ANY",
        &[("x", "number")],
        &[("ok", "string")],
        &[(&["> 0"], &[r#""yes""#]), (&["> 10"], &[r#""yes""#]), (&["> 100"], &[r#""no""#])],
    );
    let m = DecisionModel::parse(&xml).unwrap();
    assert_eq!(both(&m, "Ok", &input(&[("x", n("50"))])).0, s("yes"));
    assert_eq!(both(&m, "Ok", &input(&[("x", n("500"))])).0, Value::Null);
}

#[test]
fn priority_and_output_order_follow_the_output_values() {
    for (policy, expected) in
        [("PRIORITY", s("high")), ("OUTPUT ORDER", Value::List(vec![s("high"), s("medium"), s("low")]))]
    {
        let mut xml = common::table(
            "Risk",
            policy,
            &[("x", "number")],
            &[("risk", "string")],
            &[(&["> 0"], &[r#""low""#]), (&["> 10"], &[r#""high""#]), (&["> 5"], &[r#""medium""#])],
        );
        xml = xml.replace(
            r#"<output id="o0" name="risk" typeRef="string"/>"#,
            r#"<output id="o0" name="risk" typeRef="string"><outputValues><text>"high","medium","low"</text></outputValues></output>"#,
        );
        let m = DecisionModel::parse(&xml).unwrap();
        assert!(m.decisions()[0].fast_path);
        let (v, rules) = both(&m, "Risk", &input(&[("x", n("20"))]));
        assert_eq!(v, expected, "{policy}");
        assert_eq!(rules, vec![1, 2, 3]);
    }
}

#[test]
fn collect_lists_and_aggregates() {
    let x = input(&[("age", n("20"))]); // rules 1, 2, 3 match: 10, 20, 5
    assert_eq!(both(&scoring("COLLECT"), "Score", &x).0, Value::List(vec![n("10"), n("20"), n("5")]));
    assert_eq!(both(&scoring("COLLECT SUM"), "Score", &x).0, n("35"));
    assert_eq!(both(&scoring("COLLECT MIN"), "Score", &x).0, n("5"));
    assert_eq!(both(&scoring("COLLECT MAX"), "Score", &x).0, n("20"));
    assert_eq!(both(&scoring("COLLECT COUNT"), "Score", &x).0, n("3"));
    assert_eq!(both(&scoring("RULE ORDER"), "Score", &x).0, Value::List(vec![n("10"), n("20"), n("5")]));
}

#[test]
fn several_outputs_make_a_context() {
    let xml = common::table(
        "Route",
        "FIRST",
        &[("amount", "number"), ("region", "string")],
        &[("queue", "string"), ("sla", "number")],
        &[(&["> 1000", r#""EU""#], &[r#""eu-large""#, "2"]), (&["-", "-"], &[r#""default""#, "5"])],
    );
    let m = DecisionModel::parse(&xml).unwrap();
    assert_eq!(m.decisions()[0].output_components, vec!["queue", "sla"]);
    let (v, rules) = both(&m, "Route", &input(&[("amount", n("5000")), ("region", s("EU"))]));
    assert_eq!(v.to_json(), json!({"queue": "eu-large", "sla": "2"}));
    assert_eq!(rules, vec![1, 2]);
}

#[test]
fn approval_matrix_reads_json_with_exact_decimals() {
    let m = DecisionModel::parse(&common::approval_matrix("UNIQUE")).unwrap();
    let info = &m.decisions()[0];
    assert_eq!(info.name, "Approver");
    assert_eq!(info.hit_policy.as_deref(), Some("UNIQUE"));
    assert_eq!(info.inputs.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(), vec!["amount", "category"]);
    for (amount, category, tier, rule) in [
        (json!(999.99), "office", "team lead", 1),
        (json!("1000.00"), "travel", "manager", 2),
        (json!("9999.999999999999999999"), "office", "department head", 3),
        (json!(10000), "capex", "cfo", 4),
        (json!("10000"), "office", "finance director", 5),
    ] {
        let out = m.evaluate("Approver", &json!({"amount": amount, "category": category})).unwrap();
        assert_eq!(out.value, s(tier), "{amount} {category}");
        assert_eq!(out.explanation[0].matched_rules, vec![rule]);
        assert_eq!(out.explanation[0].matched_rule_ids, vec![format!("rule{rule}")]);
        assert_eq!(out.to_json()["value"], json!(tier));
    }
    assert!(matches!(m.evaluate("Approver", &json!([1])), Err(EvalError::InputNotAnObject)));
    match m.evaluate("Aprover", &json!({})) {
        Err(EvalError::UnknownDecision { suggestion, .. }) => assert_eq!(suggestion.as_deref(), Some("Approver")),
        other => panic!("{other:?}"),
    }
}

const DRG: &str = r##"<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="drg" name="Loan" namespace="http://weft.test/loan">
  <inputData id="income" name="Monthly Income"><variable name="Monthly Income" typeRef="number"/></inputData>
  <inputData id="debt" name="Monthly Debt"><variable name="Monthly Debt" typeRef="number"/></inputData>
  <inputData id="since" name="Employed Since"><variable name="Employed Since" typeRef="date"/></inputData>
  <businessKnowledgeModel id="ratioBkm" name="Debt Ratio">
    <variable name="Debt Ratio"/>
    <encapsulatedLogic>
      <formalParameter name="income" typeRef="number"/>
      <formalParameter name="debt" typeRef="number"/>
      <literalExpression><text>debt / income</text></literalExpression>
    </encapsulatedLogic>
  </businessKnowledgeModel>
  <decision id="ratio" name="Ratio">
    <variable name="Ratio" typeRef="number"/>
    <informationRequirement><requiredInput href="#income"/></informationRequirement>
    <informationRequirement><requiredInput href="#debt"/></informationRequirement>
    <knowledgeRequirement><requiredKnowledge href="#ratioBkm"/></knowledgeRequirement>
    <literalExpression><text>Debt Ratio(Monthly Income, Monthly Debt)</text></literalExpression>
  </decision>
  <decision id="grade" name="Grade">
    <variable name="Grade" typeRef="string"/>
    <informationRequirement><requiredDecision href="#ratio"/></informationRequirement>
    <informationRequirement><requiredInput href="#since"/></informationRequirement>
    <decisionTable hitPolicy="FIRST">
      <input><inputExpression typeRef="number"><text>Ratio</text></inputExpression></input>
      <input><inputExpression typeRef="date"><text>Employed Since</text></inputExpression></input>
      <output name="grade" typeRef="string"/>
      <rule id="g1"><inputEntry><text>&lt; 0.3</text></inputEntry><inputEntry><text>&lt;= date("2024-01-01")</text></inputEntry><outputEntry><text>"A"</text></outputEntry></rule>
      <rule id="g2"><inputEntry><text>&lt; 0.3</text></inputEntry><inputEntry><text>-</text></inputEntry><outputEntry><text>"B"</text></outputEntry></rule>
      <rule id="g3"><inputEntry><text>-</text></inputEntry><inputEntry><text>-</text></inputEntry><outputEntry><text>"C"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>"##;

#[test]
fn requirement_graph_with_a_business_knowledge_model_and_explanation() {
    let m = DecisionModel::parse(DRG).unwrap();
    let grade = m.decisions().into_iter().find(|d| d.name == "Grade").unwrap();
    assert_eq!(grade.requires, vec!["Ratio"]);
    assert!(!grade.fast_path, "a date comparison goes to the engine");
    assert_eq!(
        grade.inputs.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(),
        vec!["Employed Since", "Monthly Debt", "Monthly Income"]
    );
    let out = m
        .evaluate("Grade", &json!({"Monthly Income": "5000", "Monthly Debt": 1000, "Employed Since": "2020-05-01"}))
        .unwrap();
    assert_eq!(out.value, s("A"));
    assert_eq!(out.explanation.len(), 1);
    assert_eq!(out.explanation[0].decision, "Grade");
    assert_eq!(out.explanation[0].matched_rules, vec![1, 2, 3]);
    let out = m.evaluate("Ratio", &json!({"Monthly Income": 3, "Monthly Debt": 1})).unwrap();
    assert_eq!(out.value.to_json(), json!("0.3333333333333333333333333333333333"));
    let out = m.evaluate("Grade", &json!({"Monthly Income": 1000, "Monthly Debt": 900})).unwrap();
    assert_eq!((out.value, out.explanation[0].matched_rules.clone()), (s("C"), vec![3]));
}

#[test]
fn arithmetic_is_decimal() {
    let xml = DRG.replace("debt / income", "0.1 + 0.2");
    let m = DecisionModel::parse(&xml).unwrap();
    let out = m.evaluate("Ratio", &json!({})).unwrap();
    assert_eq!(out.value, n("0.3"));
}

#[test]
fn dmn_1_2_and_camunda_type_names_are_accepted() {
    let xml = common::approval_matrix("FIRST")
        .replace(common::DMN13, "http://www.omg.org/spec/DMN/20180521/MODEL/")
        .replace(r#"typeRef="number""#, r#"typeRef="integer""#);
    let m = DecisionModel::parse(&xml).unwrap();
    assert_eq!(m.evaluate("Approver", &json!({"amount": 50000, "category": "capex"})).unwrap().value, s("cfo"));
}

fn problems(xml: &str) -> Vec<(ProblemKind, Option<String>)> {
    match DecisionModel::parse(xml) {
        Ok(_) => vec![],
        Err(p) => p.into_iter().map(|p| (p.kind, p.element)).collect(),
    }
}

#[test]
fn invalid_models_list_every_problem() {
    let xml = r##"<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="x" name="Bad" namespace="n">
  <inputData id="a" name="Amount"><variable name="Amount"/></inputData>
  <inputData id="a2" name="Amount"><variable name="Amount"/></inputData>
  <decision id="d1" name="One">
    <informationRequirement><requiredDecision href="#d2"/></informationRequirement>
    <informationRequirement><requiredInput href="#nowhere"/></informationRequirement>
    <decisionTable hitPolicy="SOMETIMES">
      <input><inputExpression><text>Amount</text></inputExpression></input>
      <output name="o"/>
      <rule><inputEntry><text>1</text></inputEntry><inputEntry><text>2</text></inputEntry><outputEntry><text>1</text></outputEntry></rule>
    </decisionTable>
  </decision>
  <decision id="d2" name="Two">
    <informationRequirement><requiredDecision href="#d1"/></informationRequirement>
    <decisionTable hitPolicy="FIRST" aggregation="SUM"><output/></decisionTable>
  </decision>
  <decision id="d3" name="Three"><literalExpression><text>function(x) external {java: {class: "java.lang.Runtime", method signature: "exit(int)"}}</text></literalExpression></decision>
</definitions>"##;
    let found = problems(xml);
    let kinds: Vec<ProblemKind> = found.iter().map(|p| p.0).collect();
    for expected in [
        ProblemKind::DuplicateName,
        ProblemKind::UnresolvedReference,
        ProblemKind::Cycle,
        ProblemKind::InvalidTable,
        ProblemKind::Unsupported,
    ] {
        assert!(kinds.contains(&expected), "{expected:?} missing from {found:?}");
    }
    assert!(found.iter().filter(|p| p.0 == ProblemKind::InvalidTable).count() >= 2, "{found:?}");
    assert_eq!(problems("not xml <")[0].0, ProblemKind::InvalidXml);
    assert_eq!(problems("<definitions xmlns='urn:other'/>")[0].0, ProblemKind::NotDmn);
    // a FEEL syntax error is the engine's to find
    let broken = common::approval_matrix("FIRST").replace("&lt; 1000", "&lt; (((");
    assert_eq!(problems(&broken)[0].0, ProblemKind::InvalidModel);
}

#[test]
fn hostile_xml_is_refused_within_bounds() {
    // entity expansion (billion laughs) needs a DTD, which is refused
    let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><definitions>&lol2;</definitions>"#;
    assert_eq!(problems(laughs)[0].0, ProblemKind::InvalidXml);
    // deep nesting
    let deep = format!(
        "<definitions xmlns='{}'>{}{}</definitions>",
        common::DMN13,
        "<a>".repeat(50_000),
        "</a>".repeat(50_000)
    );
    assert_eq!(problems(&deep)[0].0, ProblemKind::TooLarge);
    // too large
    let huge = format!("<definitions xmlns='{}'><!--{}--></definitions>", common::DMN13, "x".repeat(5 << 20));
    assert_eq!(problems(&huge)[0].0, ProblemKind::TooLarge);
    // deeply bracketed FEEL
    let nested = DRG.replace("debt / income", &format!("{}1{}", "(".repeat(500), ")".repeat(500)));
    assert_eq!(problems(&nested)[0].0, ProblemKind::TooLarge);
    // a long but flat expression compiles and evaluates
    let long = DRG.replace("debt / income", &vec!["1"; 3000].join(" + "));
    let m = DecisionModel::parse(&long).unwrap();
    assert_eq!(m.evaluate("Ratio", &json!({})).unwrap().value, n("3000"));
}

#[test]
fn hostile_input_values_do_not_break_evaluation() {
    let m = DecisionModel::parse(&common::approval_matrix("FIRST")).unwrap();
    for value in [
        json!(null),
        json!(true),
        json!("x".repeat(100_000)),
        json!([[[[1]]]]),
        json!({"a": {"b": 1}}),
        json!(1e300),
        json!(-0.0),
    ] {
        let out = m.evaluate("Approver", &json!({"amount": value.clone(), "category": value})).unwrap();
        assert!(matches!(out.value, Value::Null | Value::String(_)));
    }
}

#[test]
fn slow_evaluations_time_out() {
    let xml = DRG.replace("debt / income", "count(for i in 1..200000 return i * i)");
    let limits = Limits { eval_timeout: Duration::from_millis(1), ..Limits::default() };
    let m = DecisionModel::parse_with(&xml, &[], &limits).unwrap();
    match m.evaluate("Ratio", &json!({})) {
        Err(EvalError::Timeout { millis: 1 }) => {}
        other => panic!("expected a timeout, got {other:?}"),
    }
}

const RECURSIVE: &str = r##"<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="x" name="R" namespace="http://weft.test/r">
  <businessKnowledgeModel id="b" name="Down">
    <variable name="Down"/>
    <encapsulatedLogic><formalParameter name="n" typeRef="number"/><literalExpression><text>Down(n + 1)</text></literalExpression></encapsulatedLogic>
  </businessKnowledgeModel>
  <decision id="d" name="D"><variable name="D"/>
    <knowledgeRequirement><requiredKnowledge href="#b"/></knowledgeRequirement>
    <literalExpression><text>Down(1)</text></literalExpression></decision>
  <decision id="e" name="E"><variable name="E"/>
    <literalExpression><text>{f: function(n) g(n), g: function(n) f(n + 1), ok: function(x) x, r: f(ok(1))}.r</text></literalExpression></decision>
</definitions>"##;

#[test]
fn recursion_is_refused_at_deploy_time() {
    let found = problems(RECURSIVE);
    let names: Vec<Option<String>> =
        found.iter().filter(|p| p.0 == ProblemKind::Unsupported).map(|p| p.1.clone()).collect();
    for n in ["Down", "f", "g"] {
        assert!(names.contains(&Some(n.to_string())), "{n} missing from {found:?}");
    }
    assert!(!names.contains(&Some("ok".to_string())));
    // a business knowledge model requiring itself would send the engine's compiler into
    // endless recursion: refused even when recursion is allowed
    let self_required = RECURSIVE.replace(
        r#"<variable name="Down"/>"#,
        r##"<variable name="Down"/><knowledgeRequirement><requiredKnowledge href="#b"/></knowledgeRequirement>"##,
    );
    let limits = Limits { allow_recursion: true, ..Limits::default() };
    let err = DecisionModel::parse_with(&self_required, &[], &limits).unwrap_err();
    assert_eq!(err[0].kind, ProblemKind::Cycle);
}
