//! The pure build of one e-mail from the action's params and the account:
//! addresses with the account's defaults and the domain allowlist, the
//! Markdown body as text and HTML, the footer, attachments, the size caps
//! and a Message-ID derived from the action id. `mime` turns it into the
//! SMTP envelope and RFC 5322 bytes; Graph reads the same `Mail`.

use std::str::FromStr;

use crate::delivery::fields::Fields;
use crate::delivery::{Outcome, typed};
use base64::Engine as _;
use herald_catalog::Policy;
use herald_proto::v1::ErrorKind;
use lettre::address::Envelope;
use lettre::message::header::ContentType;
use lettre::message::{Attachment as MimeAttachment, Mailbox, MultiPart, SinglePart};
use serde_json::{Map, Value};

use super::config::EmailAccount;
use super::markdown;
use super::spec::{AttachmentParams, FOOTER_PATH, FOOTER_TEXT, FooterLink, Params};

/// Larger `message` / `messageHTML` bodies are cut to this size, with a
/// notice at the top (Kibana's `maximum_body_length`).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Attachments of one mail, decoded, at most.
pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Mail {
    pub from: Mailbox,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    /// In the envelope only, never in a header.
    pub bcc: Vec<Mailbox>,
    pub reply_to: Vec<Mailbox>,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub attachments: Vec<Attachment>,
    /// `<action id@sender domain>`: the same on every attempt, so that a
    /// duplicate delivery is recognisable.
    pub message_id: String,
    /// The mail this one answers, and its thread (SMTP headers only).
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
}

/// Reads and checks the addresses in one field.
struct Addresses<'a> {
    policy: &'a Policy,
}

impl Addresses<'_> {
    fn parse(&self, field: &str, text: &str, kind: ErrorKind) -> Result<Mailbox, Outcome> {
        let mailbox = Mailbox::from_str(text.trim()).map_err(|_| {
            Outcome::permanent(
                kind,
                format!(
                    "{field}: {text:?} is not an e-mail address (user@host or Name <user@host>)"
                ),
            )
        })?;
        let domain = mailbox
            .email
            .domain()
            .trim_end_matches('.')
            .to_ascii_lowercase();
        if !self.policy.allows_email_domain(&domain) {
            return Err(Outcome::permanent(
                ErrorKind::Policy,
                format!("{field}: domain {domain} is not in policy.email.domain_allowlist"),
            ));
        }
        Ok(mailbox)
    }

    /// The params' list, or the account's default list when the params give
    /// none.
    fn list(
        &self,
        name: &str,
        given: Option<Vec<String>>,
        default: (&str, &[String]),
    ) -> Result<Vec<Mailbox>, Outcome> {
        let given: Vec<String> = given
            .into_iter()
            .flatten()
            .filter(|text| !text.trim().is_empty())
            .collect();
        if given.is_empty() {
            let (field, addresses) = default;
            return addresses
                .iter()
                .enumerate()
                .map(|(index, text)| {
                    self.parse(&format!("{field}[{index}]"), text, ErrorKind::InvalidConfig)
                })
                .collect();
        }
        given
            .iter()
            .enumerate()
            .map(|(index, text)| {
                self.parse(&format!("{name}[{index}]"), text, ErrorKind::InvalidParams)
            })
            .collect()
    }
}

pub fn build(
    params: &Map<String, Value>,
    account: &EmailAccount,
    action_id: &str,
    policy: &Policy,
) -> Result<Mail, Outcome> {
    let fields = Fields::params(params);
    let params: Params = typed::params(params)?;
    let addresses = Addresses { policy };
    let from = match params.from.as_deref().filter(|f| !f.trim().is_empty()) {
        Some(from) => addresses.parse("from", from, ErrorKind::InvalidParams)?,
        None => match &account.from {
            Some(from) => addresses.parse("config.from", from, ErrorKind::InvalidConfig)?,
            None => {
                return Err(fields.refuse(
                    "from",
                    "no sender: give from, or set config.from on the account",
                ));
            }
        },
    };
    let to = addresses.list("to", params.to, ("config.defaultTo", &account.default_to))?;
    let cc = addresses.list("cc", params.cc, ("config.defaultCc", &account.default_cc))?;
    let bcc = addresses.list(
        "bcc",
        params.bcc,
        ("config.defaultBcc", &account.default_bcc),
    )?;
    let reply_to = addresses.list("replyTo", params.reply_to, ("", &[]))?;
    if to.is_empty() && cc.is_empty() && bcc.is_empty() {
        return Err(fields.refuse(
            "to",
            "no recipient: give to, cc or bcc, or set config.defaultTo, defaultCc or defaultBcc on the account",
        ));
    }
    // The schema lets both be "", as Kibana's does; a mail needs them.
    for (name, text) in [("subject", &params.subject), ("message", &params.message)] {
        if text.is_empty() {
            return Err(fields.refuse(name, "must not be empty"));
        }
    }
    let subject = params.subject.replace(['\r', '\n'], " ");
    let mut message = capped(&params.message);
    if let Some(footer) = footer(params.kibana_footer_link.as_ref(), account) {
        message.push_str(&footer);
    }
    let html = match params.message_html.as_deref().filter(|h| !h.is_empty()) {
        // Without allowHtml the Markdown is rendered instead, as if
        // messageHTML were not given: the alert still goes out.
        Some(html) if account.allow_html => capped(html),
        _ => markdown::to_html(&message),
    };
    let domain = from.email.domain().to_owned();
    if let Some(id) = &params.in_reply_to
        && !super::spec::is_message_id(id)
    {
        return Err(fields.refuse("inReplyTo", "must be a Message-ID: <id@host>"));
    }
    let references = params.references.unwrap_or_default();
    if let Some(index) = references
        .iter()
        .position(|id| !super::spec::is_message_id(id))
    {
        return Err(fields.refuse(
            &format!("references[{index}]"),
            "must be a Message-ID: <id@host>",
        ));
    }
    Ok(Mail {
        from,
        to,
        cc,
        bcc,
        reply_to,
        subject,
        text: markdown::to_text(&message),
        html,
        attachments: attachments(&fields, params.attachments)?,
        message_id: format!("<{action_id}@{domain}>"),
        in_reply_to: params.in_reply_to,
        references,
    })
}

