//! IM robots: each kind's card (title, text, a link back) and signature, and the webhook
//! call. Formats follow each vendor's custom-robot documentation:
//! - WeCom (企业微信 group robot): `{"msgtype":"markdown","markdown":{"content":…}}`;
//!   the key is in the webhook URL; success is `errcode` 0.
//! - DingTalk (钉钉 custom robot): `{"msgtype":"markdown","markdown":{"title","text"}}`;
//!   signed: `sign` = base64(HMAC-SHA256(key = secret, message = timestamp + "\n" + secret))
//!   with the millisecond `timestamp`, both URL-encoded into the query; success `errcode` 0.
//! - Feishu/Lark (飞书 custom bot): `{"msg_type":"interactive","card":{…}}`; signed:
//!   `timestamp` (seconds) and `sign` = base64(HMAC-SHA256(key = timestamp + "\n" + secret,
//!   message = empty)) in the body; success `code` 0.
//! - Slack (incoming webhook): `{"text": fallback, "blocks": [section, actions]}`; 2xx.

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{Value as Json, json};
use sha2::Sha256;
use weft_store::kernel::delivery::StoredRobot;

use super::notice::{Lang, Notice};
use super::smtp::SendError;

type HmacSha256 = Hmac<Sha256>;

fn hmac_base64(key: &[u8], message: &[u8]) -> String {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(message);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// DingTalk's signature for a millisecond timestamp.
pub(super) fn dingtalk_sign(timestamp_ms: i64, secret: &str) -> String {
    hmac_base64(secret.as_bytes(), format!("{timestamp_ms}\n{secret}").as_bytes())
}

/// Feishu's signature for a timestamp in seconds.
pub(super) fn feishu_sign(timestamp_s: i64, secret: &str) -> String {
    hmac_base64(format!("{timestamp_s}\n{secret}").as_bytes(), b"")
}

fn open_label(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "Open in Weft",
        Lang::Zh => "在 Weft 中查看",
    }
}

/// Markdown where a title, a headline and a text from users are shown: line breaks and the
/// characters that would make links or headings are neutralised.
fn md(text: &str) -> String {
    text.replace(['\r', '\n'], " ").replace('[', "(").replace(']', ")").replace('<', "‹").replace('>', "›")
}

/// Slack's mrkdwn treats `&`, `<` and `>` as markup (`<!channel>` pings everyone).
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The request one robot gets for a notice: its URL (DingTalk adds its signature there)
/// and JSON body. `now_ms` is the wall clock, which the vendors check signatures against.
pub(super) fn request(robot: &StoredRobot, lang: Lang, notice: &Notice, link: &str, now_ms: i64) -> (String, Json) {
    let title = md(&notice.title);
    let headline = md(&notice.headline);
    let text = md(&notice.text);
    let open = open_label(lang);
    match robot.kind.as_str() {
        "wecom" => {
            let content = format!("**{title}**\n{headline}\n> {text}\n[{open}]({link})");
            (robot.url.clone(), json!({ "msgtype": "markdown", "markdown": { "content": content } }))
        }
        "dingtalk" => {
            let body = json!({
                "msgtype": "markdown",
                "markdown": { "title": notice.title, "text": format!("#### {title}\n\n{headline}\n\n> {text}\n\n[{open}]({link})") },
            });
            let url = match &robot.secret {
                Some(secret) => {
                    let mut url = robot.url.clone();
                    let sign: String =
                        url::form_urlencoded::byte_serialize(dingtalk_sign(now_ms, secret).as_bytes()).collect();
                    url.push(if url.contains('?') { '&' } else { '?' });
                    url.push_str(&format!("timestamp={now_ms}&sign={sign}"));
                    url
                }
                None => robot.url.clone(),
            };
            (url, body)
        }
        "feishu" => {
            let mut body = json!({
                "msg_type": "interactive",
                "card": {
                    "header": { "title": { "tag": "plain_text", "content": notice.title } },
                    "elements": [
                        { "tag": "div", "text": { "tag": "lark_md", "content": format!("**{headline}**\n{text}") } },
                        { "tag": "action", "actions": [{
                            "tag": "button", "type": "primary",
                            "text": { "tag": "plain_text", "content": open }, "url": link,
                        }] },
                    ],
                },
            });
            if let Some(secret) = &robot.secret {
                let now_s = now_ms.div_euclid(1000);
                body["timestamp"] = json!(now_s.to_string());
                body["sign"] = json!(feishu_sign(now_s, secret));
            }
            (robot.url.clone(), body)
        }
        _ => {
            let (t, h, x) = (slack_escape(&notice.title), slack_escape(&notice.headline), slack_escape(&notice.text));
            let body = json!({
                "text": format!("{} — {}", notice.title, notice.headline),
                "blocks": [
                    { "type": "section", "text": { "type": "mrkdwn", "text": format!("*<{link}|{t}>*\n{h}\n>{x}") } },
                    { "type": "actions", "elements": [{
                        "type": "button", "text": { "type": "plain_text", "text": open }, "url": link,
                    }] },
                ],
            });
            (robot.url.clone(), body)
        }
    }
}

