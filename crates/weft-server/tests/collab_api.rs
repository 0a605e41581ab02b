//! Collaboration over HTTP: threads, messages, channels and the inbox answer with the same
//! rules as the façade, bad input is a problem document naming the field, a guest's session
//! needs its CSRF token to post and never receives an internal message, and another party's
//! record thread answers like a missing one.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;
use weft_server::ServerOptions;
use weft_testkit::{TestApp, TestBackend, bearer_client, on_both_databases, spawn_app, spawn_app_with};
use weft_workspace::collab::InboxFanout;

const PROBLEM: &str = "application/problem+json";

on_both_databases!(
    threads_messages_and_inbox_over_http,
    bad_input_and_denials_are_problems,
    attachments_upload_and_download_with_access,
    pictures_get_thumbnails_checked_like_their_file,
);

struct Fixture {
    app: TestApp,
    order_a: String,
    order_b: String,
    guest: weft_testkit::SignedIn,
    colleague: Uuid,
    colleague_client: reqwest::Client,
}

async fn fixture(backend: TestBackend) -> Fixture {
    fixture_with(spawn_app(backend).await).await
}

async fn fixture_with(app: TestApp) -> Fixture {
    let declared = app
        .client
        .post(app.url("/api/v1/types"))
        .json(&json!({
            "name": "order", "label": {"en": "Order", "zh": "订单"},
            "fields": [{"name": "subject", "label": {"en": "Subject", "zh": "主题"}, "type": "text", "required": true}]
        }))
        .send()
        .await
        .unwrap();
    assert!(declared.status().is_success(), "{}", declared.text().await.unwrap());
    let (party_a, party_b) = (Uuid::now_v7(), Uuid::now_v7());
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
    app.create_guest("buyer@a.example", "guest password A", party_a, &["guest"]).await;
    let guest = app.sign_in("buyer@a.example", "guest password A").await;
    let colleague = app.create_member("li.wei", None, &["employee"]).await;
    let colleague_client = bearer_client(&app.token_for(colleague, None).await);
    Fixture { app, order_a: ids[0].clone(), order_b: ids[1].clone(), guest, colleague, colleague_client }
}

