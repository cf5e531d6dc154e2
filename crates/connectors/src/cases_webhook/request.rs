//! The templated calls: each URL and JSON body rendered with the case, the
//! body checked to be JSON after rendering (a template that breaks it is
//! the account's fault and names its field).

use crate::delivery::fields::Fields;
use crate::delivery::{Account, HttpRequest, Outcome};
use herald_proto::v1::ErrorKind;
use herald_templates::Escape;
use serde_json::{Map, Value, json};

use super::Push;
use crate::webhook_auth::CONFIG_FIELDS;

/// The account's templates, checked once.
pub struct Templates<'a> {
    create: (http::Method, &'a str, &'a str),
    pub response_key: &'a str,
    get: (http::Method, &'a str, Option<&'a str>),
    pub title_key: &'a str,
    view_url: &'a str,
    update: (http::Method, &'a str, &'a str),
    comment: Option<(http::Method, &'a str, &'a str)>,
}

fn method(
    config: &Fields<'_>,
    field: &str,
    default: &str,
    allowed: &[&str],
) -> Result<http::Method, Outcome> {
    let name = config.non_empty_str(field)?.unwrap_or(default);
    if !allowed.contains(&name) {
        return Err(config.refuse(field, &format!("must be one of {}", allowed.join(", "))));
    }
    Ok(name.to_uppercase().parse().expect("an HTTP method"))
}

impl<'a> Templates<'a> {
    pub fn parse(account: &'a Account) -> Result<Templates<'a>, Outcome> {
        let config = Fields::config(&account.config);
        let known: Vec<&str> = [
            "createIncidentUrl",
            "createIncidentMethod",
            "createIncidentJson",
            "createIncidentResponseKey",
            "getIncidentUrl",
            "getIncidentMethod",
            "getIncidentJson",
            "getIncidentResponseExternalTitleKey",
            "viewIncidentUrl",
            "updateIncidentUrl",
            "updateIncidentMethod",
            "updateIncidentJson",
            "createCommentUrl",
            "createCommentMethod",
            "createCommentJson",
        ]
        .iter()
        .chain(CONFIG_FIELDS)
        .copied()
        .collect();
        config.only(&known)?;
        let comment = match (
            config.non_empty_str("createCommentUrl")?,
            config.non_empty_str("createCommentJson")?,
        ) {
            (Some(url), Some(body)) => Some((
                method(
                    &config,
                    "createCommentMethod",
                    "put",
                    &["post", "put", "patch"],
                )?,
                url,
                body,
            )),
            (None, None) => None,
            (Some(_), None) => {
                return Err(
                    config.refuse("createCommentJson", "required when createCommentUrl is set")
                );
            }
            (None, Some(_)) => {
                return Err(
                    config.refuse("createCommentUrl", "required when createCommentJson is set")
                );
            }
        };
        Ok(Templates {
            create: (
                method(&config, "createIncidentMethod", "post", &["post", "put"])?,
                config.required_str("createIncidentUrl")?,
                config.required_str("createIncidentJson")?,
            ),
            response_key: config
                .non_empty_str("createIncidentResponseKey")?
                .unwrap_or("id"),
            get: (
                method(&config, "getIncidentMethod", "get", &["get", "post"])?,
                config.required_str("getIncidentUrl")?,
                config.non_empty_str("getIncidentJson")?,
            ),
            title_key: config.required_str("getIncidentResponseExternalTitleKey")?,
            view_url: config.required_str("viewIncidentUrl")?,
            update: (
                method(
                    &config,
                    "updateIncidentMethod",
                    "put",
                    &["post", "patch", "put"],
                )?,
                config.required_str("updateIncidentUrl")?,
                config.required_str("updateIncidentJson")?,
            ),
            comment,
        })
    }
}

pub struct CaseRequests<'a> {
    pub templates: &'a Templates<'a>,
    /// `case.*` as JSON literals, for bodies.
    case: Map<String, Value>,
}

impl<'a> CaseRequests<'a> {
    pub fn new(templates: &'a Templates<'a>, push: &Push) -> CaseRequests<'a> {
        let mut case: Map<String, Value> = push
            .case
            .iter()
            .map(|(key, value)| (key.clone(), Value::String(value.to_string())))
            .collect();
        // Kibana's defaults: an absent description or tags is "" or [].
        case.entry("description").or_insert_with(|| json!("\"\""));
        case.entry("tags").or_insert_with(|| json!("[]"));
        CaseRequests { templates, case }
    }

    pub fn create(&self) -> Result<HttpRequest, Outcome> {
        let (method, url, body) = &self.templates.create;
        self.request(
            method,
            ("createIncidentUrl", url),
            Some(("createIncidentJson", body)),
            None,
            None,
        )
    }

    pub fn update(&self, id: &str) -> Result<HttpRequest, Outcome> {
        let (method, url, body) = &self.templates.update;
        self.request(
            method,
            ("updateIncidentUrl", url),
            Some(("updateIncidentJson", body)),
            Some(id),
            None,
        )
    }

    pub fn get(&self, id: &str) -> Result<HttpRequest, Outcome> {
        let (method, url, body) = &self.templates.get;
        let body = body.map(|body| ("getIncidentJson", body));
        self.request(method, ("getIncidentUrl", url), body, Some(id), None)
    }

    pub fn view_url(&self, id: &str, title: Option<&str>) -> Result<String, Outcome> {
        render_url(("viewIncidentUrl", self.templates.view_url), id, title)
    }

    /// `None` when the account has no comment templates.
    pub fn comment(&self, id: &str, comment: &str) -> Result<Option<HttpRequest>, Outcome> {
        let Some((method, url, body)) = &self.templates.comment else {
            return Ok(None);
        };
        self.request(
            method,
            ("createCommentUrl", url),
            Some(("createCommentJson", body)),
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
