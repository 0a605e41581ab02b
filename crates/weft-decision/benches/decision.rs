//! A 5-rule approval matrix (amount × category → approver tier) evaluated through Weft's
//! interface. Run: `cargo bench -p weft-decision --bench decision`.
use criterion::{Criterion, criterion_group, criterion_main};
use std::collections::BTreeMap;
use std::hint::black_box;
use weft_decision::{DecisionModel, EvalOptions, Value};

#[path = "../tests/common/mod.rs"]
mod common;

fn approval_matrix(c: &mut Criterion) {
    let model = DecisionModel::parse(&common::approval_matrix("FIRST")).expect("valid model");
    let unique = DecisionModel::parse(&common::approval_matrix("UNIQUE")).expect("valid model");
    let amounts = ["250", "4200.50", "12000", "99999.99"];
    let categories = ["travel", "capex", "office"];
    let inputs: Vec<BTreeMap<String, Value>> = amounts
        .iter()
        .flat_map(|a| {
            categories.iter().map(move |c| {
                BTreeMap::from([
                    ("amount".to_string(), Value::number(a).unwrap()),
                    ("category".to_string(), Value::string(*c)),
                ])
            })
        })
        .collect();
    let json: Vec<serde_json::Value> = inputs
        .iter()
        .map(|i| serde_json::json!({"amount": i["amount"].to_json(), "category": i["category"].to_json()}))
        .collect();
    let explain = EvalOptions::default();
    let quiet = EvalOptions { explain: false, engine_only: false };
    let engine = EvalOptions { explain: false, engine_only: true };

    let mut n = 0usize;
    c.bench_function("approval_matrix/first/typed+explain", |b| {
        b.iter(|| {
            n = (n + 1) % inputs.len();
            black_box(model.evaluate_values("Approver", &inputs[n], &explain).unwrap())
        })
    });
    c.bench_function("approval_matrix/unique/typed", |b| {
        b.iter(|| {
            n = (n + 1) % inputs.len();
            black_box(unique.evaluate_values("Approver", &inputs[n], &quiet).unwrap())
        })
    });
    c.bench_function("approval_matrix/first/json+explain", |b| {
        b.iter(|| {
            n = (n + 1) % json.len();
            black_box(model.evaluate("Approver", &json[n]).unwrap())
        })
    });
    c.bench_function("approval_matrix/first/engine_only", |b| {
        b.iter(|| {
            n = (n + 1) % inputs.len();
            black_box(model.evaluate_values("Approver", &inputs[n], &engine).unwrap())
        })
    });
}

criterion_group!(benches, approval_matrix);
criterion_main!(benches);