/// Did the vendor accept the card? WeCom and DingTalk answer `errcode`, Feishu `code`
/// (0 is success); Slack's 2xx is enough.
fn accepted(kind: &str, body: &str) -> std::result::Result<(), String> {
    if kind == "slack" {
        return Ok(());
    }
    let parsed: Json = serde_json::from_str(body).map_err(|_| format!("unreadable answer: {}", clip(body)))?;
    let code = match kind {
        "feishu" => parsed.get("code").or_else(|| parsed.get("StatusCode")),
        _ => parsed.get("errcode"),
    };
    match code.and_then(Json::as_i64) {
        Some(0) => Ok(()),
        _ => Err(format!("refused: {}", clip(body))),
    }
}

fn clip(text: &str) -> String {
    text.chars().take(300).collect()
}

/// Posts one card. 4xx answers (other than 408 and 429) are permanent: the webhook is
/// wrong, and trying again cannot help.
pub(super) async fn post(
    http: &reqwest_outbound::Client,
    robot: &StoredRobot,
    url: &str,
    body: &Json,
) -> std::result::Result<(), SendError> {
    let response = http.post(url).json(body).send().await.map_err(|e| SendError {
        // Never the URL: it holds the robot's key.
        message: format!("{} robot unreachable: {}", robot.kind, e.without_url()),
        permanent: false,
    })?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if !status.is_success() {
        let permanent = status.is_client_error() && status.as_u16() != 408 && status.as_u16() != 429;
        return Err(SendError { message: format!("HTTP {}: {}", status.as_u16(), clip(&text)), permanent });
    }
    accepted(&robot.kind, &text).map_err(|message| SendError { message, permanent: false })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn robot(kind: &str, secret: Option<&str>) -> StoredRobot {
        StoredRobot {
            id: uuid::Uuid::nil(),
            name: "r".into(),
            kind: kind.into(),
            url: "https://robot.test/send?access_token=abc".into(),
            secret: secret.map(str::to_owned),
            channel: None,
            type_name: Some("po".into()),
            events: "{}".into(),
            include_internal: false,
            created_at: weft_store::now(),
            created_by: "system".into(),
        }
    }

    fn notice() -> Notice {
        Notice::sample("PO-1 · Steel", "price [changed]\nsee")
    }

    #[test]
    fn dingtalk_signs_in_the_query() {
        let (url, body) =
            request(&robot("dingtalk", Some("SECx")), Lang::Zh, &notice(), "https://w.test/r/po/1", 1_700_000_000_123);
        let sign: String =
            url::form_urlencoded::byte_serialize(dingtalk_sign(1_700_000_000_123, "SECx").as_bytes()).collect();
        assert_eq!(url, format!("https://robot.test/send?access_token=abc&timestamp=1700000000123&sign={sign}"));
        assert_eq!(body["msgtype"], "markdown");
        let text = body["markdown"]["text"].as_str().unwrap();
        assert!(text.contains("(https://w.test/r/po/1)") && text.contains("price (changed) see"), "{text}");
    }

    #[test]
    fn feishu_signs_in_the_body() {
        let (_, body) =
            request(&robot("feishu", Some("s3")), Lang::En, &notice(), "https://w.test/x", 1_700_000_000_999);
        assert_eq!(body["timestamp"], "1700000000");
        assert_eq!(body["sign"], feishu_sign(1_700_000_000, "s3"));
        assert_eq!(body["card"]["elements"][1]["actions"][0]["url"], "https://w.test/x");
    }

    #[test]
    fn answers_are_read_per_vendor() {
        assert!(accepted("wecom", r#"{"errcode":0,"errmsg":"ok"}"#).is_ok());
        assert!(accepted("dingtalk", r#"{"errcode":310000,"errmsg":"sign not match"}"#).is_err());
        assert!(accepted("feishu", r#"{"code":19021,"msg":"sign match fail"}"#).is_err());
        assert!(accepted("slack", "ok").is_ok());
    }
}
