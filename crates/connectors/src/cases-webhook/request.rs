//! The templated calls: each URL and JSON body rendered with the case, the
//! body checked to be JSON after rendering (a template that breaks it is
//! the account's fault and names its field).

use crate::delivery::fields::Fields;
use crate::delivery::{Account, HttpRequest, Outcome, typed};
use herald_proto::v1::ErrorKind;
use herald_templates::Escape;
use serde_json::{Map, Value, json};

use super::Push;
use super::spec::{CommentMethod, Config, CreateMethod, GetMethod, UpdateMethod};

/// The account's templates, checked once.
pub struct Templates {
    create: (http::Method, String, String),
    pub response_key: String,
    get: (http::Method, String, Option<String>),
    pub title_key: String,
    view_url: String,
    update: (http::Method, String, String),
    comment: Option<(http::Method, String, String)>,
}

/// A template the calls need: given (the type says so) and not empty.
fn required(config: &Fields<'_>, field: &str, value: String) -> Result<String, Outcome> {
    if value.is_empty() {
        return Err(config.refuse(field, "must not be empty"));
    }
    Ok(value)
}

/// An optional template; `""` is not given, as Kibana leaves it.
fn given(value: Option<String>) -> Option<String> {
    value.filter(|text| !text.is_empty())
}

impl Templates {
    /// The templates of the account's config.
    pub fn parse(account: &Account) -> Result<Templates, Outcome> {
        Templates::of(typed::config(&account.config)?, account)
    }

    /// The templates of `config`, the account's config read.
    pub fn of(config: Config, account: &Account) -> Result<Templates, Outcome> {
        let fields = Fields::config(&account.config);
        let comment = match (
            given(config.create_comment_url),
            given(config.create_comment_json),
        ) {
            (Some(url), Some(body)) => Some((
                match config.create_comment_method.unwrap_or(CommentMethod::Put) {
                    CommentMethod::Post => http::Method::POST,
                    CommentMethod::Put => http::Method::PUT,
                    CommentMethod::Patch => http::Method::PATCH,
                },
                url,
                body,
            )),
            (None, None) => None,
            (Some(_), None) => {
                return Err(
                    fields.refuse("createCommentJson", "required when createCommentUrl is set")
                );
            }
            (None, Some(_)) => {
                return Err(
                    fields.refuse("createCommentUrl", "required when createCommentJson is set")
                );
            }
        };
        Ok(Templates {
            create: (
                match config.create_incident_method.unwrap_or(CreateMethod::Post) {
                    CreateMethod::Post => http::Method::POST,
                    CreateMethod::Put => http::Method::PUT,
                },
                required(&fields, "createIncidentUrl", config.create_incident_url)?,
                required(&fields, "createIncidentJson", config.create_incident_json)?,
            ),
            response_key: given(config.create_incident_response_key).unwrap_or_else(|| "id".into()),
            get: (
                match config.get_incident_method.unwrap_or(GetMethod::Get) {
                    GetMethod::Get => http::Method::GET,
                    GetMethod::Post => http::Method::POST,
                },
                required(&fields, "getIncidentUrl", config.get_incident_url)?,
                given(config.get_incident_json),
            ),
            title_key: required(
                &fields,
                "getIncidentResponseExternalTitleKey",
                config.get_incident_response_external_title_key,
            )?,
            view_url: required(&fields, "viewIncidentUrl", config.view_incident_url)?,
            update: (
                match config.update_incident_method.unwrap_or(UpdateMethod::Put) {
                    UpdateMethod::Post => http::Method::POST,
                    UpdateMethod::Patch => http::Method::PATCH,
                    UpdateMethod::Put => http::Method::PUT,
                },
                required(&fields, "updateIncidentUrl", config.update_incident_url)?,
                required(&fields, "updateIncidentJson", config.update_incident_json)?,
            ),
            comment,
        })
    }
}

pub struct CaseRequests<'a> {
    pub templates: &'a Templates,
    /// `case.*` as JSON literals, for bodies.
    case: Map<String, Value>,
}

