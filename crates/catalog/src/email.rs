//! Nodemailer's well-known SMTP services (`lib/well-known/services.json`),
//! which Kibana's e-mail connector accepts as `service`. The email worker
//! resolves a service to its endpoint here, and the policy check uses the
//! same table, so both agree on which host a `service: gmail` account reaches.

/// Where a well-known service accepts mail. `secure` is implicit TLS
/// (usually port 465); otherwise the client upgrades with STARTTLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmtpEndpoint {
    pub host: &'static str,
    pub port: u16,
    pub secure: bool,
}

struct Service {
    name: &'static str,
    /// Other names and mail domains nodemailer resolves to the same service.
    aliases: &'static [&'static str],
    endpoint: SmtpEndpoint,
}

const fn service(
    name: &'static str,
    aliases: &'static [&'static str],
    host: &'static str,
    port: u16,
    secure: bool,
) -> Service {
    Service {
        name,
        aliases,
        endpoint: SmtpEndpoint { host, port, secure },
    }
}

/// Nodemailer's table, minus the entries without a host (`hot.ee`,
/// `mail.ee`, `Maildev`). A missing `secure` there means `false`.
const SERVICES: &[Service] = &[
    service("1und1", &[], "smtp.1und1.de", 465, true),
    service("126", &[], "smtp.126.com", 465, true),
    service("163", &[], "smtp.163.com", 465, true),
    service("Aliyun", &["aliyun.com"], "smtp.aliyun.com", 465, true),
    service("AliyunQiye", &[], "smtp.qiye.aliyun.com", 465, true),
    service("AOL", &["aol.com"], "smtp.aol.com", 587, false),
    service(
        "Aruba",
        &["Aruba PEC", "aruba.it", "pec.aruba.it"],
        "smtps.aruba.it",
        465,
        true,
    ),
    service(
        "Bluewin",
        &["bluewin.ch"],
        "smtpauths.bluewin.ch",
        465,
        false,
    ),
    service("BOL", &["bol.com.br"], "smtp.bol.com.br", 587, false),
    service("DebugMail", &[], "debugmail.io", 25, false),
    service("Disroot", &["disroot.org"], "smtp.disroot.org", 587, true),
    service("DynectEmail", &["Dynect"], "smtp.dynect.net", 25, false),
    service(
        "ElasticEmail",
        &["Elastic Email"],
        "smtp.elasticemail.com",
        465,
        true,
    ),
    service(
        "Ethereal",
        &["ethereal.email"],
        "smtp.ethereal.email",
        587,
        false,
    ),
    service("FastMail", &["fastmail.fm"], "smtp.fastmail.com", 465, true),
    service(
        "Feishu Mail",
        &["Feishu", "FeishuMail", "www.feishu.cn"],
        "smtp.feishu.cn",
        465,
        true,
    ),
    service(
        "Forward Email",
        &["FE", "ForwardEmail", "forwardemail.net"],
        "smtp.forwardemail.net",
        465,
        true,
    ),
    service(
        "GandiMail",
        &["Gandi", "Gandi Mail"],
        "mail.gandi.net",
        587,
        false,
    ),
    service(
        "Gmail",
        &["Google Mail", "gmail.com", "googlemail.com"],
        "smtp.gmail.com",
        465,
        true,
    ),
    service(
        "GMX",
        &["gmx.com", "gmx.net", "gmx.de"],
        "mail.gmx.com",
        587,
        false,
    ),
    service("Godaddy", &[], "smtpout.secureserver.net", 25, false),
    service("GodaddyAsia", &[], "smtp.asia.secureserver.net", 25, false),
    service(
        "GodaddyEurope",
        &[],
        "smtp.europe.secureserver.net",
        25,
        false,
    ),
    service(
        "Hotmail",
        &[
            "Outlook",
            "Outlook.com",
            "Hotmail.com",
            "hotmail.com",
            "outlook.com",
        ],
        "smtp-mail.outlook.com",
        587,
        false,
    ),
    service(
        "iCloud",
        &["Me", "Mac", "me.com", "mac.com"],
        "smtp.mail.me.com",
        587,
        false,
    ),
    service(
        "Infomaniak",
        &["ik.me", "ikmail.com", "etik.com"],
        "mail.infomaniak.com",
        587,
        false,
    ),
    service(
        "KolabNow",
        &["Kolab", "kolabnow.com"],
        "smtp.kolabnow.com",
        465,
        true,
    ),
    service("Loopia", &[], "mailcluster.loopia.se", 465, false),
    service("Loops", &[], "smtp.loops.so", 587, false),
    service("Mail.ru", &[], "smtp.mail.ru", 465, true),
    service(
        "Mailcatch.app",
        &[],
        "sandbox-smtp.mailcatch.app",
        2525,
        false,
    ),
    service("MailerSend", &[], "smtp.mailersend.net", 587, false),
    service("Mailgun", &[], "smtp.mailgun.org", 465, true),
    service("Mailjet", &[], "in.mailjet.com", 587, false),
    service("Mailosaur", &[], "mailosaur.io", 25, false),
    service("Mailtrap", &[], "live.smtp.mailtrap.io", 587, false),
    service("Mandrill", &[], "smtp.mandrillapp.com", 587, false),
    service("Naver", &[], "smtp.naver.com", 587, false),
    service("OhMySMTP", &[], "smtp.ohmysmtp.com", 587, false),
    service("One", &[], "send.one.com", 465, true),
    service(
        "OpenMailBox",
        &["OMB", "openmailbox.org"],
        "smtp.openmailbox.org",
        465,
        true,
    ),
    service("Outlook365", &[], "smtp.office365.com", 587, false),
    service(
        "Postmark",
        &["PostmarkApp"],
        "smtp.postmarkapp.com",
        2525,
        false,
    ),
    service(
        "Proton",
        &[
            "ProtonMail",
            "Proton.me",
            "Protonmail.com",
            "Protonmail.ch",
            "pm.me",
        ],
        "smtp.protonmail.ch",
        587,
        false,
    ),
    service("qiye.aliyun", &[], "smtp.mxhichina.com", 465, true),
    service("QQ", &["qq.com"], "smtp.qq.com", 465, true),
    service(
        "QQex",
        &["QQ Enterprise", "exmail.qq.com"],
        "smtp.exmail.qq.com",
        465,
        true,
    ),
    service("Resend", &[], "smtp.resend.com", 465, true),
    service("Runbox", &["runbox.com"], "smtp.runbox.com", 465, true),
    service("SendCloud", &[], "smtp.sendcloud.net", 2525, false),
    service("SendGrid", &[], "smtp.sendgrid.net", 587, false),
    service("SendinBlue", &["Brevo"], "smtp-relay.brevo.com", 587, false),
    service("SendPulse", &[], "smtp-pulse.com", 465, true),
    service("SES", &[], "email-smtp.us-east-1.amazonaws.com", 465, true),
    service(
        "SES-AP-NORTHEAST-1",
        &[],
        "email-smtp.ap-northeast-1.amazonaws.com",
        465,
        true,
    ),
    service(
        "SES-AP-NORTHEAST-2",
        &[],
        "email-smtp.ap-northeast-2.amazonaws.com",
        465,
        true,
    ),
    service(
        "SES-AP-NORTHEAST-3",
        &[],
        "email-smtp.ap-northeast-3.amazonaws.com",
        465,
        true,
    ),
    service(
        "SES-AP-SOUTH-1",
        &[],
        "email-smtp.ap-south-1.amazonaws.com",
        465,
        true,
    ),
    service(
        "SES-AP-SOUTHEAST-1",
        &[],
        "email-smtp.ap-southeast-1.amazonaws.com",
        465,
        true,
    ),
    service(
        "SES-AP-SOUTHEAST-2",
        &[],
        "email-smtp.ap-southeast-2.amazonaws.com",
        465,
        true,
    ),
    service(
        "SES-CA-CENTRAL-1",
        &[],
        "email-smtp.ca-central-1.amazonaws.com",
        465,
        true,
    ),
    service(
        "SES-EU-CENTRAL-1",
        &[],
        "email-smtp.eu-central-1.amazonaws.com",
        465,
        true,
    ),
    service(
        "SES-EU-NORTH-1",
        &[],
        "email-smtp.eu-north-1.amazonaws.com",
        465,
        true,
    ),
    service(
        "SES-EU-WEST-1",
        &[],
        "email-smtp.eu-west-1.amazonaws.com",
        465,
        true,
    ),
    service(
        "SES-EU-WEST-2",
        &[],
        "email-smtp.eu-west-2.amazonaws.com",
        465,
        true,
    ),
    service(
        "SES-EU-WEST-3",
        &[],
        "email-smtp.eu-west-3.amazonaws.com",
        465,
        true,
    ),
    service(
        "SES-SA-EAST-1",
        &[],
        "email-smtp.sa-east-1.amazonaws.com",
        465,
        true,
    ),
    service(
        "SES-US-EAST-1",
        &[],
        "email-smtp.us-east-1.amazonaws.com",
        465,
        true,
    ),
    service(
        "SES-US-EAST-2",
        &[],
        "email-smtp.us-east-2.amazonaws.com",
        465,
        true,
    ),
    service(
        "SES-US-GOV-EAST-1",
        &[],
        "email-smtp.us-gov-east-1.amazonaws.com",
        465,
        true,
    ),
    service(
        "SES-US-GOV-WEST-1",
        &[],
        "email-smtp.us-gov-west-1.amazonaws.com",
        465,
        true,
    ),
    service(
        "SES-US-WEST-1",
        &[],
        "email-smtp.us-west-1.amazonaws.com",
        465,
        true,
    ),
    service(
        "SES-US-WEST-2",
        &[],
        "email-smtp.us-west-2.amazonaws.com",
        465,
        true,
    ),
    service(
        "Seznam",
        &[
            "Seznam Email",
            "seznam.cz",
            "email.cz",
            "post.cz",
            "spoluzaci.cz",
        ],
        "smtp.seznam.cz",
        465,
        true,
    ),
    service("SMTP2GO", &[], "mail.smtp2go.com", 2525, false),
    service(
        "Sparkpost",
        &["SparkPost", "SparkPost Mail", "sparkpost.com"],
        "smtp.sparkpostmail.com",
        587,
        false,
    ),
    service("Tipimail", &[], "smtp.tipimail.com", 587, false),
    service(
        "Tutanota",
        &["tutanota.com", "tuta.com", "tutanota.de", "tuta.io"],
        "smtp.tutanota.com",
        465,
        true,
    ),
    service("Yahoo", &["yahoo.com"], "smtp.mail.yahoo.com", 465, true),
    service("Yandex", &["yandex.ru"], "smtp.yandex.ru", 465, true),
    service(
        "Zimbra",
        &["Zimbra Collaboration"],
        "smtp.zimbra.com",
        587,
        false,
    ),
    service("Zoho", &[], "smtp.zoho.com", 465, true),
];

