//! What stops a binary at start: each error names the variable and the
//! file, and never quotes a private key. Reads real files written by a
//! throwaway CA. nextest runs each test in a process of its own, so the
//! variables set here touch no other test.

use std::path::Path;

use herald_test_support::TestPki;
use herald_tls::{ClientTls, ServerTls};

const SERVER_VARS: [&str; 3] = [
    "HERALD_TLS_CERT_FILE",
    "HERALD_TLS_KEY_FILE",
    "HERALD_TLS_CLIENT_CA_FILE",
];

/// Sets the variables given, with paths; unsets the others of `all`.
fn set(all: &[&str], vars: &[(&str, &Path)]) {
    for name in all {
        // SAFETY: single-threaded at this point of the test.
        unsafe { std::env::remove_var(name) };
    }
    for (name, path) in vars {
        // SAFETY: as above.
        unsafe { std::env::set_var(name, path) };
    }
}

fn server_error(vars: &[(&str, &Path)]) -> String {
    set(&SERVER_VARS, vars);
    ServerTls::from_env().unwrap_err().to_string()
}

#[test]
fn server_settings_are_all_or_nothing_and_errors_name_the_variable() {
    let pki = TestPki::new();
    let (cert, key) = pki.issue_files("server", &["127.0.0.1"]);
    let ca = pki.ca_file();

    set(&SERVER_VARS, &[]);
    assert!(ServerTls::from_env().unwrap().is_none());
    set(
        &SERVER_VARS,
        &[
            ("HERALD_TLS_CERT_FILE", &cert),
            ("HERALD_TLS_KEY_FILE", &key),
        ],
    );
    assert!(!ServerTls::from_env().unwrap().unwrap().verifies_clients());
    set(
        &SERVER_VARS,
        &[
            ("HERALD_TLS_CERT_FILE", &cert),
            ("HERALD_TLS_KEY_FILE", &key),
            ("HERALD_TLS_CLIENT_CA_FILE", &ca),
        ],
    );
    assert!(ServerTls::from_env().unwrap().unwrap().verifies_clients());

    let error = server_error(&[("HERALD_TLS_CERT_FILE", &cert)]);
    assert_eq!(
        error,
        "HERALD_TLS_CERT_FILE is set but HERALD_TLS_KEY_FILE is not: give both, or neither"
    );
    let error = server_error(&[("HERALD_TLS_KEY_FILE", &key)]);
    assert!(
        error.starts_with("HERALD_TLS_KEY_FILE is set but"),
        "{error}"
    );
    let error = server_error(&[("HERALD_TLS_CLIENT_CA_FILE", &ca)]);
    assert!(
        error.starts_with("HERALD_TLS_CLIENT_CA_FILE is set but"),
        "{error}"
    );

    let missing = Path::new("/nonexistent/herald/server.pem");
    let error = server_error(&[
        ("HERALD_TLS_CERT_FILE", missing),
        ("HERALD_TLS_KEY_FILE", &key),
    ]);
    assert!(
        error.starts_with("HERALD_TLS_CERT_FILE: cannot read /nonexistent/herald/server.pem:"),
        "{error}"
    );
}

#[test]
fn bad_pem_is_named_without_quoting_the_key() {
    let pki = TestPki::new();
    let (cert, key) = pki.issue_files("server", &["127.0.0.1"]);
    let key_pem = std::fs::read_to_string(&key).unwrap();
    let not_pem = pki.write("not.pem", "hello, I am not a certificate\n");

    let error = server_error(&[
        ("HERALD_TLS_CERT_FILE", &not_pem),
        ("HERALD_TLS_KEY_FILE", &key),
    ]);
    assert_eq!(
        error,
        format!(
            "HERALD_TLS_CERT_FILE: {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            not_pem.display()
        )
    );

    // The certificate where the key belongs.
    let error = server_error(&[
        ("HERALD_TLS_CERT_FILE", &cert),
        ("HERALD_TLS_KEY_FILE", &cert),
    ]);
    let expected = format!(
        "HERALD_TLS_KEY_FILE: {} holds no PEM private key",
        cert.display()
    );
    assert!(error.starts_with(&expected), "{error}");

    // A key that belongs to another certificate.
    let (_, other_key) = pki.issue_files("other", &["127.0.0.1"]);
    let error = server_error(&[
        ("HERALD_TLS_CERT_FILE", &cert),
        ("HERALD_TLS_KEY_FILE", &other_key),
    ]);
    assert!(
        error.starts_with("HERALD_TLS_KEY_FILE: ")
            && error.contains("does not go with the certificate in HERALD_TLS_CERT_FILE"),
        "{error}"
    );

    // A broken key: its text must not come back in the message.
    let body: String = key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let broken = pki.write(
        "broken.key",
        &format!(
            "-----BEGIN PRIVATE KEY-----\n{}!!\n-----END PRIVATE KEY-----\n",
            &body[..40]
        ),
    );
    let error = server_error(&[
        ("HERALD_TLS_CERT_FILE", &cert),
        ("HERALD_TLS_KEY_FILE", &broken),
    ]);
    assert!(error.starts_with("HERALD_TLS_KEY_FILE: "), "{error}");
    assert!(!error.contains(&body[..40]), "{error}");

    let error = server_error(&[
        ("HERALD_TLS_CERT_FILE", &cert),
        ("HERALD_TLS_KEY_FILE", &key),
        ("HERALD_TLS_CLIENT_CA_FILE", &not_pem),
    ]);
    assert!(error.starts_with("HERALD_TLS_CLIENT_CA_FILE: "), "{error}");
}

#[test]
fn client_settings_name_the_variable() {
    let all = [
        "HERALD_TLS_CA_FILE",
        "HERALD_TLS_CLIENT_CERT_FILE",
        "HERALD_TLS_CLIENT_KEY_FILE",
    ];
    let pki = TestPki::new();
    let (cert, key) = pki.issue_files("client", &["client.test"]);
    let ca = pki.ca_file();
    let not_pem = pki.write("not.pem", "nothing here\n");

    set(
        &all,
        &[
            ("HERALD_TLS_CA_FILE", &ca),
            ("HERALD_TLS_CLIENT_CERT_FILE", &cert),
            ("HERALD_TLS_CLIENT_KEY_FILE", &key),
        ],
    );
    let tls = ClientTls::from_env().unwrap();
    assert_eq!(
        format!("{tls:?}"),
        "ClientTls { extra_roots: true, client_certificate: true }"
    );

    set(&all, &[("HERALD_TLS_CLIENT_CERT_FILE", &cert)]);
    let error = ClientTls::from_env().unwrap_err().to_string();
    assert!(
        error.starts_with("HERALD_TLS_CLIENT_CERT_FILE is set alone"),
        "{error}"
    );

    set(&all, &[("HERALD_TLS_CA_FILE", &not_pem)]);
    let error = ClientTls::from_env().unwrap_err().to_string();
    assert!(error.starts_with("HERALD_TLS_CA_FILE: "), "{error}");

    // A URL that cannot be used names its variable too.
    let error = ClientTls::default()
        .endpoint("HERALD_REGISTRY_URL", "not a url")
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("HERALD_REGISTRY_URL: `not a url`"),
        "{error}"
    );
}
