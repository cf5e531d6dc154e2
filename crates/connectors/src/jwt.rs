//! The signed JWT a client presents in an OAuth 2.0 JWT bearer grant
//! (RFC 7523): RS256 over `iss`, `sub`, `aud`, `iat` and `exp`, with the
//! verifier's key id in the header, as ServiceNow's `oauth_token.do`
//! expects it. Signing only; the token exchange is the connector's.

use serde::Serialize;

/// How long the assertion is valid: Kibana's hour. It is used at once, so
/// only clock skew makes this matter.
const VALIDITY_SECS: u64 = 3600;

/// What the assertion says and the key that signs it.
pub struct JwtGrant<'a> {
    pub issuer: &'a str,
    pub subject: &'a str,
    pub audience: &'a str,
    pub key_id: Option<&'a str>,
    /// PEM: PKCS#1 (`RSA PRIVATE KEY`), PKCS#8 (`PRIVATE KEY`), or
    /// encrypted PKCS#8 (`ENCRYPTED PRIVATE KEY`) with `key_password`.
    pub private_key_pem: &'a str,
    pub key_password: Option<&'a str>,
}

/// Why no assertion could be made. Never shows the key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    #[error("not a PEM RSA private key (PKCS#1, or PKCS#8 encrypted or not)")]
    Key,
    #[error("the encrypted private key cannot be decrypted with the password given")]
    Password,
    #[error("the key cannot sign RS256 ({0})")]
    Sign(String),
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

/// The compact JWT, issued at `issued_at` (seconds since the epoch).
pub fn assertion(grant: &JwtGrant<'_>, issued_at: u64) -> Result<String, JwtError> {
    let key = signing_key(grant.private_key_pem, grant.key_password)?;
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = grant.key_id.map(str::to_owned);
    let claims = Claims {
        iss: grant.issuer,
        sub: grant.subject,
        aud: grant.audience,
        iat: issued_at,
        exp: issued_at + VALIDITY_SECS,
    };
    // The error kind only: jsonwebtoken's errors never carry key material,
    // but a kind is all a reader needs.
    jsonwebtoken::encode(&header, &claims, &key)
        .map_err(|e| JwtError::Sign(format!("{:?}", e.kind())))
}

/// The RSA key, decrypting an encrypted PKCS#8 key (PBES2, as `openssl
/// pkcs8 -topk8 -v2 aes256` writes it) with the password.
fn signing_key(pem: &str, password: Option<&str>) -> Result<jsonwebtoken::EncodingKey, JwtError> {
    use pkcs8::der::Decode;
    if !pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
        return jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|_| JwtError::Key);
    }
    let password = password
        .filter(|p| !p.is_empty())
        .ok_or(JwtError::Password)?;
    let (_label, document) = pkcs8::SecretDocument::from_pem(pem).map_err(|_| JwtError::Key)?;
    let encrypted =
        pkcs8::EncryptedPrivateKeyInfo::from_der(document.as_bytes()).map_err(|_| JwtError::Key)?;
    let decrypted = encrypted
        .decrypt(password)
        .map_err(|_| JwtError::Password)?;
    let info = pkcs8::PrivateKeyInfo::from_der(decrypted.as_bytes()).map_err(|_| JwtError::Key)?;
    // rsaEncryption
    if info.algorithm.oid != pkcs8::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1") {
        return Err(JwtError::Key);
    }
    Ok(jsonwebtoken::EncodingKey::from_rsa_der(info.private_key))
}

/// Seconds since the epoch, for `issued_at`.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};

    /// A fresh RSA key pair: (private key PEM, public key PEM).
    pub(crate) fn rsa_key() -> (String, String) {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("an RSA key");
        (pair.serialize_pem(), pair.public_key_pem())
    }

    /// `private` encrypted with `password` as `openssl pkcs8 -topk8 -v2
    /// aes256` does (PBES2: PBKDF2-SHA256 and AES-256-CBC), with few
    /// iterations for the debug build's sake.
    pub(crate) fn encrypt(private: &str, password: &str) -> String {
        use pkcs8::der::Decode;
        use pkcs8::der::pem::LineEnding;
        let (_, document) = pkcs8::SecretDocument::from_pem(private).unwrap();
        let info = pkcs8::PrivateKeyInfo::from_der(document.as_bytes()).unwrap();
        let params =
            pkcs8::pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(64, b"saltsalt", &[7; 16])
                .unwrap();
        let encrypted = info.encrypt_with_params(params, password).unwrap();
        encrypted
            .to_pem("ENCRYPTED PRIVATE KEY", LineEnding::LF)
            .unwrap()
            .to_string()
    }

    #[test]
    fn encrypted_keys_are_decrypted_with_their_password() {
        let (private, public) = rsa_key();
        let encrypted = encrypt(&private, "hunter2");
        let grant = |password| JwtGrant {
            issuer: "c",
            subject: "s",
            audience: "c",
            key_id: None,
            private_key_pem: &encrypted,
            key_password: password,
        };
        let token = assertion(&grant(Some("hunter2")), now()).unwrap();
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&["c"]);
        let key = DecodingKey::from_rsa_pem(public.as_bytes()).unwrap();
        assert!(decode::<serde_json::Value>(&token, &key, &validation).is_ok());
        assert_eq!(
            assertion(&grant(Some("wrong")), 0).unwrap_err(),
            JwtError::Password
        );
        assert_eq!(assertion(&grant(None), 0).unwrap_err(), JwtError::Password);
    }

    #[test]
    fn signs_rs256_with_the_key_id_and_claims() {
        let (private, public) = rsa_key();
        let grant = JwtGrant {
            issuer: "client-1",
            subject: "herald@example.com",
            audience: "client-1",
            key_id: Some("kid-7"),
            private_key_pem: &private,
            key_password: None,
        };
        let now = now();
        let token = assertion(&grant, now).unwrap();
        let header = decode_header(&token).unwrap();
        assert_eq!(header.alg, Algorithm::RS256);
        assert_eq!(header.kid.as_deref(), Some("kid-7"));
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&["client-1"]);
        validation.set_issuer(&["client-1"]);
        validation.sub = Some("herald@example.com".into());
        let decoded = decode::<serde_json::Value>(
            &token,
            &DecodingKey::from_rsa_pem(public.as_bytes()).unwrap(),
            &validation,
        )
        .unwrap();
        assert_eq!(decoded.claims["iat"], now);
        assert_eq!(decoded.claims["exp"], now + 3600);
    }

    #[test]
    fn a_bad_key_is_named_never_shown() {
        let grant = JwtGrant {
            issuer: "c",
            subject: "s",
            audience: "c",
            key_id: None,
            private_key_pem: "-----BEGIN PRIVATE KEY-----\nTOPSECRET\n-----END PRIVATE KEY-----",
            key_password: None,
        };
        let error = assertion(&grant, 0).unwrap_err();
        assert_eq!(error, JwtError::Key);
        assert!(!error.to_string().contains("TOPSECRET"));
    }
}
