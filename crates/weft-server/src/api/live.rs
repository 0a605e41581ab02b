//! `GET /api/v1/live`: a WebSocket that tells a signed-in client what changed in what it
//! listens to (its inbox, records, channels, types), with the policy applied on the server
//! per principal and event. A client that reconnects with the last sequence number it saw
//! gets what it missed, in order and once, or is told to refetch when too far behind; a
//! client too slow to keep up is told to resync rather than buffered without bound.
//!
//! Client → server (JSON text): `{"op":"subscribe","topics":["inbox","record:order/<id>"],
//! "after":<seq>?}`, `{"op":"unsubscribe","topics":[…]}`, `{"op":"ping"}`.
//! Server → client: `hello`, `subscribed`, `event`, `resync`, `pong`, `error`,
//! `unauthenticated` (each with `kind`).
//!
//! The credential the connection was opened with is checked again every
//! `ServerOptions::live_recheck` (15 s by default; one check shared by the connections
//! opened with the same credential, `live_credentials`): once
//! its session is ended (sign-out, revoked from the session list or by an administrator, a
//! password change), expired, or its account disabled — or its API token revoked — the
//! connection is told `unauthenticated` and closed with code 4401, and the principal's roles
//! are re-read while it stays, so a role taken away stops what it may see.

use std::time::{Duration, Instant};

use axum::extract::State;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::watch;
use weft_model::{ErrorCode, Principal};
use weft_workspace::collab::live::{Heard, Listener, LiveItem, Topic};
use weft_workspace::collab::live_credentials::{LiveCredential, Proof, spread_interval};

use axum::extract::ws::CloseFrame;

use super::actor::{Actor, session_cookie};
use crate::{AppState, Problem};

const HEARTBEAT: Duration = Duration::from_secs(20);
/// A client silent for this long (no pong, no message) is gone.
const SILENCE: Duration = Duration::from_secs(60);
/// A send that does not complete in this time means the client cannot keep up.
const SEND_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_TOPICS: usize = 200;
/// What a connection's reader holds for the client's frames (it grows for a larger one, up
/// to the message limit). Clients send little — subscriptions, pings — and the WebSocket
/// library zeroes its whole read buffer before every read: its default 128 KiB cost 640 MB
/// of memory and of zeroing per read round across 5,000 connections.
const READ_BUFFER: usize = 4 * 1024;

#[derive(Debug, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
enum ClientMessage {
    Subscribe {
        topics: Vec<String>,
        #[serde(default)]
        after: Option<i64>,
    },
    Unsubscribe {
        topics: Vec<String>,
    },
    Ping,
}

/// How the connection proved who it is, to prove it again later.
fn credential_of(headers: &HeaderMap) -> Option<LiveCredential> {
    if let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        return value.split_once(' ').map(|(_, token)| LiveCredential::Token(token.trim().to_owned()));
    }
    session_cookie(headers).map(LiveCredential::Session)
}