/// Nodemailer's key normalisation: only letters, digits, `.` and `-` count,
/// case-insensitively, so `Google Mail`, `googlemail` and `GoogleMail` match.
fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The endpoint of a nodemailer well-known service (`gmail`, `outlook365`,
/// `ses`, `ses-eu-west-1`, ...), matched as nodemailer does: by name, alias
/// or mail domain, ignoring case. `other`, `exchange_server` and
/// `elastic_cloud` are not SMTP services and give `None`.
pub fn well_known_service(name: &str) -> Option<SmtpEndpoint> {
    // Like nodemailer, `user@gmail.com` finds the service by its domain.
    let key = normalize(name.rsplit('@').next().unwrap_or(name));
    if key.is_empty() {
        return None;
    }
    SERVICES
        .iter()
        .find(|service| {
            normalize(service.name) == key
                || service.aliases.iter().any(|alias| normalize(alias) == key)
        })
        .map(|service| service.endpoint)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(host: &'static str, port: u16, secure: bool) -> Option<SmtpEndpoint> {
        Some(SmtpEndpoint { host, port, secure })
    }

    #[test]
    fn kibana_services() {
        assert_eq!(
            well_known_service("gmail"),
            endpoint("smtp.gmail.com", 465, true)
        );
        assert_eq!(
            well_known_service("Google Mail"),
            endpoint("smtp.gmail.com", 465, true)
        );
        assert_eq!(
            well_known_service("outlook365"),
            endpoint("smtp.office365.com", 587, false)
        );
        assert_eq!(
            well_known_service("ses"),
            endpoint("email-smtp.us-east-1.amazonaws.com", 465, true)
        );
        assert_eq!(
            well_known_service("ses-eu-west-1"),
            endpoint("email-smtp.eu-west-1.amazonaws.com", 465, true)
        );
        assert_eq!(
            well_known_service("SES-US-GOV-WEST-1"),
            endpoint("email-smtp.us-gov-west-1.amazonaws.com", 465, true)
        );
        assert_eq!(
            well_known_service("sendgrid"),
            endpoint("smtp.sendgrid.net", 587, false)
        );
        assert_eq!(
            well_known_service("mailgun"),
            endpoint("smtp.mailgun.org", 465, true)
        );
        assert_eq!(
            well_known_service("postmark"),
            endpoint("smtp.postmarkapp.com", 2525, false)
        );
        assert_eq!(
            well_known_service("yahoo"),
            endpoint("smtp.mail.yahoo.com", 465, true)
        );
        assert_eq!(
            well_known_service("zoho"),
            endpoint("smtp.zoho.com", 465, true)
        );
        assert_eq!(
            well_known_service("fastmail"),
            endpoint("smtp.fastmail.com", 465, true)
        );
        assert_eq!(
            well_known_service("Hotmail"),
            endpoint("smtp-mail.outlook.com", 587, false)
        );
        assert_eq!(
            well_known_service("user@outlook.com"),
            endpoint("smtp-mail.outlook.com", 587, false)
        );
    }

    #[test]
    fn not_smtp_services() {
        for name in [
            "other",
            "exchange_server",
            "elastic_cloud",
            "",
            "ses-mars-1",
            "nosuch",
        ] {
            assert_eq!(well_known_service(name), None, "{name}");
        }
    }
}
