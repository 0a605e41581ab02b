//! `live-fanout`: issue 7's realtime target. N WebSocket clients (members of one channel,
//! each subscribed to it over `/api/v1/live` of a server running in this process on
//! SQLite) and M messages posted to the channel one after another: for each delivery, the
//! time from the post's start to the client reading the event. Reports the percentiles and
//! the share delivered within 100 ms.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use futures::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::json;
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use uuid::Uuid;
use weft_model::Principal;
use weft_store::{DatabaseLocation, StoreOptions};
use weft_workspace::Workspace;
use weft_workspace::collab::{NewChannel, NewMessage};
use weft_workspace::identity::{NewPrincipal, NewToken, PrincipalKindName};

use crate::report::{Align, Table};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Concurrent WebSocket clients.
    #[arg(long, default_value_t = 5_000)]
    clients: usize,
    /// Distinct members the clients sign in as (clients are spread over them).
    #[arg(long, default_value_t = 500)]
    members: usize,
    /// Messages posted, one after another.
    #[arg(long, default_value_t = 20)]
    messages: usize,
    /// Pause between two messages.
    #[arg(long, default_value_t = 250)]
    pause_ms: u64,
}

pub async fn run(args: Args) -> Result<String> {
    ensure!(
        args.clients > 0 && args.members > 0 && args.messages > 0,
        "clients, members and messages must be positive"
    );
    let dir = tempfile::tempdir()?;
    let location = DatabaseLocation::parse(None, dir.path())?;
    let workspace = Workspace::connect(&StoreOptions::new(location)).await?;
    workspace.migrate().await?;
    let system = Principal::system();

    eprintln!("live-fanout: {} members, {} clients, {} messages", args.members, args.clients, args.messages);
    let mut members = Vec::new();
    let mut tokens = Vec::new();
    for i in 0..args.members {
        let input = NewPrincipal {
            kind: Some(PrincipalKindName::Member),
            login: format!("member-{i}@weft.test"),
            display_name: format!("Member {i}"),
            roles: Some(vec!["employee".into()]),
            ..NewPrincipal::default()
        };
        let id = workspace.create_principal(&system, input).await?.id;
        let token = NewToken { name: "live".into(), roles: None, expires_at: None };
        tokens.push(workspace.create_token(&Principal::member(id), id, token).await?.token);
        members.push(id);
    }
    let poster = Principal::member(members[0]);
    let channel = workspace
        .create_channel(
            &poster,
            NewChannel { name: "All hands".into(), external: false, members: members[1..].to_vec() },
        )
        .await?
        .id;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let app = weft_server::router(weft_server::AppState {
        workspace: workspace.clone(),
        options: weft_server::ServerOptions::default(),
    });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(weft_server::serve(listener, app, async {
        let _ = stopped.await;
    }));

    // Connect and subscribe every client, a few hundred at a time.
    let started = Instant::now();
    let topic = format!("channel:{channel}");
    let mut sockets = Vec::with_capacity(args.clients);
    for chunk in (0..args.clients).collect::<Vec<_>>().chunks(200) {
        let mut connecting = Vec::new();
        for &i in chunk {
            let token = tokens[i % tokens.len()].clone();
            let topic = topic.clone();
            connecting.push(tokio::spawn(async move {
                let mut request = format!("ws://{address}/api/v1/live").into_client_request()?;
                request.headers_mut().insert("authorization", format!("Bearer {token}").parse()?);
                let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
                socket.next().await.context("hello")??;
                socket.send(Message::Text(json!({"op": "subscribe", "topics": [topic]}).to_string().into())).await?;
                let answer = socket.next().await.context("subscribed")??;
                ensure!(answer.to_text()?.contains("\"subscribed\""), "not subscribed: {answer}");
                Ok::<_, anyhow::Error>(socket)
            }));
        }
        for task in connecting {
            sockets.push(task.await??);
        }
    }
    eprintln!("  {} clients connected and subscribed in {:.1}s", sockets.len(), started.elapsed().as_secs_f64());

    // Each client reads until it has seen every message; the post times are shared.
    let posted: Arc<Mutex<Vec<(Uuid, Instant)>>> = Arc::default();
    let deadline = Duration::from_secs(30 + args.messages as u64 * (args.pause_ms / 1000 + 1));
    let mut readers = Vec::new();
    for mut socket in sockets {
        let posted = posted.clone();
        let expected = args.messages;
        readers.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(expected);
            let until = Instant::now() + deadline;
            while latencies.len() < expected {
                let Ok(Some(Ok(frame))) = tokio::time::timeout_at(until.into(), socket.next()).await else { break };
                let Message::Text(text) = frame else { continue };
                let arrived = Instant::now();
                let Ok(value) = serde_json::from_str::<serde_json::Value>(text.as_str()) else { continue };
                if value["kind"] != "event" || value["event"] != "message.posted" {
                    continue;
                }
                let Some(id) = value["data"]["message"].as_str().and_then(|s| Uuid::parse_str(s).ok()) else {
                    continue;
                };
                if let Some((_, at)) = posted.lock().await.iter().find(|(m, _)| *m == id) {
                    latencies.push(arrived.duration_since(*at));
                }
            }
            latencies
        }));
    }

    for i in 0..args.messages {
        let at = Instant::now();
        let message = NewMessage {
            body: format!("announcement {i}"),
            visibility: None,
            reply_to: None,
            mentions: Vec::new(),
            records: Vec::new(),
            attachments: Vec::new(),
        };
        let view = workspace.post_in_channel(&poster, channel, message).await?;
        posted.lock().await.push((view.id, at));
        tokio::time::sleep(Duration::from_millis(args.pause_ms)).await;
    }

    let mut histogram = Histogram::<u64>::new(3)?;
    let mut within = 0u64;
    let mut missing = 0usize;
    for reader in readers {
        let latencies = reader.await?;
        missing += args.messages - latencies.len();
        for l in latencies {
            histogram.record(l.as_micros() as u64)?;
            if l <= Duration::from_millis(100) {
                within += 1;
            }
        }
    }
    let _ = stop.send(());
    let _ = server.await;
    let expected = (args.clients * args.messages) as u64;
    let ms = |q: f64| format!("{:.1}", histogram.value_at_quantile(q) as f64 / 1000.0);
    let mut table = Table::new(&[
        ("Clients", Align::Right),
        ("Messages", Align::Right),
        ("Deliveries", Align::Right),
        ("Missing", Align::Right),
        ("p50 ms", Align::Right),
        ("p90 ms", Align::Right),
        ("p99 ms", Align::Right),
        ("max ms", Align::Right),
        ("Within 100 ms", Align::Right),
    ]);
    table.push(vec![
        args.clients.to_string(),
        args.messages.to_string(),
        histogram.len().to_string(),
        missing.to_string(),
        ms(0.5),
        ms(0.9),
        ms(0.99),
        format!("{:.1}", histogram.max() as f64 / 1000.0),
        format!("{:.2}%", 100.0 * within as f64 / expected as f64),
    ]);
    Ok(table.to_markdown())
}
