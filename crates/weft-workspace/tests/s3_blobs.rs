//! Attachments on an S3-compatible store, against a real S3 server on 127.0.0.1 (`s3s-fs`,
//! which keeps the bucket in a temporary folder): content stored once per hash under the
//! configured prefix, read back only through the attachment's checks, thumbnails kept next
//! to it; a store that refuses (wrong credentials) is an error that keeps no attachment row.

use std::path::Path;

use bytes::Bytes;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::json;
use uuid::Uuid;
use weft_model::Principal;
use weft_testkit::{TestBackend, TestDatabase, people};
use weft_workspace::collab::{AttachmentLimits, BlobStore, S3Options};
use weft_workspace::{DeclareOptions, Error, Workspace};

const ACCESS_KEY: &str = "weft-test-access";
const SECRET_KEY: &str = "weft-test-secret-key";
const BUCKET: &str = "weft-blobs";

/// Serves an S3 API over `root` (each folder a bucket) until the test ends; its address.
async fn s3_server(root: &Path) -> String {
    let fs = s3s_fs::FileSystem::new(root).expect("the S3 root");
    let mut builder = s3s::service::S3ServiceBuilder::new(fs);
    builder.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
    let service = builder.build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let http = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
        loop {
            let Ok((socket, _)) = listener.accept().await else { continue };
            let connection = http.serve_connection(TokioIo::new(socket), service.clone()).into_owned();
            tokio::spawn(async move {
                let _ = connection.await;
            });
        }
    });
    format!("http://{address}")
}

fn options(endpoint: &str) -> S3Options {
    S3Options {
        bucket: BUCKET.into(),
        endpoint: Some(endpoint.into()),
        region: "us-east-1".into(),
        access_key_id: ACCESS_KEY.into(),
        secret_access_key: SECRET_KEY.into(),
        prefix: Some("acme".into()),
        allow_http: true,
    }
}

fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path.to_string_lossy().into_owned());
        }
    }
    out
}

async fn workspace(db: &TestDatabase, blobs: BlobStore) -> (Workspace, Principal, Principal, Uuid) {
    let ws = Workspace::connect(&db.store_options()).await.unwrap().with_blob_store(blobs);
    ws.migrate().await.unwrap();
    let decl = serde_json::from_value(json!({
        "name": "order", "label": {"en": "Order", "zh": "订单"},
        "fields": [{"name": "subject", "label": {"en": "Subject", "zh": "主题"}, "type": "text", "required": true}]
    }))
    .unwrap();
    ws.declare_type(&Principal::system(), decl, &DeclareOptions::default()).await.unwrap();
    let staff = people::member(&ws, &["employee"]).await;
    let party = Uuid::now_v7();
    let input = json!({"subject": "steel", "party": party.to_string()}).as_object().cloned().unwrap();
    let order = match ws.create(&staff, "order", input, None).await.unwrap() {
        weft_workspace::Created::Fresh(view) => view.system.id,
        weft_workspace::Created::Replayed(_) => unreachable!(),
    };
    let guest = people::guest(&ws, Uuid::now_v7(), &["guest"]).await;
    (ws, staff, guest, order)
}

#[tokio::test]
async fn attachments_live_in_the_bucket_and_come_back_only_through_their_checks() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join(BUCKET)).unwrap();
    let endpoint = s3_server(root.path()).await;
    let db = TestDatabase::new(TestBackend::Sqlite).await.unwrap();
    let limits = AttachmentLimits { max_file_bytes: 64 * 1024, quota_bytes: 1024 * 1024 };
    let (ws, staff, stranger, order) = workspace(&db, BlobStore::s3(&options(&endpoint), limits).unwrap()).await;

    let pdf = Bytes::from_static(b"%PDF-1.7\n a quotation for 20 t of steel");
    let first = ws.upload_attachment(&staff, "order", order, "quote.pdf", None, pdf.clone()).await.unwrap();
    let second = ws.upload_attachment(&staff, "order", order, "copy.pdf", None, pdf.clone()).await.unwrap();
    assert_eq!(first.sha256, second.sha256);
    let stored = files(&root.path().join(BUCKET));
    assert_eq!(stored.len(), 1, "one object for one content: {stored:?}");
    assert!(stored[0].contains(&format!("acme/sha256/{}/{}", &first.sha256[..2], first.sha256)), "{stored:?}");

    let (_, back) = ws.attachment_content(&staff, second.id).await.unwrap();
    assert_eq!(back, pdf);
    // Someone who may not see the record gets nothing, bucket or not.
    assert!(matches!(ws.attachment_content(&stranger, first.id).await, Err(Error::NotFound(_))));

    // A picture's thumbnail is made once and kept in the bucket too.
    let mut png = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(800, 400, image::Rgb([10, 120, 60])))
        .write_to(&mut png, image::ImageFormat::Png)
        .unwrap();
    let picture =
        ws.upload_attachment(&staff, "order", order, "site.png", None, Bytes::from(png.into_inner())).await.unwrap();
    let (_, thumb, kind) = ws.attachment_thumbnail(&staff, picture.id).await.unwrap();
    assert_eq!(kind, "image/jpeg");
    let (_, again, _) = ws.attachment_thumbnail(&staff, picture.id).await.unwrap();
    assert_eq!(thumb, again);
    let stored = files(&root.path().join(BUCKET));
    assert!(stored.iter().any(|p| p.contains("acme/thumbnails/320/")), "{stored:?}");
    assert_eq!(stored.len(), 3, "{stored:?}");
}

#[tokio::test]
async fn a_store_that_refuses_is_an_error_and_keeps_no_attachment() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join(BUCKET)).unwrap();
    let endpoint = s3_server(root.path()).await;
    let db = TestDatabase::new(TestBackend::Sqlite).await.unwrap();
    let wrong = S3Options { secret_access_key: "not the secret".into(), ..options(&endpoint) };
    assert!(!format!("{wrong:?}").contains("not the secret"), "the secret stays out of logs");
    let (ws, staff, _, order) = workspace(&db, BlobStore::s3(&wrong, AttachmentLimits::default()).unwrap()).await;
    let refused = ws.upload_attachment(&staff, "order", order, "a.txt", None, "words".into()).await;
    assert!(matches!(refused, Err(Error::Unavailable(_))), "{refused:?}");
    assert!(ws.record_attachments(&staff, "order", order).await.unwrap().is_empty(), "no row without its content");
    assert!(files(&root.path().join(BUCKET)).is_empty());
}
