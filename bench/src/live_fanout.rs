//! `live-fanout`: issue 7's realtime target. N WebSocket clients (members of one channel,
//! each subscribed to it over `/api/v1/live` of a server running in this process on
//! SQLite) and M messages posted to the channel one after another: for each delivery, the
//! time from the post's start to the client reading the event. Reports the percentiles and
//! the share delivered within 100 ms.
//!
//! By default the clients run in this process, beside the server. With
//! `--clients-process` they run in a second process (this binary again, as
//! `live-fanout --clients-only --spec <file>`), so their reading and parsing is not done by
//! the server's runtime (it still shares the machine's cores). Post and arrival times are
//! then compared on the system clock, which both processes read.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail, ensure};
use futures::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
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
    /// Run the clients in a second process (this binary with `--clients-only`).
    #[arg(long)]
    clients_process: bool,
    /// Be the clients only: connect as the spec file says, read, report arrivals as JSON
    /// on stdout (used by `--clients-process`).
    #[arg(long, requires = "spec")]
    clients_only: bool,
    /// The clients' spec (JSON: url, topic, tokens, clients, messages, deadline).
    #[arg(long)]
    spec: Option<PathBuf>,
}

/// What the clients' process needs to know.
#[derive(Debug, Serialize, Deserialize)]
struct Spec {
    url: String,
    topic: String,
    tokens: Vec<String>,
    clients: usize,
    messages: usize,
    deadline_secs: u64,
}

/// What the clients' process reports: per message id, when each client read it
/// (microseconds since the Unix epoch).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Arrivals {
    by_message: HashMap<Uuid, Vec<u64>>,
}

/// The part of an event frame a client needs to tell which message arrived.
#[derive(Debug, Deserialize)]
struct Frame<'a> {
    #[serde(borrow)]
    kind: &'a str,
    #[serde(default, borrow)]
    event: Option<&'a str>,
    #[serde(default)]
    data: Option<FrameData>,
}

#[derive(Debug, Deserialize)]
struct FrameData {
    #[serde(default)]
    message: Option<Uuid>,
}

