//! Authentication over HTTP: sign-in and its failures (one answer whether the account
//! exists or not, and as slow), sessions (fresh ids, idle and absolute expiry, sign-out,
//! revocation, CSRF), API tokens narrowed to roles, TOTP with recovery codes, lockout and
//! per-address throttling, invitations for guests, disabling, and the admin endpoints.
//!
//! Time is moved with the workspace's identity clock instead of waited for.

use std::time::{Duration, Instant};

use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;
use weft_server::ServerOptions;
use weft_testkit::{SignedIn, TestApp, TestBackend, bearer_client, cookie_client, on_both_databases, spawn_app};
use weft_workspace::identity::{AuthSettings, Clock, INVALID_LOGIN, totp};

const PROBLEM: &str = "application/problem+json";
const PASSWORD: &str = "correct horse battery";

on_both_databases!(
    sign_in_answers_the_same_for_an_unknown_login_and_a_wrong_password,
    sign_in_sets_a_secure_cookie_only_over_https_when_auto,
    every_sign_in_makes_a_new_session_id_and_planted_ids_are_refused,
    sessions_end_when_idle_and_at_their_absolute_limit,
    sign_out_and_revocation_end_sessions,
    changing_the_password_ends_the_other_sessions,
    cookie_requests_that_change_things_need_the_csrf_token,
    api_tokens_act_with_the_roles_they_name_only,
    revoked_and_expired_tokens_are_refused,
    totp_needs_a_code_after_the_password_and_recovery_codes_work_once,
    repeated_failures_lock_the_account_even_for_the_right_password,
    too_many_failures_from_one_address_get_429_with_retry_after,
    unknown_logins_take_as_long_as_wrong_passwords,
    invitations_let_a_guest_of_the_party_set_a_password_and_sign_in,
    used_expired_and_unknown_invitations_are_refused,
    disabled_principals_cannot_sign_in_and_lose_sessions_and_tokens,
    members_without_admin_get_403_on_admin_endpoints,
    requests_without_valid_credentials_are_401_problems,
    bad_input_is_a_problem_with_pointers,
    admins_manage_principals_roles_and_service_tokens,
);

fn content_type(r: &Response) -> String {
    r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

/// Asserts a problem document with `status` and `code`, and returns it.
async fn problem(r: Response, status: StatusCode, code: &str) -> Value {
    let actual = r.status();
    let kind = content_type(&r);
    let body: Value = r.json().await.expect("problem body");
    assert_eq!(actual, status, "{body:#}");
    assert_eq!(kind, PROBLEM, "{body:#}");
    assert_eq!(body["code"], code, "{body:#}");
    body
}

async fn json_of(r: Response, status: StatusCode) -> Value {
    let actual = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(actual, status, "{body:#}");
    body
}

fn pointers(problem: &Value) -> Vec<String> {
    let mut out: Vec<String> = problem["errors"]
        .as_array()
        .map(|errors| errors.iter().map(|e| e["pointer"].as_str().unwrap_or_default().to_owned()).collect())
        .unwrap_or_default();
    out.sort();
    out
}

/// The `weft_session` value a response sets, and the whole `Set-Cookie` line.
fn set_cookie(r: &Response) -> Option<(String, String)> {
    r.headers().get_all(SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|line| {
        let value = line.strip_prefix("weft_session=")?.split(';').next()?.to_owned();
        Some((value, line.to_owned()))
    })
}

/// A client that sends no cookies of its own and no token: cookies are set by hand.
fn bare() -> reqwest::Client {
    reqwest::Client::new()
}

async fn login(app: &TestApp, client: &reqwest::Client, login: &str, password: &str) -> Response {
    client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({ "login": login, "password": password }))
        .send()
        .await
        .unwrap()
}

async fn session_status(app: &TestApp, client: &reqwest::Client) -> StatusCode {
    client.get(app.url("/api/v1/auth/session")).send().await.unwrap().status()
}

async fn with_cookie(app: &TestApp, cookie: &str, path: &str) -> Response {
    bare().get(app.url(path)).header(COOKIE, format!("weft_session={cookie}")).send().await.unwrap()
}

fn clock(app: &TestApp) -> Clock {
    app.workspace.auth_settings().clock.clone()
}

async fn app_with(backend: TestBackend, settings: AuthSettings) -> TestApp {
    weft_testkit::spawn_app_with_auth(backend, ServerOptions::default(), settings).await
}

fn audit_actions(entries: &[weft_testkit::AuditRow], target: &str) -> Vec<String> {
    entries.iter().filter(|e| e.target_id == target).map(|e| e.action.clone()).collect()
}