async fn answer(response: reqwest::Response) -> (StatusCode, String, Value) {
    let status = response.status();
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let text = response.text().await.unwrap();
    (status, content_type, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn threads_messages_and_inbox_over_http(backend: TestBackend) {
    let f = fixture(backend).await;
    let app = &f.app;
    let thread_a = app.url(&format!("/api/v1/records/order/{}/thread", f.order_a));

    // The administrator posts an internal note mentioning a colleague, and a shared answer.
    let (status, _, note) = answer(
        app.client
            .post(&thread_a)
            .json(&json!({"body": "Check the margin @Li", "mentions": [f.colleague]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{note}");
    assert_eq!(note["visibility"], "internal");
    let (status, _, _) = answer(
        app.client.post(&thread_a).json(&json!({"body": "Ships Friday", "visibility": "shared"})).send().await.unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    // The guest posts with its session and CSRF token, and reads only shared messages.
    let (status, _, posted) = answer(
        f.guest
            .client
            .post(&thread_a)
            .header("X-CSRF-Token", &f.guest.csrf_token)
            .json(&json!({"body": "Thank you"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{posted}");
    assert_eq!(posted["visibility"], "shared");
    let (status, _, page) = answer(f.guest.client.get(&thread_a).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let bodies: Vec<&str> = page["messages"].as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, vec!["Ships Friday", "Thank you"]);
    // Whoever reads a message knows who wrote it, without access to the people directory.
    assert_eq!(page["messages"][0]["author_name"], "Test Administrator", "{page}");
    // So does the record's history: the guest sees who created the order by name.
    let timeline_url = app.url(&format!("/api/v1/records/order/{}/timeline", f.order_a));
    let (status, _, timeline) = answer(f.guest.client.get(&timeline_url).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{timeline}");
    assert_eq!(timeline[0]["actor_name"], "Test Administrator", "{timeline}");
    let note_url = app.url(&format!("/api/v1/messages/{}", note["id"].as_str().unwrap()));
    let (status, content_type, _) = answer(f.guest.client.get(&note_url).send().await.unwrap()).await;
    assert_eq!((status, content_type.as_str()), (StatusCode::NOT_FOUND, PROBLEM));

    // The colleague's inbox gets the mention once the fan-out ran, and, as a follower since
    // then, the two later messages; marking is idempotent.
    while app.workspace.run_consumer_once(&InboxFanout).await.unwrap() > 0 {}
    let (status, _, all) = answer(f.colleague_client.get(app.url("/api/v1/inbox")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(all["items"].as_array().unwrap().len(), 3, "{all}");
    let (_, _, inbox) =
        answer(f.colleague_client.get(app.url("/api/v1/inbox?kind=mention")).send().await.unwrap()).await;
    let items = inbox["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{inbox}");
    assert_eq!(items[0]["summary"], "Check the margin @Li");
    let (_, _, counts) = answer(f.colleague_client.get(app.url("/api/v1/inbox/counts")).send().await.unwrap()).await;
    assert_eq!((counts["unread"].as_i64(), counts["open_by_kind"]["mention"].as_i64()), (Some(3), Some(1)), "{counts}");
    for _ in 0..2 {
        let (status, _, marked) = answer(
            f.colleague_client
                .post(app.url("/api/v1/inbox/mark"))
                .json(&json!({"ids": [items[0]["id"]], "state": "done"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{marked}");
        assert_eq!(marked[0]["state"], "done");
    }
    // The guest's inbox has nothing of the internal note.
    let (_, _, guest_inbox) = answer(f.guest.client.get(app.url("/api/v1/inbox")).send().await.unwrap()).await;
    assert!(!guest_inbox.to_string().contains("margin"), "{guest_inbox}");

    // Edit with If-Match; a stale version is 412.
    let (status, _, edited) = answer(
        app.client
            .patch(&note_url)
            .header("If-Match", "\"1\"")
            .json(&json!({"body": "Check the margin again"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["version"], 2);
    let (status, content_type, _) = answer(
        app.client.patch(&note_url).header("If-Match", "\"1\"").json(&json!({"body": "x"})).send().await.unwrap(),
    )
    .await;
    assert_eq!((status, content_type.as_str()), (StatusCode::PRECONDITION_FAILED, PROBLEM));

    // A reaction, and a channel with the colleague.
    let (status, _, reacted) =
        answer(app.client.put(format!("{note_url}/reactions/%F0%9F%91%8D")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{reacted}");
    assert_eq!(reacted["reactions"][0]["emoji"], "👍");
    let (status, _, channel) = answer(
        app.client
            .post(app.url("/api/v1/channels"))
            .json(&json!({"name": "Purchasing", "members": [f.colleague]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{channel}");
    let messages = app.url(&format!("/api/v1/channels/{}/messages", channel["id"].as_str().unwrap()));
    let (status, _, _) =
        answer(f.colleague_client.post(&messages).json(&json!({"body": "hi all"})).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _, _) = answer(f.guest.client.get(&messages).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Following: a member may list followers, a guest may not.
    let followers = app.url(&format!("/api/v1/records/order/{}/followers", f.order_a));
    let (status, _, list) = answer(app.client.get(&followers).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.as_array().unwrap().len() >= 2, "{list}");
    let (status, content_type, _) = answer(f.guest.client.get(&followers).send().await.unwrap()).await;
    assert_eq!((status, content_type.as_str()), (StatusCode::FORBIDDEN, PROBLEM));
}

async fn bad_input_and_denials_are_problems(backend: TestBackend) {
    let f = fixture(backend).await;
    let app = &f.app;
    let thread_a = app.url(&format!("/api/v1/records/order/{}/thread", f.order_a));
    let thread_b = app.url(&format!("/api/v1/records/order/{}/thread", f.order_b));

    // Every bad field at once, each with its pointer.
    let (status, content_type, problem) = answer(
        app.client
            .post(&thread_a)
            .json(&json!({"body": "", "mentions": [Uuid::now_v7()], "reply_to": Uuid::now_v7()}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, content_type.as_str()), (StatusCode::UNPROCESSABLE_ENTITY, PROBLEM), "{problem}");
    let pointers: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    assert_eq!(pointers, vec!["/body", "/mentions/0", "/reply_to"], "{problem}");

    // Unknown keys and wrong types are refused, not ignored.
    for body in [json!({"body": "x", "secret": true}), json!({"body": 5}), json!({"body": "x", "visibility": "public"})]
    {
        let (status, content_type, problem) =
            answer(app.client.post(&thread_a).json(&body).send().await.unwrap()).await;
        assert!(status.is_client_error() && content_type == PROBLEM, "{body}: {status} {problem}");
    }

    // A guest: another party's thread is missing; without the CSRF token a post is refused.
    let (status, content_type, _) = answer(f.guest.client.get(&thread_b).send().await.unwrap()).await;
    assert_eq!((status, content_type.as_str()), (StatusCode::NOT_FOUND, PROBLEM));
    let (status, _, _) = answer(
        f.guest
            .client
            .post(&thread_b)
            .header("X-CSRF-Token", &f.guest.csrf_token)
            .json(&json!({"body": "hi"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, content_type, _) =
        answer(f.guest.client.post(&thread_a).json(&json!({"body": "hi"})).send().await.unwrap()).await;
    assert_eq!((status, content_type.as_str()), (StatusCode::FORBIDDEN, PROBLEM));
    // A guest cannot create channels; nobody without credentials reads anything.
    let (status, _, _) = answer(
        f.guest
            .client
            .post(app.url("/api/v1/channels"))
            .header("X-CSRF-Token", &f.guest.csrf_token)
            .json(&json!({"name": "mine", "external": true}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, content_type, _) = answer(app.anonymous.get(&thread_a).send().await.unwrap()).await;
    assert_eq!((status, content_type.as_str()), (StatusCode::UNAUTHORIZED, PROBLEM));
    let (status, _, _) = answer(app.anonymous.get(app.url("/api/v1/inbox")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Someone else's message cannot be edited; a malformed id is simply missing.
    let (_, _, posted) = answer(app.client.post(&thread_a).json(&json!({"body": "mine"})).send().await.unwrap()).await;
    let url = app.url(&format!("/api/v1/messages/{}", posted["id"].as_str().unwrap()));
    let (status, _, _) =
        answer(f.colleague_client.patch(&url).json(&json!({"body": "yours"})).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = answer(app.client.get(app.url("/api/v1/messages/not-an-id")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = answer(app.client.get(format!("{thread_a}?limit=0")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, problem) = answer(app.client.get(app.url("/api/v1/inbox?kind=spam")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let (status, _, _) = answer(
        app.client
            .post(app.url("/api/v1/inbox/mark"))
            .json(&json!({"ids": [Uuid::now_v7()], "state": "read"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn attachments_upload_and_download_with_access(backend: TestBackend) {
    let options = ServerOptions { max_upload_bytes: 4096, ..ServerOptions::default() };
    let f = fixture_with(spawn_app_with(backend, options).await).await;
    let app = &f.app;
    let files_a = app.url(&format!("/api/v1/records/order/{}/attachments", f.order_a));

    // A PNG named .txt is stored as what it is.
    let png: Vec<u8> = [&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A][..], &[0u8; 24][..]].concat();
    let (status, _, uploaded) = answer(
        app.client
            .post(format!("{files_a}?filename=photo.txt&visibility=shared"))
            .body(png.clone())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{uploaded}");
    assert_eq!(uploaded["content_type"], "image/png");
    let content = app.url(&format!("/api/v1/attachments/{}/content", uploaded["id"].as_str().unwrap()));
    let response = f.guest.client.get(&content).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/png");
    assert!(response.headers()["content-disposition"].to_str().unwrap().starts_with("inline"));
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(response.bytes().await.unwrap().to_vec(), png);

    // An internal text file: the guest gets 404 for it, and a hash is no key.
    let (_, _, note) = answer(
        app.client.post(format!("{files_a}?filename=%E6%88%90%E6%9C%AC.txt")).body("cost 10").send().await.unwrap(),
    )
    .await;
    assert_eq!(note["filename"], "成本.txt");
    let note_content = app.url(&format!("/api/v1/attachments/{}/content", note["id"].as_str().unwrap()));
    let response = app.client.get(&note_content).send().await.unwrap();
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename*=UTF-8''%E6%88%90")
    );
    for url in
        [note_content.clone(), app.url(&format!("/api/v1/attachments/{}/content", note["sha256"].as_str().unwrap()))]
    {
        let (status, content_type, _) = answer(f.guest.client.get(&url).send().await.unwrap()).await;
        assert_eq!((status, content_type.as_str()), (StatusCode::NOT_FOUND, PROBLEM), "{url}");
    }
    let (_, _, listed) = answer(f.guest.client.get(&files_a).send().await.unwrap()).await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");

    // Over the limit: 413 and nothing stored, whether the length is declared or streamed.
    let (status, content_type, problem) =
        answer(app.client.post(format!("{files_a}?filename=big.txt")).body(vec![b'a'; 5000]).send().await.unwrap())
            .await;
    assert_eq!((status, content_type.as_str()), (StatusCode::PAYLOAD_TOO_LARGE, PROBLEM), "{problem}");
    let stream = futures::stream::iter((0..5).map(|_| Ok::<_, std::io::Error>(vec![b'b'; 1000])));
    let (status, _, _) = answer(
        app.client
            .post(format!("{files_a}?filename=big.txt"))
            .body(reqwest::Body::wrap_stream(stream))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (_, _, listed) = answer(app.client.get(&files_a).send().await.unwrap()).await;
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
    let stored: Vec<_> = walk(app.blobs.path());
    assert_eq!(stored.len(), 2, "only the two accepted contents are in the blob folder: {stored:?}");

    // Bad input: no file name, an unknown visibility, an empty body, another party's record.
    for (query, expected) in
        [("", StatusCode::BAD_REQUEST), ("?filename=a.txt&visibility=public", StatusCode::BAD_REQUEST)]
    {
        let (status, _, _) = answer(app.client.post(format!("{files_a}{query}")).body("x").send().await.unwrap()).await;
        assert_eq!(status, expected, "{query}");
    }
    let (status, _, _) = answer(app.client.post(format!("{files_a}?filename=a.txt")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let files_b = app.url(&format!("/api/v1/records/order/{}/attachments", f.order_b));
    let (status, _, _) = answer(
        f.guest
            .client
            .post(format!("{files_b}?filename=a.txt"))
            .header("X-CSRF-Token", &f.guest.csrf_token)
            .body("x")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Posted on a shared message, the guest sees the file in the thread.
    let (status, _, posted) = answer(
        app.client
            .post(app.url(&format!("/api/v1/records/order/{}/thread", f.order_a)))
            .json(&json!({"body": "see photo", "visibility": "shared", "attachments": [uploaded["id"]]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{posted}");
    assert_eq!(posted["attachments"][0]["id"], uploaded["id"]);
}

async fn pictures_get_thumbnails_checked_like_their_file(backend: TestBackend) {
    let f = fixture(backend).await;
    let app = &f.app;
    let files_a = app.url(&format!("/api/v1/records/order/{}/attachments", f.order_a));
    let upload = |name: &str, body: Vec<u8>, visibility: &str| {
        app.client.post(format!("{files_a}?filename={name}&visibility={visibility}")).body(body).send()
    };
    let mut photo = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(1000, 500, image::Rgb([30, 90, 190])))
        .write_to(&mut photo, image::ImageFormat::Png)
        .unwrap();
    let (status, _, internal) = answer(upload("plan.png", photo.into_inner(), "internal").await.unwrap()).await;
    assert_eq!(status, StatusCode::CREATED, "{internal}");
    assert_eq!(internal["thumbnail"], true);
    let thumbnail = app.url(&format!("/api/v1/attachments/{}/thumbnail", internal["id"].as_str().unwrap()));

    let response = app.client.get(&thumbnail).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/jpeg");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    let first = response.bytes().await.unwrap();
    let small = image::load_from_memory(&first).unwrap();
    assert_eq!((small.width(), small.height()), (320, 160));
    // Made once, then served from the blob store.
    let again = app.client.get(&thumbnail).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(again, first);
    let stored = walk(app.blobs.path());
    assert_eq!(stored.iter().filter(|p| p.to_string_lossy().contains("thumbnails")).count(), 1, "{stored:?}");

    // The guest may not see the internal picture, so not its thumbnail either.
    let (status, content_type, _) = answer(f.guest.client.get(&thumbnail).send().await.unwrap()).await;
    assert_eq!((status, content_type.as_str()), (StatusCode::NOT_FOUND, PROBLEM));
    // Not a picture, or a broken one: 404, never a 500.
    let (_, _, text) = answer(upload("note.txt", b"plain words".to_vec(), "internal").await.unwrap()).await;
    assert_eq!(text["thumbnail"], false);
    let broken: Vec<u8> = [&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A][..], &[7u8; 40][..]].concat();
    let (_, _, broken) = answer(upload("broken.png", broken, "shared").await.unwrap()).await;
    for id in [&text["id"], &broken["id"]] {
        let url = app.url(&format!("/api/v1/attachments/{}/thumbnail", id.as_str().unwrap()));
        let (status, content_type, problem) = answer(app.client.get(&url).send().await.unwrap()).await;
        assert_eq!((status, content_type.as_str()), (StatusCode::NOT_FOUND, PROBLEM), "{problem}");
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() { out.extend(walk(&path)) } else { out.push(path) }
    }
    out
}
