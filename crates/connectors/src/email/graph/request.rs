//! The two Graph requests, built without I/O.

use crate::delivery::HttpRequest;
use base64::Engine as _;
use lettre::message::Mailbox;
use serde_json::{Value, json};

use super::Token;
use crate::email::config::GraphSettings;
use crate::email::message::Mail;

const SCOPE: &str = "https://graph.microsoft.com/.default";

/// The client-credentials grant, form-encoded as the Microsoft identity
/// platform expects.
pub fn token_request(settings: &GraphSettings) -> HttpRequest {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", &settings.client_id)
        .append_pair("client_secret", settings.client_secret.expose())
        .append_pair("scope", SCOPE)
        .append_pair("grant_type", "client_credentials")
        .finish();
    HttpRequest {
        method: http::Method::POST,
        url: settings.token_url.clone(),
        headers: vec![(
            "content-type".into(),
            "application/x-www-form-urlencoded; charset=UTF-8".into(),
        )],
        body: Some(body.into_bytes()),
    }
}

/// `POST {graph}/users/{from}/sendMail` with Graph's message JSON.
pub fn send_mail(settings: &GraphSettings, token: &Token, mail: &Mail) -> HttpRequest {
    let mut url = url::Url::parse(&settings.graph_url).expect("checked when the account was read");
    url.path_segments_mut()
        .expect("an http(s) URL")
        .pop_if_empty()
        .extend(["users", mail.from.email.as_ref(), "sendMail"]);
    HttpRequest::post_json(url.to_string(), &body(mail))
        .header("authorization", token.header_value())
}

fn recipients(list: &[Mailbox]) -> Value {
    list.iter()
        .map(|mailbox| {
            let mut address = json!({"address": mailbox.email.to_string()});
            if let Some(name) = &mailbox.name {
                address["name"] = json!(name);
            }
            json!({"emailAddress": address})
        })
        .collect()
}

pub fn body(mail: &Mail) -> Value {
    let mut message = json!({
        "subject": mail.subject,
        "body": {"contentType": "HTML", "content": mail.html},
        "toRecipients": recipients(&mail.to),
        "ccRecipients": recipients(&mail.cc),
        "bccRecipients": recipients(&mail.bcc),
        "internetMessageId": mail.message_id,
    });
    if !mail.reply_to.is_empty() {
        message["replyTo"] = recipients(&mail.reply_to);
    }
    if !mail.attachments.is_empty() {
        message["attachments"] = mail
            .attachments
            .iter()
            .map(|a| {
                json!({
                    "@odata.type": "#microsoft.graph.fileAttachment",
                    "name": a.filename,
                    "contentType": a.content_type,
                    "contentBytes": base64::engine::general_purpose::STANDARD.encode(&a.content),
                })
            })
            .collect();
    }
    json!({"message": message})
}
