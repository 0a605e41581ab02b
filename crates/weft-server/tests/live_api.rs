//! The live WebSocket with real clients: two members and a partner's guest listen to the
//! same record; each receives exactly what it may see (the guest: no internal message, and
//! nothing of another party's record); a dropped connection resumes from its last sequence
//! number without gaps or duplicates; a page of another origin cannot connect.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;
use weft_server::ServerOptions;
use weft_testkit::{TestApp, TestBackend, on_both_databases, spawn_app, spawn_app_with};
use weft_workspace::collab::InboxFanout;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

on_both_databases!(
    each_listener_gets_what_it_may_see_and_resumes_without_gaps,
    connections_share_an_event_but_each_principal_gets_only_its_reach,
    other_origins_and_strangers_are_refused,
    a_revoked_session_or_token_closes_its_live_connection
);

async fn connect(app: &TestApp, header: (&'static str, String)) -> Socket {
    let mut request = format!("ws://{}/api/v1/live", app.address).into_client_request().unwrap();
    request.headers_mut().insert(header.0, header.1.parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.expect("connect");
    let hello = next(&mut socket).await.expect("hello");
    assert_eq!(hello["kind"], "hello", "{hello}");
    socket
}

async fn next(socket: &mut Socket) -> Option<Value> {
    loop {
        match tokio::time::timeout(Duration::from_millis(1500), socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => return serde_json::from_str(text.as_str()).ok(),
            Ok(Some(Ok(_))) => continue,
            _ => return None,
        }
    }
}

/// Every frame until the connection has been quiet for a while.
async fn drain(socket: &mut Socket) -> Vec<Value> {
    let mut out = Vec::new();
    while let Some(v) = next(socket).await {
        out.push(v);
    }
    out
}

async fn subscribe(socket: &mut Socket, topics: &[String], after: Option<i64>) -> Value {
    let mut message = json!({"op": "subscribe", "topics": topics});
    if let Some(after) = after {
        message["after"] = json!(after);
    }
    socket.send(Message::Text(message.to_string().into())).await.unwrap();
    let answer = next(socket).await.expect("subscribed");
    assert_eq!(answer["kind"], "subscribed", "{answer}");
    answer
}

fn summaries(frames: &[Value]) -> Vec<String> {
    frames
        .iter()
        .filter(|f| f["kind"] == "event" && f["event"] == "message.posted")
        .map(|f| f["data"]["summary"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Signs in through the API and returns the session cookie (`weft_session=…`).
async fn session_cookie(app: &TestApp, login: &str, password: &str) -> String {
    let response = reqwest::Client::new()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"login": login, "password": password}))
        .send()
        .await
        .unwrap();
    let cookie = response.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    assert!(cookie.starts_with("weft_session="), "{cookie}");
    cookie
}

struct Fixture {
    app: TestApp,
    order_a: String,
    order_b: String,
    colleague_token: String,
    colleague: Uuid,
    party_b: Uuid,
}

async fn fixture(backend: TestBackend) -> Fixture {
    let app = spawn_app(backend).await;
    let declared = app
        .client
        .post(app.url("/api/v1/types"))
        .json(&json!({"name": "order", "label": {"en": "Order", "zh": "订单"},
            "fields": [{"name": "subject", "label": {"en": "Subject", "zh": "主题"}, "type": "text"}]}))
        .send()
        .await
        .unwrap();
    assert!(declared.status().is_success());
    let party_a = Uuid::now_v7();
    app.create_guest("buyer@a.example", "guest password A", party_a, &["guest"]).await;
    let party_b = Uuid::now_v7();
    let mut ids = Vec::new();
    for party in [party_a, party_b] {
        let created: Value = app
            .client
            .post(app.url("/api/v1/records/order"))
            .json(&json!({"subject": "steel", "party": party}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    let colleague = app.create_member("li.wei", None, &["employee"]).await;
    let colleague_token = app.token_for(colleague, None).await;
    Fixture { order_a: ids[0].clone(), order_b: ids[1].clone(), colleague_token, colleague, party_b, app }
}

async fn post(f: &Fixture, body: Value) {
    let thread = f.app.url(&format!("/api/v1/records/order/{}/thread", f.order_a));
    let response = f.app.client.post(thread).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
}

async fn each_listener_gets_what_it_may_see_and_resumes_without_gaps(backend: TestBackend) {
    let f = fixture(backend).await;
    let app = &f.app;
    let record_a = format!("record:order/{}", f.order_a);
    let record_b = format!("record:order/{}", f.order_b);

    let mut admin = connect(app, ("authorization", format!("Bearer {}", app.admin_token))).await;
    subscribe(&mut admin, &[record_a.clone(), "type:order".into()], None).await;
    let mut colleague = connect(app, ("authorization", format!("Bearer {}", f.colleague_token))).await;
    subscribe(&mut colleague, &["inbox".into(), record_a.clone()], None).await;
    let cookie = session_cookie(app, "buyer@a.example", "guest password A").await;
    let mut guest = connect(app, ("cookie", cookie.clone())).await;
    let answer = subscribe(&mut guest, &[record_a.clone(), record_b.clone(), "bogus".into()], None).await;
    assert_eq!(answer["topics"], json!([record_a]), "{answer}");
    let refused: Vec<&str> =
        answer["refused"].as_array().unwrap().iter().map(|r| r["reason"].as_str().unwrap()).collect();
    assert_eq!(refused[0], "not found", "another party's record is refused like a missing one");

    post(&f, json!({"body": "internal: margin is thin", "mentions": [f.colleague]})).await;
    post(&f, json!({"body": "ships Friday", "visibility": "shared"})).await;
    while app.workspace.run_consumer_once(&InboxFanout).await.unwrap() > 0 {}

    let admin_frames = drain(&mut admin).await;
    let colleague_frames = drain(&mut colleague).await;
    let guest_frames = drain(&mut guest).await;
    assert_eq!(summaries(&admin_frames), vec!["internal: margin is thin", "ships Friday"]);
    assert_eq!(summaries(&colleague_frames), vec!["internal: margin is thin", "ships Friday"]);
    assert!(colleague_frames.iter().any(|f| f["topic"] == "inbox"), "{colleague_frames:?}");
    assert_eq!(summaries(&guest_frames), vec!["ships Friday"]);
    let guest_text = serde_json::to_string(&guest_frames).unwrap();
    assert!(!guest_text.contains("margin") && !guest_text.contains("inbox"), "{guest_text}");

    // The guest drops; three messages are posted meanwhile, one internal.
    let last_seen = guest_frames.iter().filter_map(|f| f["seq"].as_i64()).max().unwrap();
    drop(guest);
    post(&f, json!({"body": "update 1", "visibility": "shared"})).await;
    post(&f, json!({"body": "internal 2"})).await;
    post(&f, json!({"body": "update 3", "visibility": "shared"})).await;
    let mut guest = connect(app, ("cookie", cookie)).await;
    subscribe(&mut guest, std::slice::from_ref(&record_a), Some(last_seen)).await;
    post(&f, json!({"body": "update 4", "visibility": "shared"})).await;
    let resumed = drain(&mut guest).await;
    assert_eq!(summaries(&resumed), vec!["update 1", "update 3", "update 4"], "no gap, no duplicate: {resumed:?}");
    let seqs: Vec<i64> = resumed.iter().filter_map(|f| f["seq"].as_i64()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in order: {seqs:?}");

    // Too far behind (an event number from before the window) is told to refetch.
    let mut late = connect(app, ("authorization", format!("Bearer {}", f.colleague_token))).await;
    let _ = subscribe(&mut late, &[record_a], Some(-20_000)).await;
    let frame = next(&mut late).await.unwrap();
    assert_eq!(frame["kind"], "resync", "{frame}");
}

/// The server serialises a notice once per event and topic and asks the read policy once
/// per principal and event, whatever the number of connections: principals with different
/// reach on the same events, each with two connections, still get exactly what each may
/// see, and connections told the same get the same text.
async fn connections_share_an_event_but_each_principal_gets_only_its_reach(backend: TestBackend) {
    let f = fixture(backend).await;
    let app = &f.app;
    app.create_guest("buyer@b.example", "guest password B", f.party_b, &["guest"]).await;
    let cookie_a = session_cookie(app, "buyer@a.example", "guest password A").await;
    let cookie_b = session_cookie(app, "buyer@b.example", "guest password B").await;
    let record_a = format!("record:order/{}", f.order_a);
    let topics = vec!["type:order".to_owned(), record_a.clone()];

    let mut listeners = Vec::new();
    for (who, header) in [
        ("guest a", ("cookie", cookie_a.clone())),
        ("guest a", ("cookie", cookie_a)),
        ("guest b", ("cookie", cookie_b.clone())),
        ("guest b", ("cookie", cookie_b)),
        ("colleague", ("authorization", format!("Bearer {}", f.colleague_token))),
        ("colleague", ("authorization", format!("Bearer {}", f.colleague_token))),
    ] {
        let mut socket = connect(app, header).await;
        let answer = subscribe(&mut socket, &topics, None).await;
        let expected: Vec<&str> =
            if who == "guest b" { vec!["type:order"] } else { topics.iter().map(String::as_str).collect() };
        assert_eq!(answer["topics"], json!(expected), "{who}: {answer}");
        listeners.push((who, socket));
    }

    for id in [&f.order_a, &f.order_b] {
        let response = app
            .client
            .patch(app.url(&format!("/api/v1/records/order/{id}")))
            .header("if-match", "\"1\"")
            .json(&json!({"subject": "steel, revised"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    }
    post(&f, json!({"body": "internal: supplier is late"})).await;
    post(&f, json!({"body": "shared: ships Monday", "visibility": "shared"})).await;

    let mut texts: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for (who, socket) in &mut listeners {
        let frames = drain(socket).await;
        let events: Vec<&Value> = frames.iter().filter(|f| f["kind"] == "event").collect();
        let updated: Vec<(&str, &str)> = events
            .iter()
            .filter(|f| f["event"] == "record.updated")
            .map(|f| (f["topic"].as_str().unwrap(), f["data"]["id"].as_str().unwrap()))
            .collect();
        let (a, b) = (f.order_a.as_str(), f.order_b.as_str());
        match *who {
            "guest a" => {
                assert_eq!(updated, vec![("type:order", a), (record_a.as_str(), a)], "{who}: {frames:?}");
                assert_eq!(summaries(&frames), vec!["shared: ships Monday"], "{who}");
            }
            "guest b" => {
                assert_eq!(updated, vec![("type:order", b)], "{who}: {frames:?}");
                assert!(summaries(&frames).is_empty(), "{who}: {frames:?}");
            }
            _ => {
                assert_eq!(
                    updated,
                    vec![("type:order", a), (record_a.as_str(), a), ("type:order", b)],
                    "{who}: {frames:?}"
                );
                assert_eq!(summaries(&frames), vec!["internal: supplier is late", "shared: ships Monday"], "{who}");
            }
        }
        let text = serde_json::to_string(&events).unwrap();
        if *who != "colleague" {
            assert!(!text.contains("supplier is late"), "{who} never sees an internal message: {text}");
        }
        if *who == "guest b" {
            assert!(!text.contains(a), "guest b never hears of party a's order: {text}");
        }
        texts.entry(who).or_default().push(text);
    }
    for (who, same) in texts {
        assert_eq!(same[0], same[1], "{who}'s two connections are told the same");
    }
}

async fn other_origins_and_strangers_are_refused(backend: TestBackend) {
    let f = fixture(backend).await;
    let app = &f.app;
    let url = format!("ws://{}/api/v1/live", app.address);
    // No credentials: 401 before any upgrade.
    let refused = tokio_tungstenite::connect_async(url.as_str()).await.unwrap_err();
    assert!(refused.to_string().contains("401"), "{refused}");
    // A page of another origin with a valid cookie: 403.
    let cookie = session_cookie(app, "buyer@a.example", "guest password A").await;
    let mut request = url.as_str().into_client_request().unwrap();
    request.headers_mut().insert("cookie", cookie.parse().unwrap());
    request.headers_mut().insert("origin", "https://evil.example".parse().unwrap());
    let refused = tokio_tungstenite::connect_async(request).await.unwrap_err();
    assert!(refused.to_string().contains("403"), "{refused}");
    // A malformed frame is answered, not fatal.
    let mut socket = connect(app, ("authorization", format!("Bearer {}", app.admin_token))).await;
    socket.send(Message::Text("{\"op\":\"dance\"}".into())).await.unwrap();
    assert_eq!(next(&mut socket).await.unwrap()["kind"], "error");
    socket.send(Message::Text("{\"op\":\"ping\"}".into())).await.unwrap();
    assert_eq!(next(&mut socket).await.unwrap()["kind"], "pong");
    // A subscription larger than the connection's read buffer (4 KiB) is read whole: 150
    // topics of ~60 bytes; each is refused as not found, none is lost.
    let topics: Vec<String> = (0..150).map(|_| format!("channel:{}", uuid::Uuid::new_v4())).collect();
    let answer = subscribe(&mut socket, &topics, None).await;
    assert_eq!(answer["refused"].as_array().map(Vec::len), Some(150), "{answer}");
    // A frame past the 64 KiB message limit ends the connection; nothing else does.
    let huge = json!({"op": "subscribe", "topics": vec!["inbox"; 10_000]}).to_string();
    assert!(huge.len() > 64 * 1024);
    let _ = socket.send(Message::Text(huge.into())).await;
    assert!(next(&mut socket).await.is_none());
}

/// Waits for the server to end the connection; the frames it sent before closing.
async fn until_closed(socket: &mut Socket) -> (Vec<Value>, Option<u16>) {
    let mut frames = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while tokio::time::Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_millis(500), socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                frames.push(serde_json::from_str(text.as_str()).unwrap_or(Value::Null))
            }
            Ok(Some(Ok(Message::Close(frame)))) => return (frames, frame.map(|f| u16::from(f.code))),
            Ok(Some(Ok(_))) | Err(_) => continue,
            Ok(Some(Err(_)) | None) => return (frames, None),
        }
    }
    panic!("the connection stayed open: {frames:?}");
}

async fn a_revoked_session_or_token_closes_its_live_connection(backend: TestBackend) {
    let options = ServerOptions { live_recheck: Duration::from_millis(200), ..ServerOptions::default() };
    let app = spawn_app_with(backend, options).await;
    let member = app.create_member("han.mei", Some("han mei password"), &["employee"]).await;
    let cookie = session_cookie(&app, "han.mei", "han mei password").await;
    let mut by_cookie = connect(&app, ("cookie", cookie.clone())).await;
    let token = app.token_for(member, None).await;
    let mut by_token = connect(&app, ("authorization", format!("Bearer {token}"))).await;
    // Still valid: both stay open across several checks.
    tokio::time::sleep(Duration::from_millis(700)).await;
    by_cookie.send(Message::Text(json!({"op": "ping"}).to_string().into())).await.unwrap();
    assert_eq!(next(&mut by_cookie).await.expect("pong")["kind"], "pong");
    // A second connection with the same token joins the checks already running for it.
    let mut by_token_too = connect(&app, ("authorization", format!("Bearer {token}"))).await;

    // An administrator ends the member's sessions: the cookie's connection is told and closed.
    let revoked =
        app.client.delete(app.url(&format!("/api/v1/admin/principals/{member}/sessions"))).send().await.unwrap();
    assert_eq!(revoked.status(), 200, "{}", revoked.text().await.unwrap());
    let (frames, code) = until_closed(&mut by_cookie).await;
    assert_eq!(code, Some(4401), "{frames:?}");
    assert!(frames.iter().any(|f| f["kind"] == "unauthenticated"), "{frames:?}");
    // The token is another credential: its connection carries on.
    for socket in [&mut by_token, &mut by_token_too] {
        socket.send(Message::Text(json!({"op": "ping"}).to_string().into())).await.unwrap();
        assert_eq!(next(socket).await.expect("pong")["kind"], "pong");
    }
    // And the cookie no longer opens one.
    let mut request = format!("ws://{}/api/v1/live", app.address).into_client_request().unwrap();
    request.headers_mut().insert("cookie", cookie.parse().unwrap());
    assert!(tokio_tungstenite::connect_async(request).await.is_err());

    // The token revoked: that connection ends too.
    let tokens: Value = app
        .client
        .get(app.url(&format!("/api/v1/admin/principals/{member}/tokens")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = tokens["items"][0]["id"].as_str().expect("the token").to_owned();
    let revoked =
        app.client.delete(app.url(&format!("/api/v1/admin/principals/{member}/tokens/{id}"))).send().await.unwrap();
    assert!(revoked.status().is_success(), "{}", revoked.text().await.unwrap());
    // Every connection opened with it ends.
    for socket in [&mut by_token, &mut by_token_too] {
        let (frames, code) = until_closed(socket).await;
        assert_eq!(code, Some(4401), "{frames:?}");
    }
}