/// `body` cut to `MAX_BODY_BYTES` at a character boundary, with a notice.
fn capped(body: &str) -> String {
    if body.len() <= MAX_BODY_BYTES {
        return body.to_owned();
    }
    let mut cut = MAX_BODY_BYTES;
    while !body.is_char_boundary(cut) {
        cut -= 1;
    }
    format!(
        "[This message was truncated: it had {} bytes, more than the {MAX_BODY_BYTES}-byte limit.]\n\n{}",
        body.len(),
        &body[..cut]
    )
}

/// Kibana's footer, when the account has a `publicBaseUrl`.
fn footer(link: Option<&FooterLink>, account: &EmailAccount) -> Option<String> {
    let base = account.public_base_url.as_ref()?;
    let path = link
        .and_then(|link| link.path.as_deref())
        .unwrap_or(FOOTER_PATH);
    let text = link
        .and_then(|link| link.text.as_deref())
        .filter(|t| !t.is_empty())
        .unwrap_or(FOOTER_TEXT);
    let separator = if path.starts_with('/') { "" } else { "/" };
    Some(format!(
        "\n\n---\n\nThis message was sent by Herald. [{text}]({}{separator}{path})",
        base.trim_end_matches('/')
    ))
}

fn attachments(
    fields: &Fields<'_>,
    items: Option<Vec<AttachmentParams>>,
) -> Result<Vec<Attachment>, Outcome> {
    let items = items.unwrap_or_default();
    let mut total = 0;
    let mut out = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let at = |field: &str| format!("attachments[{index}].{field}");
        let encoding = item.encoding.as_deref().unwrap_or("base64");
        let content = if encoding.eq_ignore_ascii_case("base64") {
            let compact: String = item
                .content
                .chars()
                .filter(|c| !c.is_ascii_whitespace())
                .collect();
            base64::engine::general_purpose::STANDARD
                .decode(compact)
                .map_err(|_| fields.refuse(&at("content"), "must be base64"))?
        } else {
            item.content.into_bytes()
        };
        let content_type = item
            .content_type
            .unwrap_or_else(|| "application/octet-stream".to_owned());
        ContentType::parse(&content_type)
            .map_err(|_| fields.refuse(&at("contentType"), "is not a MIME type"))?;
        total += content.len();
        if total > MAX_ATTACHMENT_BYTES {
            return Err(fields.refuse(
                "attachments",
                &format!("more than {MAX_ATTACHMENT_BYTES} bytes in total"),
            ));
        }
        out.push(Attachment {
            filename: item.filename.as_str().replace(['\r', '\n', '"'], "_"),
            content_type,
            content,
        });
    }
    Ok(out)
}

/// The SMTP envelope (every recipient, Bcc included) and the message
/// bytes (no Bcc header).
pub fn mime(mail: &Mail) -> Result<(Envelope, Vec<u8>), Outcome> {
    let mut builder = lettre::Message::builder()
        .from(mail.from.clone())
        .subject(mail.subject.clone())
        .message_id(Some(mail.message_id.clone()))
        .date_now();
    if let Some(id) = &mail.in_reply_to {
        builder = builder.in_reply_to(id.clone());
    }
    if !mail.references.is_empty() {
        builder = builder.references(mail.references.join(" "));
    }
    for to in &mail.to {
        builder = builder.to(to.clone());
    }
    for cc in &mail.cc {
        builder = builder.cc(cc.clone());
    }
    for reply_to in &mail.reply_to {
        builder = builder.reply_to(reply_to.clone());
    }
    let recipients = mail
        .to
        .iter()
        .chain(&mail.cc)
        .chain(&mail.bcc)
        .map(|m| m.email.clone())
        .collect();
    let envelope = Envelope::new(Some(mail.from.email.clone()), recipients)
        .map_err(|e| Outcome::permanent(ErrorKind::InvalidParams, format!("envelope: {e}")))?;
    let alternative = MultiPart::alternative()
        .singlepart(SinglePart::plain(mail.text.clone()))
        .singlepart(SinglePart::html(mail.html.clone()));
    let body = if mail.attachments.is_empty() {
        alternative
    } else {
        let mut mixed = MultiPart::mixed().multipart(alternative);
        for attachment in &mail.attachments {
            let content_type =
                ContentType::parse(&attachment.content_type).expect("checked in build");
            mixed = mixed.singlepart(
                MimeAttachment::new(attachment.filename.clone())
                    .body(attachment.content.clone(), content_type),
            );
        }
        mixed
    };
    let message = builder
        .envelope(envelope.clone())
        .multipart(body)
        .map_err(|e| {
            Outcome::permanent(
                ErrorKind::InvalidParams,
                format!("the message cannot be built: {e}"),
            )
        })?;
    Ok((envelope, message.formatted()))
}
