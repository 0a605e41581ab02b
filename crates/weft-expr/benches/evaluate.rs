//! A simple comparison through Weft's expression interface (parse and check once,
//! evaluate many times), as guards and rule conditions run. Issue target: ≥ 5,000,000/s.
//! Run: `cargo bench -p weft-expr --bench evaluate`.

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rust_decimal::Decimal;
use weft_expr::{Bindings, FieldType, Limits, RecordContext, Schema};
use weft_model::schema::Value;

fn simple_comparison(c: &mut Criterion) {
    let schema = Schema::new().with_var("amount", FieldType::Decimal).with_var("state", FieldType::Text);
    let checked = weft_expr::compile("amount > 10000", &schema, &Limits::default()).expect("compiles");
    let both =
        weft_expr::compile("amount > 10000 and state = \"submitted\"", &schema, &Limits::default()).expect("compiles");
    let bindings = Bindings::new(time::OffsetDateTime::UNIX_EPOCH);
    let records: Vec<BTreeMap<String, Value>> = ["9999.99", "10000", "10000.01", "250000"]
        .iter()
        .map(|a| {
            BTreeMap::from([
                ("amount".to_owned(), Value::Decimal(a.parse::<Decimal>().expect("decimal"))),
                ("state".to_owned(), Value::Text("submitted".into())),
            ])
        })
        .collect();
    let mut i = 0;
    c.bench_function("feel/amount > 10000", |b| {
        b.iter(|| {
            i = (i + 1) % records.len();
            black_box(weft_expr::matches(&checked, &RecordContext::new(&records[i], &bindings)).expect("evaluates"))
        })
    });
    c.bench_function("feel/amount > 10000 and state = \"submitted\"", |b| {
        b.iter(|| {
            i = (i + 1) % records.len();
            black_box(weft_expr::matches(&both, &RecordContext::new(&records[i], &bindings)).expect("evaluates"))
        })
    });
}

criterion_group!(benches, simple_comparison);
criterion_main!(benches);
