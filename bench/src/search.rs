//! `search`: J10's full-text search on a SQLite workspace. N records (subject and body
//! in Chinese and English, over many parties) and M thread messages are loaded, then:
//! the index is built from the tables (documents per second), a burst of edits is applied
//! from the outbox (events per second), changes are timed from commit to searchable with
//! the indexer running, and queries are timed as a member (everything readable) and as a
//! guest (one party's share, so most candidates are skipped or re-checked away).

use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use hdrhistogram::Histogram;
use serde_json::{Map, Value as Json, json};
use uuid::Uuid;
use weft_model::Principal;
use weft_model::schema::MessageVisibility;
use weft_store::{DatabaseLocation, StoreOptions};
use weft_workspace::collab::NewMessage;
use weft_workspace::search::{SearchIndex, SearchQuery};
use weft_workspace::{BulkMode, DeclareOptions, Workspace};

use crate::common::{Rng, employee, micros, new_histogram};
use crate::report::{Align, Table, micros_as_ms, rate, thousands};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Records loaded.
    #[arg(long, default_value_t = 100_000)]
    records: usize,
    /// Thread messages posted on them.
    #[arg(long, default_value_t = 20_000)]
    messages: usize,
    /// Parties the records are spread over (the guest sees one).
    #[arg(long, default_value_t = 200)]
    parties: usize,
    /// Queries timed per principal.
    #[arg(long, default_value_t = 300)]
    queries: usize,
}

const ZH: &[&str] = &[
    "交货延迟",
    "原因",
    "港口拥堵",
    "质量问题",
    "付款",
    "发票",
    "合同",
    "不锈钢",
    "铜管",
    "包装破损",
    "供应商",
    "采购订单",
    "验收",
    "退货",
    "价格调整",
    "运输",
    "报关",
    "库存",
    "样品",
    "返工",
];
const EN: &[&str] = &[
    "late",
    "delivery",
    "invoice",
    "payment",
    "steel",
    "copper",
    "customs",
    "warehouse",
    "sample",
    "rework",
    "pallet",
    "container",
    "shipment",
    "quality",
    "inspection",
    "discount",
    "contract",
    "supplier",
    "order",
    "pump",
];
const QUERIES: &[&str] = &[
    "交货延迟 原因",
    "late delivery",
    "港口拥堵",
    "steel invoice",
    "质量问题 返工",
    "customs container",
    "付款",
    "pump",
];

fn sentence(rng: &mut Rng, words: usize) -> String {
    (0..words)
        .map(|i| if i % 2 == 0 { ZH[rng.below(ZH.len())] } else { EN[rng.below(EN.len())] })
        .collect::<Vec<_>>()
        .join(" ")
}

fn percentiles(h: &Histogram<u64>) -> [String; 3] {
    [
        micros_as_ms(h.value_at_quantile(0.5)),
        micros_as_ms(h.value_at_quantile(0.95)),
        micros_as_ms(h.value_at_quantile(0.99)),
    ]
}