fn unix_micros(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

pub async fn run(args: Args) -> Result<String> {
    if args.clients_only {
        let spec = args.spec.as_ref().context("--clients-only needs --spec")?;
        return clients_only(spec).await;
    }
    ensure!(
        args.clients > 0 && args.members > 0 && args.messages > 0,
        "clients, members and messages must be positive"
    );
    let dir = tempfile::tempdir()?;
    let location = DatabaseLocation::parse(None, dir.path())?;
    let workspace = Workspace::connect(&StoreOptions::new(location)).await?;
    workspace.migrate().await?;
    let system = Principal::system();

    eprintln!(
        "live-fanout: {} members, {} clients ({}), {} messages",
        args.members,
        args.clients,
        if args.clients_process { "second process" } else { "this process" },
        args.messages
    );
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

    let spec = Spec {
        url: format!("ws://{address}/api/v1/live"),
        topic: format!("channel:{channel}"),
        tokens,
        clients: args.clients,
        messages: args.messages,
        deadline_secs: 30 + args.messages as u64 * (args.pause_ms / 1000 + 1),
    };

    // The clients: connected and subscribed, then reading in the background until each
    // has every message (or the deadline passes).
    let started = Instant::now();
    let (readers, child) = if args.clients_process {
        let file = dir.path().join("clients.json");
        std::fs::write(&file, serde_json::to_vec(&spec)?)?;
        let mut child = tokio::process::Command::new(std::env::current_exe()?)
            .args(["live-fanout", "--clients-only", "--spec"])
            .arg(&file)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start the clients' process")?;
        let mut stdout = BufReader::new(child.stdout.take().context("the clients' stdout")?);
        let mut line = String::new();
        stdout.read_line(&mut line).await?;
        if line.trim() != "ready" {
            bail!("the clients' process did not get ready: {line:?}");
        }
        (None, Some((child, stdout)))
    } else {
        (Some(start_clients(&spec).await?), None)
    };
    eprintln!("  {} clients connected and subscribed in {:.1}s", args.clients, started.elapsed().as_secs_f64());

    let mut posted: HashMap<Uuid, u64> = HashMap::new();
    let mut order: Vec<Uuid> = Vec::with_capacity(args.messages);
    for i in 0..args.messages {
        let at = SystemTime::now();
        let message = NewMessage {
            body: format!("announcement {i}"),
            visibility: None,
            reply_to: None,
            mentions: Vec::new(),
            records: Vec::new(),
            attachments: Vec::new(),
        };
        let view = workspace.post_in_channel(&poster, channel, message).await?;
        posted.insert(view.id, unix_micros(at));
        order.push(view.id);
        tokio::time::sleep(Duration::from_millis(args.pause_ms)).await;
    }

    let arrivals = match (readers, child) {
        (Some(readers), _) => collect(readers).await?,
        (None, Some((mut child, mut stdout))) => {
            let mut out = String::new();
            stdout.read_to_string(&mut out).await?;
            let status = child.wait().await?;
            ensure!(status.success(), "the clients' process failed: {status}");
            serde_json::from_str(&out).context("the clients' report")?
        }
        (None, None) => unreachable!("clients run somewhere"),
    };
    let _ = stop.send(());
    let _ = server.await;

    let mut histogram = Histogram::<u64>::new(3)?;
    let mut within = 0u64;
    let mut delivered = 0usize;
    for (message, times) in &arrivals.by_message {
        let Some(at) = posted.get(message) else { continue };
        for &arrived in times {
            let micros = arrived.saturating_sub(*at);
            histogram.record(micros.max(1))?;
            delivered += 1;
            if micros <= 100_000 {
                within += 1;
            }
        }
    }
    // Each message on its own (stderr): whether the late ones are a few slow messages or
    // a slow tail on every message.
    for (i, message) in order.iter().enumerate() {
        let (Some(at), Some(times)) = (posted.get(message), arrivals.by_message.get(message)) else { continue };
        let mut micros: Vec<u64> = times.iter().map(|t| t.saturating_sub(*at)).collect();
        micros.sort_unstable();
        let pick = |q: f64| micros.get(((micros.len() as f64 * q) as usize).min(micros.len().saturating_sub(1)));
        let late = micros.iter().filter(|m| **m > 100_000).count();
        eprintln!(
            "  message {i:>3}: p50 {:>6.1} ms, p99 {:>6.1} ms, max {:>6.1} ms, {late} of {} after 100 ms",
            *pick(0.5).unwrap_or(&0) as f64 / 1000.0,
            *pick(0.99).unwrap_or(&0) as f64 / 1000.0,
            micros.last().copied().unwrap_or(0) as f64 / 1000.0,
            micros.len()
        );
    }
    let expected = args.clients * args.messages;
    let ms = |q: f64| format!("{:.1}", histogram.value_at_quantile(q) as f64 / 1000.0);
    let mut table = Table::new(&[
        ("Clients run in", Align::Left),
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
        if args.clients_process { "second process" } else { "server's process" }.into(),
        args.clients.to_string(),
        args.messages.to_string(),
        histogram.len().to_string(),
        expected.saturating_sub(delivered).to_string(),
        ms(0.5),
        ms(0.9),
        ms(0.99),
        format!("{:.1}", histogram.max() as f64 / 1000.0),
        format!("{:.2}%", 100.0 * within as f64 / expected as f64),
    ]);
    Ok(table.to_markdown())
}

/// A client's reading: what arrived when, and its socket, kept open until every client is
/// done (a client closing as soon as it has read the last message would make the server
/// handle thousands of closes while it still delivers that message to the others).
type Reader = tokio::task::JoinHandle<(Vec<(Uuid, u64)>, Socket)>;
type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects and subscribes every client (a few hundred at a time), then starts each one
/// reading: it notes which message arrived when, and nothing else, until it has them all.
async fn start_clients(spec: &Spec) -> Result<Vec<Reader>> {
    let mut sockets = Vec::with_capacity(spec.clients);
    for chunk in (0..spec.clients).collect::<Vec<_>>().chunks(200) {
        let mut connecting = Vec::new();
        for &i in chunk {
            let token = spec.tokens[i % spec.tokens.len()].clone();
            let topic = spec.topic.clone();
            let url = spec.url.clone();
            connecting.push(tokio::spawn(async move {
                let mut request = url.into_client_request()?;
                request.headers_mut().insert("authorization", format!("Bearer {token}").parse()?);
                // A browser reads a frame into what it holds; tungstenite zeroes its whole
                // read buffer (128 KiB by default) before each read, which on this machine's
                // shared cores was counted against the server.
                let config = WebSocketConfig::default().read_buffer_size(4 * 1024);
                let (mut socket, _) = tokio_tungstenite::connect_async_with_config(request, Some(config), true).await?;
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
    let deadline = Duration::from_secs(spec.deadline_secs);
    let expected = spec.messages;
    let mut readers = Vec::with_capacity(sockets.len());
    for mut socket in sockets {
        readers.push(tokio::spawn(async move {
            let mut seen = Vec::with_capacity(expected);
            // One deadline for the whole read (a timer per frame would be 5,000 timers set
            // and cleared per message, counted against the server on shared cores).
            let reading = async {
                while seen.len() < expected {
                    let Some(Ok(frame)) = socket.next().await else { break };
                    let Message::Text(text) = frame else { continue };
                    let arrived = unix_micros(SystemTime::now());
                    let Ok(frame) = serde_json::from_str::<Frame>(text.as_str()) else { continue };
                    if frame.kind != "event" || frame.event != Some("message.posted") {
                        continue;
                    }
                    if let Some(id) = frame.data.and_then(|d| d.message) {
                        seen.push((id, arrived));
                    }
                }
            };
            let _ = tokio::time::timeout(deadline, reading).await;
            (seen, socket)
        }));
    }
    Ok(readers)
}

async fn collect(readers: Vec<Reader>) -> Result<Arrivals> {
    let mut arrivals = Arrivals::default();
    let mut sockets = Vec::with_capacity(readers.len());
    for reader in readers {
        let (seen, socket) = reader.await?;
        for (id, at) in seen {
            arrivals.by_message.entry(id).or_default().push(at);
        }
        sockets.push(socket);
    }
    drop(sockets);
    Ok(arrivals)
}

/// The clients' process: connect, say `ready`, read, report.
async fn clients_only(spec: &std::path::Path) -> Result<String> {
    let spec: Spec = serde_json::from_slice(&std::fs::read(spec)?).context("the spec file")?;
    let readers = start_clients(&spec).await?;
    println!("ready");
    let arrivals = collect(readers).await?;
    Ok(serde_json::to_string(&arrivals)?)
}