/// Opens the live connection (WebSocket). Authenticated like any request (session cookie
/// or bearer token); a browser's connection must come from this server's own origin.
#[utoipa::path(get, path = "/api/v1/live", tag = "collaboration",
    responses(
        (status = 101, description = "Switching to the WebSocket protocol"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A page of another origin", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn live(
    State(state): State<AppState>,
    Actor(actor): Actor,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, Problem> {
    // Cookies go with cross-site WebSocket requests: only this server's pages may connect.
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let origin_host = origin.split("://").nth(1).unwrap_or_default();
        if origin_host != host {
            return Err(
                Problem::new(ErrorCode::Forbidden).with_detail("a live connection must come from this server's pages")
            );
        }
    }
    let period = state.options.live_recheck.max(Duration::from_millis(50));
    let proofs = credential_of(&headers).map(|c| state.workspace.watch_credential(c, period));
    let listener = state.workspace.live_listener().await?;
    Ok(upgrade
        .max_message_size(64 * 1024)
        .read_buffer_size(READ_BUFFER)
        .on_upgrade(move |socket| async move { Connection::new(state, actor, proofs, socket, listener).run().await }))
}

/// The next verdict on the connection's credential; `None` when its checks have stopped
/// without one.
async fn proved(proofs: &mut Option<watch::Receiver<Option<Proof>>>) -> Option<Proof> {
    let proofs = proofs.as_mut()?;
    loop {
        proofs.changed().await.ok()?;
        if let Some(proof) = proofs.borrow_and_update().clone() {
            return Some(proof);
        }
    }
}

struct Connection {
    state: AppState,
    principal: Principal,
    /// The checks of the credential it was opened with (none for one without).
    proofs: Option<watch::Receiver<Option<Proof>>>,
    socket: WebSocket,
    /// The events of its topics, routed to it by the live feed.
    listener: Listener,
    topics: Vec<Topic>,
    /// The last event number this connection has dealt with (sent or not ours).
    seen: i64,
    heard_at: Instant,
}

impl Connection {
    fn new(
        state: AppState,
        principal: Principal,
        proofs: Option<watch::Receiver<Option<Proof>>>,
        socket: WebSocket,
        listener: Listener,
    ) -> Self {
        Connection { state, principal, proofs, socket, listener, topics: Vec::new(), seen: 0, heard_at: Instant::now() }
    }

    async fn run(mut self) {
        let Ok(head) = self.state.workspace.live_head().await else { return };
        self.seen = head;
        if !self.send(json!({ "kind": "hello", "seq": head, "principal": self.principal.id })).await {
            return;
        }
        let mut heartbeat = spread_interval(HEARTBEAT);
        loop {
            tokio::select! {
                incoming = self.socket.recv() => {
                    match incoming {
                        Some(Ok(message)) => {
                            self.heard_at = Instant::now();
                            if !self.on_message(message).await {
                                break;
                            }
                        }
                        _ => break,
                    }
                }
                heard = self.listener.recv() => {
                    match heard {
                        Some(Heard::Event(item)) => {
                            if item.seq() <= self.seen {
                                continue;
                            }
                            self.seen = item.seq();
                            if !self.deliver(&item).await {
                                break;
                            }
                        }
                        Some(Heard::Lagged) => {
                            // Too slow: what it missed is gone from the feed. Start over.
                            let head = self.state.workspace.live_head().await.unwrap_or(self.seen);
                            self.seen = head;
                            if !self.send(json!({ "kind": "resync", "reason": "too slow to keep up", "seq": head })).await {
                                break;
                            }
                        }
                        None => break,
                    }
                }
                proved = proved(&mut self.proofs), if self.proofs.is_some() => {
                    match proved {
                        Some(Ok(principal)) => {
                            // Changed roles apply from now on (a stand-in keeps acting for
                            // the person it stands in for).
                            if self.principal.on_behalf_of.is_none() {
                                self.principal = principal;
                            }
                        }
                        Some(Err(reason)) => {
                            let _ = self.send(json!({ "kind": "unauthenticated", "detail": reason })).await;
                            let close = CloseFrame { code: 4401, reason: Utf8Bytes::from_static("unauthenticated") };
                            let _ = self.socket.send(Message::Close(Some(close))).await;
                            return;
                        }
                        // The checks stopped without a verdict: nothing more to watch.
                        None => self.proofs = None,
                    }
                }
                _ = heartbeat.tick() => {
                    if self.heard_at.elapsed() > SILENCE {
                        break;
                    }

                    if !self.send_raw(Message::Ping(Default::default())).await {
                        break;
                    }
                }
            }
        }
        let _ = self.socket.send(Message::Close(None)).await;
    }

    /// Handles one client frame; false ends the connection.
    async fn on_message(&mut self, message: Message) -> bool {
        let text = match message {
            Message::Text(text) => text,
            Message::Close(_) => return false,
            Message::Ping(_) | Message::Pong(_) => return true,
            Message::Binary(_) => {
                return self.send(json!({ "kind": "error", "reason": "send JSON text frames" })).await;
            }
        };
        let parsed: Result<ClientMessage, _> = serde_json::from_str(text.as_str());
        match parsed {
            Err(e) => {
                self.send(json!({ "kind": "error", "reason": format!("not a message this server understands: {e}") }))
                    .await
            }
            Ok(ClientMessage::Ping) => self.send(json!({ "kind": "pong", "seq": self.seen })).await,
            Ok(ClientMessage::Unsubscribe { topics }) => {
                self.topics.retain(|t| !topics.contains(&t.to_string()));
                self.listener.listen_to(self.principal.id, &self.topics);
                self.send(json!({ "kind": "subscribed", "topics": self.topic_names(), "refused": [] })).await
            }
            Ok(ClientMessage::Subscribe { topics, after }) => self.subscribe(topics, after).await,
        }
    }

    async fn subscribe(&mut self, names: Vec<String>, after: Option<i64>) -> bool {
        let mut refused = Vec::new();
        for name in names {
            if self.topics.len() >= MAX_TOPICS {
                refused.push(json!({ "topic": name, "reason": format!("at most {MAX_TOPICS} topics per connection") }));
                continue;
            }
            let topic = match name.parse::<Topic>() {
                Ok(topic) => topic,
                Err(reason) => {
                    refused.push(json!({ "topic": name, "reason": reason }));
                    continue;
                }
            };
            match self.state.workspace.check_topic(&self.principal, &topic).await {
                Ok(()) if !self.topics.contains(&topic) => self.topics.push(topic),
                Ok(()) => {}
                // What the principal may not see answers like what does not exist.
                Err(weft_workspace::Error::NotFound(_) | weft_workspace::Error::Forbidden(_)) => {
                    refused.push(json!({ "topic": name, "reason": "not found" }));
                }
                Err(e) => refused.push(json!({ "topic": name, "reason": e.to_string() })),
            }
        }
        // Events handed out from now on come routed; those up to `dispatched` only by replay.
        let dispatched = self.listener.listen_to(self.principal.id, &self.topics);
        if !self.send(json!({ "kind": "subscribed", "topics": self.topic_names(), "refused": refused })).await {
            return false;
        }
        let Some(after) = after else { return true };
        // Resuming: what committed after `after`, up to where the routed events take over.
        match self.state.workspace.live_replay(after).await {
            Ok(Some(events)) => {
                let upto = self.seen.max(dispatched);
                for item in events.iter().filter(|e| e.seq() <= upto) {
                    if !self.deliver(item).await {
                        return false;
                    }
                }
                // Routed events up to here were in the replay, for the old topics too.
                self.seen = upto;
                true
            }
            Ok(None) => {
                self.send(json!({ "kind": "resync", "reason": "too far behind to replay", "seq": self.seen })).await
            }
            Err(e) => self.send(json!({ "kind": "error", "reason": e.to_string() })).await,
        }
    }

    /// Sends what the principal may be told about `item`: frames serialised once per event
    /// and topic, shared with every other connection told the same.
    async fn deliver(&mut self, item: &LiveItem) -> bool {
        if self.topics.is_empty() {
            return true;
        }
        let frames = match self.state.workspace.live_frames(&self.principal, &self.topics, item).await {
            Ok(frames) => frames,
            Err(e) => {
                tracing::warn!(error = %e, seq = item.seq(), "live view failed; the client resyncs");
                return self
                    .send(
                        json!({ "kind": "resync", "reason": "the server could not check an event", "seq": item.seq() }),
                    )
                    .await;
            }
        };
        for frame in frames {
            // JSON text, hence UTF-8.
            let Ok(text) = Utf8Bytes::try_from(frame) else { continue };
            if !self.send_raw(Message::Text(text)).await {
                return false;
            }
        }
        true
    }

    fn topic_names(&self) -> Vec<String> {
        self.topics.iter().map(ToString::to_string).collect()
    }

    async fn send(&mut self, value: Value) -> bool {
        self.send_raw(Message::Text(Utf8Bytes::from(value.to_string()))).await
    }

    async fn send_raw(&mut self, message: Message) -> bool {
        matches!(tokio::time::timeout(SEND_TIMEOUT, self.socket.send(message)).await, Ok(Ok(())))
    }
}
