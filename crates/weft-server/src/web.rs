//! Serves the built web UI (a single-page app) from `web/dist`.
//!
//! Caching: files under `/assets/` carry a content hash in their names (Vite's output), so
//! they are cached for a year as immutable; everything else, `index.html` above all, is
//! revalidated on every load so a deploy is seen at once. Unknown paths get `index.html`
//! (the app routes on the client). Without a build, a placeholder page says so.

use std::convert::Infallible;
use std::path::Path;

use axum::body::Body;
use axum::response::{Html, IntoResponse, Response};
use http::{HeaderValue, Request, header};
use tower::ServiceExt;
use tower::util::BoxCloneSyncService;
use tower_http::services::{ServeDir, ServeFile};

const PLACEHOLDER: &str = include_str!("placeholder.html");
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

pub type WebService = BoxCloneSyncService<Request<Body>, Response, Infallible>;

pub fn service(dir: Option<&Path>) -> WebService {
    match dir.filter(|d| d.join("index.html").is_file()) {
        Some(dir) => {
            let files = ServeDir::new(dir)
                .append_index_html_on_directories(true)
                .precompressed_gzip()
                .fallback(ServeFile::new(dir.join("index.html")));
            BoxCloneSyncService::new(tower::service_fn(move |request: Request<Body>| {
                let files = files.clone();
                async move {
                    let immutable = request.uri().path().starts_with("/assets/");
                    let response = match files.oneshot(request).await {
                        Ok(r) => r.map(Body::new),
                        Err(never) => match never {},
                    };
                    Ok(with_cache_control(response, immutable))
                }
            }))
        }
        None => BoxCloneSyncService::new(tower::service_fn(|_request: Request<Body>| async {
            Ok(with_cache_control(Html(PLACEHOLDER).into_response(), false))
        })),
    }
}

fn with_cache_control(mut response: Response, immutable: bool) -> Response {
    let value = if immutable && response.status().is_success() { IMMUTABLE } else { REVALIDATE };
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    response
}