async fn sign_in_answers_the_same_for_an_unknown_login_and_a_wrong_password(backend: TestBackend) {
    let app = spawn_app(backend).await;
    let ann = app.create_member("ann@example.com", Some(PASSWORD), &["employee"]).await;

    let wrong = problem(
        login(&app, &bare(), "ann@example.com", "wrong password!").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    let unknown = problem(
        login(&app, &bare(), "nobody@example.com", "wrong password!").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    assert_eq!(wrong["detail"], INVALID_LOGIN);
    assert_eq!(unknown["detail"], wrong["detail"], "the answer never says whether the account exists");
    assert_eq!(wrong["title"], unknown["title"]);

    // The right password, with the login in another case and spaces around it.
    let r = login(&app, &bare(), "  ANN@example.com ", PASSWORD).await;
    let (cookie, _) = set_cookie(&r).expect("a session cookie");
    let body = json_of(r, StatusCode::OK).await;
    assert_eq!(body["status"], "signed_in");
    assert_eq!(body["principal"]["id"], ann.to_string());
    assert_eq!(body["principal"]["login"], "ann@example.com");
    assert!(body["principal"].get("password_hash").is_none(), "{body:#}");
    let csrf = body["csrf_token"].as_str().unwrap().to_owned();

    let who = json_of(with_cookie(&app, &cookie, "/api/v1/auth/session").await, StatusCode::OK).await;
    assert_eq!(who["principal"]["id"], ann.to_string());
    assert_eq!(who["via"], "session");
    assert_eq!(who["csrf_token"], csrf.as_str());

    // Every attempt is in the audit log: failures by the principal or by `anonymous`.
    let audit = app.audit_entries().await;
    assert_eq!(audit_actions(&audit, &ann.to_string()), ["principal.created", "auth.login_failed", "auth.login"]);
    let anonymous = audit.iter().find(|e| e.actor == "anonymous").expect("the unknown login is audited");
    assert_eq!((anonymous.action.as_str(), anonymous.target_id.as_str()), ("auth.login_failed", "nobody@example.com"));
    assert_eq!(anonymous.detail["reason"], "unknown_login");
    assert!(!audit.iter().any(|e| e.detail.to_string().contains("wrong password!")), "no password in the audit log");
    assert_eq!(
        app.workspace.verify_audit().await.unwrap(),
        weft_store::kernel::audit::AuditVerdict::Intact { entries: audit.len() as u64 }
    );
}

async fn sign_in_sets_a_secure_cookie_only_over_https_when_auto(backend: TestBackend) {
    let app = spawn_app(backend).await;
    app.create_member("ann@example.com", Some(PASSWORD), &["employee"]).await;

    let r = login(&app, &bare(), "ann@example.com", PASSWORD).await;
    let (_, line) = set_cookie(&r).unwrap();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="] {
        assert!(line.contains(attribute), "{line}");
    }
    assert!(!line.contains("Secure"), "plain HTTP: {line}");
    assert_eq!(r.headers().get("cache-control").unwrap(), "no-store");

    let r = bare()
        .post(app.url("/api/v1/auth/login"))
        .header("x-forwarded-proto", "https")
        .json(&json!({ "login": "ann@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    let (_, line) = set_cookie(&r).unwrap();
    assert!(line.ends_with("; Secure"), "behind a TLS proxy: {line}");
}

async fn every_sign_in_makes_a_new_session_id_and_planted_ids_are_refused(backend: TestBackend) {
    let app = spawn_app(backend).await;
    app.create_member("ann@example.com", Some(PASSWORD), &["employee"]).await;

    // An attacker plants a session id before the victim signs in: it is never valid.
    let planted = "planted-session-id-AAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    problem(with_cookie(&app, planted, "/api/v1/auth/session").await, StatusCode::UNAUTHORIZED, "unauthenticated")
        .await;
    let r = bare()
        .post(app.url("/api/v1/auth/login"))
        .header(COOKIE, format!("weft_session={planted}"))
        .json(&json!({ "login": "ann@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    let (first, _) = set_cookie(&r).unwrap();
    assert_ne!(first, planted);
    assert_eq!(first.len(), 43, "32 random bytes, base64url");
    problem(with_cookie(&app, planted, "/api/v1/auth/session").await, StatusCode::UNAUTHORIZED, "unauthenticated")
        .await;
    assert_eq!(with_cookie(&app, &first, "/api/v1/auth/session").await.status(), StatusCode::OK);

    // Signing in again from the same browser makes another id and ends the one it held.
    let r = bare()
        .post(app.url("/api/v1/auth/login"))
        .header(COOKIE, format!("weft_session={first}"))
        .json(&json!({ "login": "ann@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    let (second, _) = set_cookie(&r).unwrap();
    assert_ne!(second, first);
    assert_eq!(with_cookie(&app, &first, "/api/v1/auth/session").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(with_cookie(&app, &second, "/api/v1/auth/session").await.status(), StatusCode::OK);

    // Sessions are known by the digest of their id, never by the id itself.
    let ann = json_of(with_cookie(&app, &second, "/api/v1/me").await, StatusCode::OK).await;
    let ann = weft_model::Principal::member(ann["id"].as_str().unwrap().parse().unwrap());
    let stored = app.workspace.my_sessions(&ann, None).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].id.len(), 64);
    assert!(stored.iter().all(|s| s.id != first && s.id != second));
}

async fn sessions_end_when_idle_and_at_their_absolute_limit(backend: TestBackend) {
    let settings = AuthSettings {
        session_idle: Duration::from_secs(10 * 60),
        session_absolute: Duration::from_secs(60 * 60),
        ..AuthSettings::default()
    };
    let app = app_with(backend, settings).await;
    let clock = clock(&app);
    app.create_member("ann@example.com", Some(PASSWORD), &["employee"]).await;

    // Idle: each request moves the deadline; ten quiet minutes end the session.
    let ann = app.sign_in("ann@example.com", PASSWORD).await;
    for _ in 0..3 {
        clock.advance(Duration::from_secs(9 * 60));
        assert_eq!(session_status(&app, &ann.client).await, StatusCode::OK, "active sessions slide");
    }
    clock.advance(Duration::from_secs(10 * 60 + 1));
    let p = problem(
        ann.client.get(app.url("/api/v1/me")).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("expired"), "{p}");

    // Absolute: however busy, a session ends an hour after sign-in.
    let ann = app.sign_in("ann@example.com", PASSWORD).await;
    for _ in 0..6 {
        clock.advance(Duration::from_secs(9 * 60));
        assert_eq!(session_status(&app, &ann.client).await, StatusCode::OK);
    }
    clock.advance(Duration::from_secs(7 * 60));
    assert_eq!(session_status(&app, &ann.client).await, StatusCode::UNAUTHORIZED, "63 minutes after sign-in");
}

async fn sign_out_and_revocation_end_sessions(backend: TestBackend) {
    let app = spawn_app(backend).await;
    let ann_id = app.create_member("ann@example.com", Some(PASSWORD), &["employee"]).await;

    let ann = app.sign_in("ann@example.com", PASSWORD).await;
    let r =
        ann.client.post(app.url("/api/v1/auth/logout")).header("x-csrf-token", &ann.csrf_token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (cleared, line) = set_cookie(&r).expect("the cookie is removed");
    assert!(cleared.is_empty() && line.contains("Max-Age=0"), "{line}");
    assert_eq!(session_status(&app, &ann.client).await, StatusCode::UNAUTHORIZED);
    assert!(audit_actions(&app.audit_entries().await, &ann_id.to_string()).contains(&"auth.logout".to_owned()));

    // Two devices: one ends the other from its session list.
    let laptop = app.sign_in("ann@example.com", PASSWORD).await;
    let phone = app.sign_in("ann@example.com", PASSWORD).await;
    let list = json_of(laptop.client.get(app.url("/api/v1/me/sessions")).send().await.unwrap(), StatusCode::OK).await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{list:#}");
    assert_eq!(items.iter().filter(|s| s["current"] == true).count(), 1);
    let other = items.iter().find(|s| s["current"] == false).unwrap()["id"].as_str().unwrap().to_owned();
    let r = laptop
        .client
        .delete(app.url(&format!("/api/v1/me/sessions/{other}")))
        .header("x-csrf-token", &laptop.csrf_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(session_status(&app, &phone.client).await, StatusCode::UNAUTHORIZED);
    assert_eq!(session_status(&app, &laptop.client).await, StatusCode::OK);
    // Someone else's session is not found.
    let r = laptop
        .client
        .delete(app.url("/api/v1/me/sessions/0000"))
        .header("x-csrf-token", &laptop.csrf_token)
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::NOT_FOUND, "not_found").await;

    // An administrator ends all of them.
    let body = json_of(
        app.client.delete(app.url(&format!("/api/v1/admin/principals/{ann_id}/sessions"))).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["sessions_revoked"], 1);
    assert_eq!(session_status(&app, &laptop.client).await, StatusCode::UNAUTHORIZED);
}

async fn changing_the_password_ends_the_other_sessions(backend: TestBackend) {
    let app = spawn_app(backend).await;
    app.create_member("ann@example.com", Some(PASSWORD), &["employee"]).await;
    let laptop = app.sign_in("ann@example.com", PASSWORD).await;
    let phone = app.sign_in("ann@example.com", PASSWORD).await;
    let change = |current: &str, new: &str| {
        laptop
            .client
            .post(app.url("/api/v1/me/password"))
            .header("x-csrf-token", &laptop.csrf_token)
            .json(&json!({ "current_password": current, "new_password": new }))
            .send()
    };

    let p =
        problem(change("not my password", "a brand new password").await.unwrap(), StatusCode::FORBIDDEN, "forbidden")
            .await;
    assert!(p["detail"].as_str().unwrap().contains("wrong"), "{p}");
    let p =
        problem(change(PASSWORD, "short").await.unwrap(), StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(pointers(&p), ["/new_password"]);
    assert_eq!(session_status(&app, &phone.client).await, StatusCode::OK, "refused changes end nothing");

    let body = json_of(change(PASSWORD, "a brand new password").await.unwrap(), StatusCode::OK).await;
    assert_eq!(body["sessions_revoked"], 1);
    assert_eq!(session_status(&app, &laptop.client).await, StatusCode::OK, "this session stays");
    assert_eq!(session_status(&app, &phone.client).await, StatusCode::UNAUTHORIZED, "the others end");
    assert_eq!(login(&app, &bare(), "ann@example.com", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(login(&app, &bare(), "ann@example.com", "a brand new password").await.status(), StatusCode::OK);
}

async fn cookie_requests_that_change_things_need_the_csrf_token(backend: TestBackend) {
    let app = spawn_app(backend).await;
    app.create_member("ann@example.com", Some(PASSWORD), &["employee"]).await;
    let ann = app.sign_in("ann@example.com", PASSWORD).await;
    let url = app.url("/api/v1/me/tokens");
    let body = json!({ "name": "script" });

    let p = problem(ann.client.post(&url).json(&body).send().await.unwrap(), StatusCode::FORBIDDEN, "forbidden").await;
    assert!(p["detail"].as_str().unwrap().contains("X-CSRF-Token"), "{p}");
    let r = ann.client.post(&url).header("x-csrf-token", "not-the-token").json(&body).send().await.unwrap();
    problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    let r = ann.client.delete(app.url(&format!("/api/v1/me/tokens/{}", Uuid::now_v7()))).send().await.unwrap();
    problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    assert!(
        json_of(ann.client.get(&url).send().await.unwrap(), StatusCode::OK).await["items"]
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing was made, and reads need no token"
    );

    let created = json_of(
        ann.client.post(&url).header("x-csrf-token", &ann.csrf_token).json(&body).send().await.unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let token = created["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("weft_"), "{created}");

    // A bearer token is never sent by a browser on its own: no CSRF token needed.
    let bearer = bearer_client(&token);
    let r = bearer.post(&url).json(&json!({ "name": "another" })).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
}

async fn api_tokens_act_with_the_roles_they_name_only(backend: TestBackend) {
    let app = spawn_app(backend).await;
    let boss = app.create_member("boss@example.com", Some(PASSWORD), &["admin", "employee"]).await;
    let signed_in = app.sign_in("boss@example.com", PASSWORD).await;
    let make = |roles: Value| {
        signed_in
            .client
            .post(app.url("/api/v1/me/tokens"))
            .header("x-csrf-token", &signed_in.csrf_token)
            .json(&json!({ "name": "narrow", "roles": roles }))
            .send()
    };

    // A role the owner does not hold cannot be put on a token.
    let p = problem(
        make(json!(["employee", "guest"])).await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(pointers(&p), ["/roles/1"]);
    let p =
        problem(make(json!(["no_such_role"])).await.unwrap(), StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
            .await;
    assert_eq!(pointers(&p), ["/roles/0"]);

    let narrow = json_of(make(json!(["employee"])).await.unwrap(), StatusCode::CREATED).await;
    assert_eq!(narrow["roles"], json!(["employee"]));
    let narrow = bearer_client(narrow["token"].as_str().unwrap());
    let full = json_of(make(json!(["admin", "employee"])).await.unwrap(), StatusCode::CREATED).await;
    let full = bearer_client(full["token"].as_str().unwrap());

    // The owner is an administrator; the narrow token is not.
    assert_eq!(full.get(app.url("/api/v1/admin/principals")).send().await.unwrap().status(), StatusCode::OK);
    problem(narrow.get(app.url("/api/v1/admin/principals")).send().await.unwrap(), StatusCode::FORBIDDEN, "forbidden")
        .await;
    let who = json_of(narrow.get(app.url("/api/v1/auth/session")).send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(who["via"], "token");
    assert_eq!(who["token_roles"], json!(["employee"]));
    assert_eq!(who["principal"]["id"], boss.to_string());
    // …nor can it make a token wider than itself.
    let r = narrow
        .post(app.url("/api/v1/me/tokens"))
        .json(&json!({ "name": "wider", "roles": ["admin"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(pointers(&problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await), ["/roles/0"]);

    // Losing a role narrows every token naming it.
    json_of(
        app.client
            .put(app.url(&format!("/api/v1/admin/principals/{boss}/roles")))
            .json(&json!({ "roles": ["employee"] }))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    problem(full.get(app.url("/api/v1/admin/principals")).send().await.unwrap(), StatusCode::FORBIDDEN, "forbidden")
        .await;
}

async fn revoked_and_expired_tokens_are_refused(backend: TestBackend) {
    let app = spawn_app(backend).await;
    let clock = clock(&app);
    let ann = app.create_member("ann@example.com", Some(PASSWORD), &["employee"]).await;
    let token = app.token_for(ann, None).await;
    let client = bearer_client(&token);
    assert_eq!(client.get(app.url("/api/v1/me")).send().await.unwrap().status(), StatusCode::OK);

    let listed = json_of(client.get(app.url("/api/v1/me/tokens")).send().await.unwrap(), StatusCode::OK).await;
    let item = &listed["items"][0];
    assert!(item.get("token").is_none() && item["last_used_at"].is_string(), "{listed:#}");
    let id = item["id"].as_str().unwrap().to_owned();
    assert_eq!(
        client.delete(app.url(&format!("/api/v1/me/tokens/{id}"))).send().await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    let p =
        problem(client.get(app.url("/api/v1/me")).send().await.unwrap(), StatusCode::UNAUTHORIZED, "unauthenticated")
            .await;
    assert!(p["detail"].as_str().unwrap().contains("revoked"), "{p}");

    let expires = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    let expires = expires.format(&time::format_description::well_known::Rfc3339).unwrap();
    let created = app
        .workspace
        .create_token(
            &weft_model::Principal::member(ann),
            ann,
            weft_workspace::identity::NewToken { name: "short".into(), roles: None, expires_at: Some(expires) },
        )
        .await
        .unwrap();
    let client = bearer_client(&created.token);
    assert_eq!(client.get(app.url("/api/v1/me")).send().await.unwrap().status(), StatusCode::OK);
    clock.advance(Duration::from_secs(2 * 3600));
    let p =
        problem(client.get(app.url("/api/v1/me")).send().await.unwrap(), StatusCode::UNAUTHORIZED, "unauthenticated")
            .await;
    assert!(p["detail"].as_str().unwrap().contains("expired"), "{p}");
}

/// A six-digit string that is none of the codes valid around `at`.
fn wrong_code(secret: &str, at: time::OffsetDateTime) -> String {
    let valid: Vec<String> =
        [-30, 0, 30].iter().map(|s| totp::code_at(secret, at + time::Duration::seconds(*s)).unwrap()).collect();
    ["000000", "111111", "222222"].into_iter().find(|c| !valid.iter().any(|v| v == c)).unwrap().to_owned()
}

async fn second_step(app: &TestApp, challenge: &str, code: &str) -> Response {
    bare()
        .post(app.url("/api/v1/auth/login/totp"))
        .json(&json!({ "challenge": challenge, "code": code }))
        .send()
        .await
        .unwrap()
}

async fn challenge(app: &TestApp) -> String {
    let r = login(app, &bare(), "ann@example.com", PASSWORD).await;
    assert!(set_cookie(&r).is_none(), "no session before the second step");
    let body = json_of(r, StatusCode::OK).await;
    assert_eq!(body["status"], "totp_required", "{body:#}");
    body["challenge"].as_str().unwrap().to_owned()
}

async fn totp_needs_a_code_after_the_password_and_recovery_codes_work_once(backend: TestBackend) {
    let app = spawn_app(backend).await;
    let clock = clock(&app);
    let ann_id = app.create_member("ann@example.com", Some(PASSWORD), &["employee"]).await;
    let ann = app.sign_in("ann@example.com", PASSWORD).await;
    let post = |path: &str, body: Value| {
        ann.client.post(app.url(path)).header("x-csrf-token", &ann.csrf_token).json(&body).send()
    };

    let enrolment = json_of(post("/api/v1/me/totp", json!({})).await.unwrap(), StatusCode::OK).await;
    let secret = enrolment["secret"].as_str().unwrap().to_owned();
    assert!(enrolment["otpauth_url"].as_str().unwrap().starts_with("otpauth://totp/Weft:ann%40example.com?secret="));
    // Pending until confirmed: signing in still needs the password only.
    assert_eq!(
        json_of(login(&app, &bare(), "ann@example.com", PASSWORD).await, StatusCode::OK).await["status"],
        "signed_in"
    );

    let p = problem(
        post("/api/v1/me/totp/confirm", json!({ "code": wrong_code(&secret, clock.now()) })).await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(pointers(&p), ["/code"]);
    let code = totp::code_at(&secret, clock.now()).unwrap();
    let codes = json_of(post("/api/v1/me/totp/confirm", json!({ "code": code })).await.unwrap(), StatusCode::OK).await;
    let recovery: Vec<String> =
        codes["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    assert_eq!(recovery.len(), 10);
    assert_eq!(
        json_of(ann.client.get(app.url("/api/v1/me")).send().await.unwrap(), StatusCode::OK).await["totp_enabled"],
        true
    );

    // The password alone now yields a challenge; a wrong code is refused and counted.
    let first = challenge(&app).await;
    let p = problem(
        second_step(&app, &first, &wrong_code(&secret, clock.now())).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    assert_eq!(p["detail"], "invalid code");
    let audit = app.audit_entries().await;
    let failed = audit.iter().rev().find(|e| e.action == "auth.login_failed").unwrap();
    assert_eq!(
        (failed.target_id.as_str(), failed.detail["reason"].as_str()),
        (ann_id.to_string().as_str(), Some("wrong_code"))
    );

    // The next code (within the allowed skew) signs in, once.
    let next = totp::code_at(&secret, clock.now() + time::Duration::seconds(30)).unwrap();
    let r = second_step(&app, &first, &next).await;
    let (cookie, _) = set_cookie(&r).expect("a session after the second step");
    assert_eq!(json_of(r, StatusCode::OK).await["status"], "signed_in");
    assert_eq!(with_cookie(&app, &cookie, "/api/v1/me").await.status(), StatusCode::OK);
    problem(second_step(&app, &first, &next).await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let again = challenge(&app).await;
    let p = problem(second_step(&app, &again, &next).await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    assert_eq!(p["detail"], "invalid code", "a code is never accepted twice");

    // A recovery code works in place of a code, once (any case, with or without dashes).
    let r = second_step(&app, &again, &recovery[0].to_uppercase()).await;
    assert_eq!(json_of(r, StatusCode::OK).await["status"], "signed_in");
    let third = challenge(&app).await;
    problem(second_step(&app, &third, &recovery[0]).await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    assert_eq!(
        json_of(second_step(&app, &third, &recovery[1].replace('-', "")).await, StatusCode::OK).await["status"],
        "signed_in"
    );

    // Challenges expire after five minutes.
    let late = challenge(&app).await;
    clock.advance(Duration::from_secs(301));
    let p = problem(second_step(&app, &late, &recovery[2]).await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    assert!(p["detail"].as_str().unwrap().contains("sign in again"), "{p}");

    // Turning TOTP off needs the password.
    let p = problem(
        post("/api/v1/me/totp/disable", json!({ "password": "not the password" })).await.unwrap(),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("wrong"), "{p}");
    assert_eq!(
        post("/api/v1/me/totp/disable", json!({ "password": PASSWORD })).await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        json_of(login(&app, &bare(), "ann@example.com", PASSWORD).await, StatusCode::OK).await["status"],
        "signed_in"
    );
    let actions = audit_actions(&app.audit_entries().await, &ann_id.to_string());
    for action in ["auth.totp_enrolment_started", "auth.totp_enabled", "auth.password_verified", "auth.totp_disabled"] {
        assert!(actions.iter().any(|a| a == action), "{action} missing from {actions:?}");
    }
}

async fn repeated_failures_lock_the_account_even_for_the_right_password(backend: TestBackend) {
    let settings = AuthSettings {
        lockout_threshold: 3,
        lockout_duration: Duration::from_secs(15 * 60),
        ..AuthSettings::default()
    };
    let app = app_with(backend, settings).await;
    let clock = clock(&app);
    let ann = app.create_member("ann@example.com", Some(PASSWORD), &["employee"]).await;

    // Two failures, then a success: the count starts again.
    for _ in 0..2 {
        assert_eq!(login(&app, &bare(), "ann@example.com", "wrong password!").await.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(login(&app, &bare(), "ann@example.com", PASSWORD).await.status(), StatusCode::OK);
    for _ in 0..3 {
        assert_eq!(login(&app, &bare(), "ann@example.com", "wrong password!").await.status(), StatusCode::UNAUTHORIZED);
    }
    // Locked: the right password gets the same answer as a wrong one.
    let p =
        problem(login(&app, &bare(), "ann@example.com", PASSWORD).await, StatusCode::UNAUTHORIZED, "unauthenticated")
            .await;
    assert_eq!(p["detail"], INVALID_LOGIN);
    let view = json_of(
        app.client.get(app.url(&format!("/api/v1/admin/principals/{ann}"))).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(view["locked_until"].is_string(), "{view:#}");

    let audit = app.audit_entries().await;
    let locked = audit.iter().find(|e| e.action == "auth.locked").expect("the lockout is audited");
    assert_eq!(
        (locked.actor.as_str(), locked.target_id.as_str()),
        (ann.to_string().as_str(), ann.to_string().as_str())
    );
    let last = audit.iter().rev().find(|e| e.action == "auth.login_failed").unwrap();
    assert_eq!(last.detail["reason"], "locked");

    // The lock lifts by itself.
    clock.advance(Duration::from_secs(15 * 60 + 1));
    assert_eq!(login(&app, &bare(), "ann@example.com", PASSWORD).await.status(), StatusCode::OK);
}

async fn too_many_failures_from_one_address_get_429_with_retry_after(backend: TestBackend) {
    let settings =
        AuthSettings { ip_failure_limit: 5, ip_window: Duration::from_secs(10 * 60), ..AuthSettings::default() };
    let app = app_with(backend, settings).await;
    let clock = clock(&app);
    app.create_member("ann@example.com", Some(PASSWORD), &["employee"]).await;

    for i in 0..5 {
        let r = login(&app, &bare(), &format!("guess{i}@example.com"), "wrong password!").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    for (who, password) in [("guess@example.com", "wrong password!"), ("ann@example.com", PASSWORD)] {
        let r = login(&app, &bare(), who, password).await;
        let retry_after: u64 = r.headers().get("retry-after").expect("Retry-After").to_str().unwrap().parse().unwrap();
        assert!((1..=600).contains(&retry_after), "{retry_after}");
        problem(r, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    }
    // Authenticated requests are not throttled.
    assert_eq!(app.get("/api/v1/me").await.status(), StatusCode::OK);

    clock.advance(Duration::from_secs(10 * 60 + 1));
    assert_eq!(login(&app, &bare(), "ann@example.com", PASSWORD).await.status(), StatusCode::OK);
}

/// The lower quartile: load from other tests only ever adds time, so the low end of the
/// samples shows what each path costs and the high end mostly shows the machine.
fn lower_quartile(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 4]
}

async fn unknown_logins_take_as_long_as_wrong_passwords(backend: TestBackend) {
    let settings = AuthSettings { ip_failure_limit: 10_000, lockout_threshold: 10_000, ..AuthSettings::default() };
    let app = app_with(backend, settings).await;
    app.create_member("ann@example.com", Some(PASSWORD), &["employee"]).await;
    let client = bare();
    // Warm up both paths (connections, the dummy hash).
    for who in ["nobody@example.com", "ann@example.com"] {
        login(&app, &client, who, "wrong password!").await;
    }
    let (mut unknown, mut known) = (Vec::new(), Vec::new());
    for _ in 0..24 {
        for (who, samples) in [("nobody@example.com", &mut unknown), ("ann@example.com", &mut known)] {
            let started = Instant::now();
            let r = login(&app, &client, who, "wrong password!").await;
            samples.push(started.elapsed());
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        }
    }
    let (unknown, known) = (lower_quartile(unknown), lower_quartile(known));
    let ratio = unknown.as_secs_f64().max(known.as_secs_f64()) / unknown.as_secs_f64().min(known.as_secs_f64());
    assert!(ratio < 1.25, "lower quartile unknown {unknown:?} vs wrong password {known:?}: ratio {ratio:.2}");
}

async fn invite(app: &TestApp, login: &str, party: Uuid) -> Value {
    let r = app
        .client
        .post(app.url("/api/v1/admin/invitations"))
        .json(&json!({ "login": login, "display_name": "Li Lei", "email": login, "party": party }))
        .send()
        .await
        .unwrap();
    json_of(r, StatusCode::CREATED).await
}

async fn accept(app: &TestApp, client: &reqwest::Client, token: &str, password: &str) -> Response {
    client
        .post(app.url("/api/v1/auth/invitations/accept"))
        .json(&json!({ "token": token, "password": password }))
        .send()
        .await
        .unwrap()
}

async fn invitations_let_a_guest_of_the_party_set_a_password_and_sign_in(backend: TestBackend) {
    let app = spawn_app(backend).await;
    let party = Uuid::now_v7();
    let invitation = invite(&app, "Li.Lei@Supplier.example", party).await;
    let guest = &invitation["principal"];
    assert_eq!(guest["kind"], "guest");
    assert_eq!(guest["status"], "invited");
    assert_eq!(guest["party"], party.to_string());
    assert_eq!(guest["roles"], json!(["guest"]));
    assert_eq!(guest["login"], "li.lei@supplier.example");
    let token = invitation["token"].as_str().unwrap().to_owned();

    // Not signed in before accepting, whatever the password.
    assert_eq!(login(&app, &bare(), "li.lei@supplier.example", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    let p =
        problem(accept(&app, &bare(), &token, "short").await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
            .await;
    assert_eq!(pointers(&p), ["/password"]);

    let browser = cookie_client();
    let r = accept(&app, &browser, &token, PASSWORD).await;
    assert!(set_cookie(&r).is_some());
    let body = json_of(r, StatusCode::OK).await;
    assert_eq!(body["status"], "signed_in");
    let me = json_of(browser.get(app.url("/api/v1/me")).send().await.unwrap(), StatusCode::OK).await;
    assert_eq!((me["kind"].as_str(), me["status"].as_str()), (Some("guest"), Some("active")));
    assert_eq!(me["party"], party.to_string(), "bound to its party");
    assert_eq!(me["has_password"], true);

    // From now on the guest signs in like anyone else.
    let signed_in: SignedIn = app.sign_in("li.lei@supplier.example", PASSWORD).await;
    assert_eq!(signed_in.principal_id.to_string(), guest["id"].as_str().unwrap());

    // A guest cannot hold member roles; a member cannot be invited.
    let r = app
        .client
        .post(app.url("/api/v1/admin/invitations"))
        .json(&json!({ "login": "x@supplier.example", "display_name": "X", "party": party, "roles": ["employee"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(pointers(&problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await), ["/roles/0"]);
    let r = app
        .client
        .post(app.url("/api/v1/admin/invitations"))
        .json(&json!({ "login": "y@supplier.example", "display_name": "Y" }))
        .send()
        .await
        .unwrap();
    assert_eq!(pointers(&problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await), ["/party"]);
}

async fn used_expired_and_unknown_invitations_are_refused(backend: TestBackend) {
    let app = spawn_app(backend).await;
    let clock = clock(&app);
    let party = Uuid::now_v7();
    let token = invite(&app, "a@supplier.example", party).await["token"].as_str().unwrap().to_owned();
    assert_eq!(accept(&app, &bare(), &token, PASSWORD).await.status(), StatusCode::OK);
    let p =
        problem(accept(&app, &bare(), &token, "another password").await, StatusCode::UNAUTHORIZED, "unauthenticated")
            .await;
    assert!(p["detail"].as_str().unwrap().contains("already used"), "{p}");
    assert_eq!(login(&app, &bare(), "a@supplier.example", "another password").await.status(), StatusCode::UNAUTHORIZED);

    let late = invite(&app, "b@supplier.example", party).await["token"].as_str().unwrap().to_owned();
    clock.advance(Duration::from_secs(7 * 24 * 3600 + 1));
    let p = problem(accept(&app, &bare(), &late, PASSWORD).await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    assert!(p["detail"].as_str().unwrap().contains("expired"), "{p}");
    let b = app.workspace.principal_by_login(&weft_model::Principal::system(), "b@supplier.example").await.unwrap();
    assert_eq!(b.status, weft_workspace::identity::PrincipalStatus::Invited, "still invited");

    let p =
        problem(accept(&app, &bare(), "made-up-token", PASSWORD).await, StatusCode::UNAUTHORIZED, "unauthenticated")
            .await;
    assert!(p["detail"].as_str().unwrap().contains("not valid"), "{p}");
    let refused = app.audit_entries().await.into_iter().filter(|e| e.action == "invitation.refused").count();
    assert_eq!(refused, 3);
}

async fn disabled_principals_cannot_sign_in_and_lose_sessions_and_tokens(backend: TestBackend) {
    let app = spawn_app(backend).await;
    let ann = app.create_member("ann@example.com", Some(PASSWORD), &["employee"]).await;
    let browser = app.sign_in("ann@example.com", PASSWORD).await;
    let token = bearer_client(&app.token_for(ann, None).await);

    let view = json_of(
        app.client.post(app.url(&format!("/api/v1/admin/principals/{ann}/disable"))).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(view["status"], "disabled");
    assert_eq!(session_status(&app, &browser.client).await, StatusCode::UNAUTHORIZED);
    assert_eq!(token.get(app.url("/api/v1/me")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let p =
        problem(login(&app, &bare(), "ann@example.com", PASSWORD).await, StatusCode::UNAUTHORIZED, "unauthenticated")
            .await;
    assert_eq!(p["detail"], INVALID_LOGIN);

    // Enabled again: new sign-ins work; the old token stays revoked.
    let view = json_of(
        app.client.post(app.url(&format!("/api/v1/admin/principals/{ann}/enable"))).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(view["status"], "active");
    assert_eq!(login(&app, &bare(), "ann@example.com", PASSWORD).await.status(), StatusCode::OK);
    assert_eq!(token.get(app.url("/api/v1/me")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);

    // An administrator cannot disable itself.
    let r =
        app.client.post(app.url(&format!("/api/v1/admin/principals/{}/disable", app.admin_id))).send().await.unwrap();
    problem(r, StatusCode::CONFLICT, "conflict").await;
    let actions = audit_actions(&app.audit_entries().await, &ann.to_string());
    assert!(
        actions.contains(&"principal.disabled".to_owned()) && actions.contains(&"principal.enabled".to_owned()),
        "{actions:?}"
    );
}

async fn members_without_admin_get_403_on_admin_endpoints(backend: TestBackend) {
    let app = spawn_app(backend).await;
    let ann = app.create_member("ann@example.com", Some(PASSWORD), &["employee"]).await;
    let guest = app.create_guest("g@supplier.example", PASSWORD, Uuid::now_v7(), &["guest"]).await;
    for principal in [ann, guest] {
        let client = if principal == ann {
            bearer_client(&app.token_for(ann, None).await)
        } else {
            // Guests make no API tokens; they come with a browser session.
            app.sign_in("g@supplier.example", PASSWORD).await.client
        };
        let r = client.get(app.url("/api/v1/admin/principals")).send().await.unwrap();
        problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        let r = client.get(app.url(&format!("/api/v1/admin/principals/{}", app.admin_id))).send().await.unwrap();
        problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    }
    let token = bearer_client(&app.token_for(ann, None).await);
    for (path, body) in [
        ("/api/v1/admin/principals".to_owned(), json!({ "login": "x@example.com", "display_name": "X" })),
        (
            "/api/v1/admin/invitations".to_owned(),
            json!({ "login": "x@example.com", "display_name": "X", "party": Uuid::now_v7() }),
        ),
        (format!("/api/v1/admin/principals/{ann}/disable"), json!({})),
        (format!("/api/v1/admin/principals/{}/password", app.admin_id), json!({ "password": "taken over at last" })),
    ] {
        let r = token.post(app.url(&path)).json(&body).send().await.unwrap();
        problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    }
    let r = token
        .put(app.url(&format!("/api/v1/admin/principals/{ann}/roles")))
        .json(&json!({ "roles": ["admin"] }))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(
        json_of(token.get(app.url("/api/v1/me")).send().await.unwrap(), StatusCode::OK).await["roles"],
        json!(["employee"])
    );
}

async fn requests_without_valid_credentials_are_401_problems(backend: TestBackend) {
    let app = spawn_app(backend).await;
    for path in ["/api/v1/types", "/api/v1/me", "/api/v1/admin/principals", "/api/v1/decisions", "/api/v1/auth/session"]
    {
        let r = app.anonymous.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.headers().get("www-authenticate").unwrap(), "Bearer realm=\"weft\"");
        problem(r, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    }
    let r = app.anonymous.post(app.url("/api/v1/types")).json(&json!({})).send().await.unwrap();
    problem(r, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    for header in ["Bearer weft_not-a-real-token", "Bearer not-even-a-weft-token", "Basic YWRtaW46YWRtaW4="] {
        let r = bare().get(app.url("/api/v1/types")).header("authorization", header).send().await.unwrap();
        problem(r, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    }
    // Probes, the OpenAPI document, the web UI and sign-in stay public.
    for path in ["/healthz", "/readyz", "/api/v1/openapi.json", "/"] {
        assert_eq!(app.anonymous.get(app.url(path)).send().await.unwrap().status(), StatusCode::OK, "{path}");
    }
    let document =
        json_of(app.anonymous.get(app.url("/api/v1/openapi.json")).send().await.unwrap(), StatusCode::OK).await;
    for path in [
        "/api/v1/auth/login",
        "/api/v1/auth/login/totp",
        "/api/v1/me/tokens",
        "/api/v1/admin/principals",
        "/api/v1/admin/invitations",
    ] {
        assert!(document["paths"].get(path).is_some(), "{path} is documented");
    }
}

async fn bad_input_is_a_problem_with_pointers(backend: TestBackend) {
    let app = spawn_app(backend).await;
    let r = bare().post(app.url("/api/v1/auth/login")).json(&json!({})).send().await.unwrap();
    assert_eq!(
        pointers(&problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await),
        ["/login", "/password"]
    );
    let r =
        bare().post(app.url("/api/v1/auth/login")).json(&json!({ "login": 5, "password": "x" })).send().await.unwrap();
    assert_eq!(pointers(&problem(r, StatusCode::BAD_REQUEST, "malformed_json").await), ["/login"]);
    let r = bare().post(app.url("/api/v1/auth/login")).body("login=ann").send().await.unwrap();
    problem(r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;

    let create = |body: Value| app.client.post(app.url("/api/v1/admin/principals")).json(&body).send();
    let p = problem(
        create(json!({ "kind": "guest", "login": "a b", "display_name": " ", "email": "nope", "password": "short", "roles": ["admin"] }))
            .await
            .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(pointers(&p), ["/display_name", "/email", "/login", "/party", "/password", "/roles/0"], "{p:#}");
    let p = problem(
        create(json!({ "kind": "service", "login": "robot", "display_name": "Robot", "password": "a long password" }))
            .await
            .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(pointers(&p), ["/password"]);
    let p = problem(
        create(json!({ "login": "x", "display_name": "X", "colour": "red" })).await.unwrap(),
        StatusCode::BAD_REQUEST,
        "malformed_json",
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("colour"), "{p}");

    // Logins are unique without regard to case.
    assert_eq!(
        create(json!({ "login": "Ann@Example.com", "display_name": "Ann" })).await.unwrap().status(),
        StatusCode::CREATED
    );
    let p = problem(
        create(json!({ "login": "ANN@example.COM", "display_name": "Ann" })).await.unwrap(),
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert_eq!(pointers(&p), ["/login"]);

    let r = app
        .client
        .post(app.url("/api/v1/me/tokens"))
        .json(&json!({ "name": "", "expires_at": "yesterday" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        pointers(&problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await),
        ["/expires_at", "/name"]
    );
    let r = app.client.get(app.url("/api/v1/admin/principals?kind=robot")).send().await.unwrap();
    problem(r, StatusCode::BAD_REQUEST, "bad_request").await;
}

async fn admins_manage_principals_roles_and_service_tokens(backend: TestBackend) {
    let app = spawn_app(backend).await;
    let r = app
        .client
        .post(app.url("/api/v1/admin/principals"))
        .json(&json!({ "login": "ann@example.com", "display_name": "Ann", "password": PASSWORD, "locale": "zh-CN" }))
        .send()
        .await
        .unwrap();
    let ann = json_of(r, StatusCode::CREATED).await;
    assert_eq!(ann["roles"], json!(["employee"]), "members default to employee");
    assert_eq!(ann["has_password"], true);
    let id = ann["id"].as_str().unwrap().to_owned();

    let patched = json_of(
        app.client
            .patch(app.url(&format!("/api/v1/admin/principals/{id}")))
            .json(&json!({ "display_name": "Ann Lee", "email": "ann@example.com", "locale": null }))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (patched["display_name"].as_str(), patched["email"].as_str()),
        (Some("Ann Lee"), Some("ann@example.com"))
    );
    assert!(patched["locale"].is_null());

    let set_roles = |roles: Value| {
        app.client.put(app.url(&format!("/api/v1/admin/principals/{id}/roles"))).json(&json!({ "roles": roles })).send()
    };
    let p = problem(
        set_roles(json!(["employee", "nope", "guest"])).await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(pointers(&p), ["/roles/1", "/roles/2"]);
    assert_eq!(
        json_of(set_roles(json!(["admin", "employee"])).await.unwrap(), StatusCode::OK).await["roles"],
        json!(["admin", "employee"])
    );

    // A password reset ends the sessions and lets the new password in.
    let browser = app.sign_in("ann@example.com", PASSWORD).await;
    let r = app
        .client
        .post(app.url(&format!("/api/v1/admin/principals/{id}/password")))
        .json(&json!({ "password": "weak" }))
        .send()
        .await
        .unwrap();
    assert_eq!(pointers(&problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await), ["/password"]);
    let r = app
        .client
        .post(app.url(&format!("/api/v1/admin/principals/{id}/password")))
        .json(&json!({ "password": "reset by the admin" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(session_status(&app, &browser.client).await, StatusCode::UNAUTHORIZED);
    assert_eq!(login(&app, &bare(), "ann@example.com", "reset by the admin").await.status(), StatusCode::OK);

    // Service accounts: tokens come from an administrator, for roles the account holds.
    let robot = json_of(
        app.client
            .post(app.url("/api/v1/admin/principals"))
            .json(&json!({ "kind": "service", "login": "erp-sync", "display_name": "ERP sync", "roles": ["employee"] }))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let robot_id = robot["id"].as_str().unwrap();
    let r = app
        .client
        .post(app.url(&format!("/api/v1/admin/principals/{robot_id}/tokens")))
        .json(&json!({ "name": "sync", "roles": ["admin"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(pointers(&problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await), ["/roles/0"]);
    let created = json_of(
        app.client
            .post(app.url(&format!("/api/v1/admin/principals/{robot_id}/tokens")))
            .json(&json!({ "name": "sync" }))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let robot_client = bearer_client(created["token"].as_str().unwrap());
    let me = json_of(robot_client.get(app.url("/api/v1/me")).send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(me["kind"], "service");
    assert_eq!(robot_client.get(app.url("/api/v1/types")).send().await.unwrap().status(), StatusCode::OK);
    // Administrators make tokens for service accounts, not for members.
    let r = app
        .client
        .post(app.url(&format!("/api/v1/admin/principals/{id}/tokens")))
        .json(&json!({ "name": "x" }))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    // A service account cannot sign in with a password.
    assert_eq!(login(&app, &bare(), "erp-sync", "any password at all").await.status(), StatusCode::UNAUTHORIZED);
    let tokens = json_of(
        app.client.get(app.url(&format!("/api/v1/admin/principals/{robot_id}/tokens"))).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    let token_id = tokens["items"][0]["id"].as_str().unwrap();
    let r = app
        .client
        .delete(app.url(&format!("/api/v1/admin/principals/{robot_id}/tokens/{token_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(robot_client.get(app.url("/api/v1/me")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);

    // Lists filter by kind and status.
    let services =
        json_of(app.client.get(app.url("/api/v1/admin/principals?kind=service")).send().await.unwrap(), StatusCode::OK)
            .await;
    assert_eq!(services["items"].as_array().unwrap().len(), 1);
    let members = json_of(
        app.client.get(app.url("/api/v1/admin/principals?kind=member&status=active")).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    let logins: Vec<&str> = members["items"].as_array().unwrap().iter().map(|p| p["login"].as_str().unwrap()).collect();
    assert_eq!(logins, ["admin@weft.test", "ann@example.com"]);

    // Every change is audited with the administrator as the actor.
    let audit = app.audit_entries().await;
    let by_admin: Vec<&str> =
        audit.iter().filter(|e| e.actor == app.admin_id.to_string()).map(|e| e.action.as_str()).collect();
    for action in [
        "principal.created",
        "principal.updated",
        "principal.roles_set",
        "principal.password_reset",
        "token.created",
        "token.revoked",
    ] {
        assert!(by_admin.contains(&action), "{action} missing from {by_admin:?}");
    }
    assert!(!audit.iter().any(|e| e.detail.to_string().contains("reset by the admin")));
}
