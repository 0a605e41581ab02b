//! Builds small DMN documents for tests and benchmarks, as Camunda Modeler saves them.
#![allow(dead_code)]

pub const DMN13: &str = "https://www.omg.org/spec/DMN/20191111/MODEL/";

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// One decision table decision over input data of the same names.
/// `inputs`: (name, typeRef); `outputs`: (name, typeRef); rules: (input entries, output entries).
pub fn table(
    decision: &str,
    hit_policy: &str,
    inputs: &[(&str, &str)],
    outputs: &[(&str, &str)],
    rules: &[(&[&str], &[&str])],
) -> String {
    let mut x = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="{DMN13}" id="defs" name="Test" namespace="http://weft.test/dmn">
  <decision id="d1" name="{decision}">
"#
    );
    for (i, _) in inputs.iter().enumerate() {
        x.push_str(&format!(
            r##"    <informationRequirement id="ir{i}"><requiredInput href="#in{i}"/></informationRequirement>
"##
        ));
    }
    let (hp, agg) = match hit_policy.split_once(' ') {
        Some(("COLLECT", a)) => ("COLLECT", format!(r#" aggregation="{a}""#)),
        _ => (hit_policy, String::new()),
    };
    x.push_str(&format!(
        r#"    <decisionTable id="t1" hitPolicy="{hp}"{agg}>
"#
    ));
    for (i, (name, ty)) in inputs.iter().enumerate() {
        x.push_str(&format!(
            r#"      <input id="i{i}" label="{name}"><inputExpression id="ie{i}" typeRef="{ty}"><text>{name}</text></inputExpression></input>
"#
        ));
    }
    for (i, (name, ty)) in outputs.iter().enumerate() {
        x.push_str(&format!(
            r#"      <output id="o{i}" name="{name}" typeRef="{ty}"/>
"#
        ));
    }
    for (r, (ins, outs)) in rules.iter().enumerate() {
        x.push_str(&format!(r#"      <rule id="rule{}">"#, r + 1));
        for (c, e) in ins.iter().enumerate() {
            x.push_str(&format!(r#"<inputEntry id="r{r}i{c}"><text>{}</text></inputEntry>"#, esc(e)));
        }
        for (c, e) in outs.iter().enumerate() {
            x.push_str(&format!(r#"<outputEntry id="r{r}o{c}"><text>{}</text></outputEntry>"#, esc(e)));
        }
        x.push_str("</rule>\n");
    }
    x.push_str("    </decisionTable>\n  </decision>\n");
    for (i, (name, ty)) in inputs.iter().enumerate() {
        x.push_str(&format!(
            r#"  <inputData id="in{i}" name="{name}"><variable id="v{i}" name="{name}" typeRef="{ty}"/></inputData>
"#
        ));
    }
    x.push_str("</definitions>\n");
    x
}

/// The approval matrix of the benchmark: amount × category → approver tier, 5 rules.
pub fn approval_matrix(hit_policy: &str) -> String {
    table(
        "Approver",
        hit_policy,
        &[("amount", "number"), ("category", "string")],
        &[("tier", "string")],
        &[
            (&["< 1000", "-"], &[r#""team lead""#]),
            (&["[1000..10000)", r#""travel","training""#], &[r#""manager""#]),
            (&["[1000..10000)", r#"not("travel","training")"#], &[r#""department head""#]),
            (&[">= 10000", r#""capex""#], &[r#""cfo""#]),
            (&[">= 10000", r#"not("capex")"#], &[r#""finance director""#]),
        ],
    )
}