pub async fn run(args: Args) -> Result<String> {
    ensure!(args.records > 0 && args.parties > 0 && args.queries > 0, "records, parties and queries must be positive");
    let dir = tempfile::tempdir()?;
    let location = DatabaseLocation::parse(None, dir.path())?;
    let workspace = Workspace::connect(&StoreOptions::new(location))
        .await?
        .with_search_index(SearchIndex::open(&dir.path().join("search"))?);
    workspace.migrate().await?;
    let system = Principal::system();
    let decl = json!({
        "name": "ticket", "label": {"en": "Ticket", "zh": "工单"}, "title_field": "subject",
        "fields": [
            {"name": "subject", "label": {"en": "Subject", "zh": "主题"}, "type": "text"},
            {"name": "body", "label": {"en": "Body", "zh": "内容"}, "type": "long_text"}
        ]
    });
    workspace.declare_type(&system, serde_json::from_value(decl)?, &DeclareOptions::default()).await?;
    let parties: Vec<Uuid> = (0..args.parties).map(|_| Uuid::now_v7()).collect();
    let mut rng = Rng::new(42);

    eprintln!("search: loading {} records and {} messages", args.records, args.messages);
    let load = Instant::now();
    let mut ids = Vec::with_capacity(args.records);
    for start in (0..args.records).step_by(1000) {
        let rows: Vec<Map<String, Json>> = (start..(start + 1000).min(args.records))
            .map(|i| {
                let subject = format!("{} #{i}", sentence(&mut rng, 3));
                let body = sentence(&mut rng, 24);
                let row = json!({"subject": subject, "body": body, "party": parties[i % parties.len()].to_string()});
                row.as_object().cloned().unwrap_or_default()
            })
            .collect();
        for row in workspace.bulk_create(&system, "ticket", rows, BulkMode::AllOrNothing).await? {
            if let weft_workspace::BulkRow::Created(view) = row {
                ids.push(view.system.id);
            }
        }
    }
    let staff = employee(&workspace).await?;
    let mut posting = Vec::new();
    for i in 0..args.messages {
        let body = sentence(&mut rng, 12);
        let (ws, who, id) = (workspace.clone(), staff.clone(), ids[(i * 7) % ids.len()]);
        let visibility = if i % 2 == 0 { MessageVisibility::Shared } else { MessageVisibility::Internal };
        posting.push(tokio::spawn(async move {
            let message = NewMessage {
                body,
                visibility: Some(visibility),
                reply_to: None,
                mentions: Vec::new(),
                records: Vec::new(),
                attachments: Vec::new(),
            };
            ws.post_on_record(&who, "ticket", id, message).await.map(|_| ())
        }));
        if posting.len() == 64 {
            for task in posting.drain(..) {
                task.await??;
            }
        }
    }
    for task in posting {
        task.await??;
    }
    eprintln!("  loaded in {:.1}s", load.elapsed().as_secs_f64());

    // Built from the tables.
    let started = Instant::now();
    let built = workspace.index_pending().await?;
    let build = started.elapsed();
    ensure!(built.rebuilt, "the fresh index was built from the tables");

    // Followed from the outbox: a burst of edits, applied in one pass.
    let edits = 2_000.min(ids.len());
    for chunk in ids[..edits].chunks(64) {
        let mut pending = Vec::new();
        for id in chunk {
            let (ws, id) = (workspace.clone(), *id);
            let input = json!({"subject": format!("rework pallet {id}")}).as_object().cloned().unwrap_or_default();
            pending.push(tokio::spawn(async move { ws.update(&Principal::system(), "ticket", id, None, input).await }));
        }
        for task in pending {
            task.await??;
        }
    }
    let started = Instant::now();
    let followed = workspace.index_pending().await?;
    let follow = started.elapsed();

    // Commit to searchable, with the indexer running as in `weft serve`.
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let indexer = workspace.spawn_search_indexer(stopping);
    let mut fresh = new_histogram()?;
    for i in 0..20 {
        let word = format!("freshness{i}x");
        let input = json!({"subject": word.clone(), "party": parties[0].to_string()});
        let committed = Instant::now();
        workspace.create(&system, "ticket", input.as_object().cloned().unwrap_or_default(), None).await?;
        loop {
            let page = workspace.search(&staff, &SearchQuery { q: word.clone(), ..SearchQuery::default() }).await?;
            if !page.hits.is_empty() {
                break;
            }
            ensure!(committed.elapsed() < Duration::from_secs(10), "not searchable after 10 s");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        fresh.record(micros(committed.elapsed()))?;
    }
    let _ = stop.send(true);
    indexer.await?;

    let guest = guest_of(&workspace, parties[0]).await?;
    let mut table = Table::new(&[
        ("measure", Align::Left),
        ("count", Align::Right),
        ("time", Align::Right),
        ("rate", Align::Right),
    ]);
    table.push(vec![
        "build from tables (records + messages)".into(),
        thousands(built.documents),
        format!("{:.1} s", build.as_secs_f64()),
        format!("{} docs/s", rate(built.documents as f64 / build.as_secs_f64())),
    ]);
    table.push(vec![
        "follow the outbox (record updates)".into(),
        thousands(followed.events),
        format!("{:.2} s", follow.as_secs_f64()),
        format!("{} events/s", rate(followed.events as f64 / follow.as_secs_f64())),
    ]);
    let [p50, p95, p99] = percentiles(&fresh);
    table.push(vec![
        "commit → searchable (p50 / p95 / p99)".into(),
        "20".into(),
        format!("{p50} / {p95} / {p99}"),
        String::new(),
    ]);
    for (who, principal) in [("member", &staff), ("guest (one party)", &guest)] {
        let mut latency = new_histogram()?;
        let mut hits = 0;
        for i in 0..args.queries {
            let query = SearchQuery { q: QUERIES[i % QUERIES.len()].into(), ..SearchQuery::default() };
            let started = Instant::now();
            hits += workspace.search(principal, &query).await?.hits.len();
            latency.record(micros(started.elapsed()))?;
        }
        let [p50, p95, p99] = percentiles(&latency);
        table.push(vec![
            format!("query as {who}, page of 20 (p50 / p95 / p99)"),
            thousands(args.queries as u64),
            format!("{p50} / {p95} / {p99}"),
            format!("{:.1} hits/page", hits as f64 / args.queries as f64),
        ]);
    }
    let index_bytes: u64 = std::fs::read_dir(dir.path().join("search"))?
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum();
    table.push(vec![
        "index size on disk".into(),
        String::new(),
        format!("{:.1} MB", index_bytes as f64 / 1e6),
        String::new(),
    ]);
    workspace.close().await;
    Ok(table.to_markdown())
}

/// A guest of `party` holding the built-in `guest` role (reads its party's records).
async fn guest_of(workspace: &Workspace, party: Uuid) -> Result<Principal> {
    use weft_workspace::identity::{NewPrincipal, PrincipalKindName};
    let login = format!("guest-{}@weft.test", Uuid::now_v7().simple());
    let input = NewPrincipal {
        kind: Some(PrincipalKindName::Guest),
        display_name: login.clone(),
        login,
        party: Some(party),
        roles: Some(vec!["guest".to_owned()]),
        ..NewPrincipal::default()
    };
    let created = workspace.create_principal(&Principal::system(), input).await?;
    Ok(Principal::new(created.id, weft_model::PrincipalKind::Guest { party }))
}