impl<'a> CaseRequests<'a> {
    pub fn new(templates: &'a Templates, push: &Push) -> CaseRequests<'a> {
        let mut case: Map<String, Value> = push
            .case
            .iter()
            .map(|(key, value)| (key.clone(), Value::String(value.to_string())))
            .collect();
        // Kibana's defaults: an absent (or null) description or tags is "" or [].
        case.entry("description").or_insert_with(|| json!("\"\""));
        case.entry("tags").or_insert_with(|| json!("[]"));
        CaseRequests { templates, case }
    }

    pub fn create(&self) -> Result<HttpRequest, Outcome> {
        let (method, url, body) = &self.templates.create;
        self.request(
            method,
            ("createIncidentUrl", url.as_str()),
            Some(("createIncidentJson", body.as_str())),
            None,
            None,
        )
    }

    pub fn update(&self, id: &str) -> Result<HttpRequest, Outcome> {
        let (method, url, body) = &self.templates.update;
        self.request(
            method,
            ("updateIncidentUrl", url.as_str()),
            Some(("updateIncidentJson", body.as_str())),
            Some(id),
            None,
        )
    }

    pub fn get(&self, id: &str) -> Result<HttpRequest, Outcome> {
        let (method, url, body) = &self.templates.get;
        let body = body.as_deref().map(|body| ("getIncidentJson", body));
        self.request(
            method,
            ("getIncidentUrl", url.as_str()),
            body,
            Some(id),
            None,
        )
    }

    pub fn view_url(&self, id: &str, title: Option<&str>) -> Result<String, Outcome> {
        render_url(
            ("viewIncidentUrl", self.templates.view_url.as_str()),
            id,
            title,
        )
    }

    /// `None` when the account has no comment templates.
    pub fn comment(&self, id: &str, comment: &str) -> Result<Option<HttpRequest>, Outcome> {
        let Some((method, url, body)) = &self.templates.comment else {
            return Ok(None);
        };
        self.request(
            method,
            ("createCommentUrl", url.as_str()),
            Some(("createCommentJson", body.as_str())),
            Some(id),
            Some(comment),
        )
        .map(Some)
    }

    fn request(
        &self,
        method: &http::Method,
        url: (&str, &str),
        body: Option<(&str, &str)>,
        id: Option<&str>,
        comment: Option<&str>,
    ) -> Result<HttpRequest, Outcome> {
        let url = render_url(url, id.unwrap_or_default(), None)?;
        let mut case = self.case.clone();
        if let Some(comment) = comment {
            case.insert(
                "comment".into(),
                Value::String(Value::from(comment).to_string()),
            );
        }
        let vars = json!({
            "case": case,
            "external": {"system": {"id": id.map(|id| Value::from(id).to_string())}},
        });
        let mut request = HttpRequest {
            method: method.clone(),
            url,
            headers: Vec::new(),
            body: None,
        };
        if let Some((field, template)) = body {
            let rendered = render(field, template, &vars, Escape::None)?;
            if serde_json::from_str::<Value>(&rendered).is_err() {
                return Err(refuse(field, "is not valid JSON once rendered"));
            }
            request = HttpRequest::post_json(request.url, &Value::Null);
            request.method = method.clone();
            request.body = Some(rendered.into_bytes());
        }
        Ok(request)
    }
}

fn refuse(field: &str, problem: &str) -> Outcome {
    Outcome::permanent(
        ErrorKind::InvalidConfig,
        format!("config.{field}: {problem}"),
    )
}

fn render(field: &str, template: &str, vars: &Value, escape: Escape) -> Result<String, Outcome> {
    herald_templates::render(template, vars, escape)
        .map_err(|e| refuse(field, &format!("template: {e}")))
}

fn render_url(
    (field, template): (&str, &str),
    id: &str,
    title: Option<&str>,
) -> Result<String, Outcome> {
    // Params were checked at parse; an id that gets here came from the
    // case system's answer.
    if crate::rest::is_dot_segment(id) {
        return Err(Outcome::permanent(
            ErrorKind::VendorRejected,
            format!("the case system's id {id:?} cannot name a case in a URL path"),
        ));
    }
    let encode = |text: &str| {
        url::form_urlencoded::byte_serialize(text.as_bytes())
            .collect::<String>()
            .replace('+', "%20")
    };
    let vars = json!({"external": {"system": {"id": encode(id), "title": title.map(encode)}}});
    let url = render(field, template, &vars, Escape::None)?;
    match url::Url::parse(&url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Ok(url),
        _ => Err(refuse(
            field,
            "is not an absolute http(s) URL once rendered",
        )),
    }
}
