//! Secrets at rest: AES-256-GCM under a master key, with the account's id and
//! type as associated data, so a ciphertext copied into another row (or
//! another connector type) fails to decrypt instead of leaking a credential
//! to the wrong destination. Each ciphertext is stored beside the id of the
//! key that sealed it, so keys can be rotated: the first key seals, every
//! key opens, and `rotate` re-seals what an older key sealed.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use sha2::{Digest, Sha256};

const NONCE_LEN: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "HERALD_MASTER_KEY is not set: give base64 of 32 random bytes (e.g. `openssl rand -base64 32`)"
    )]
    Missing,
    #[error("HERALD_MASTER_KEY entry {index} is not base64 of 32 bytes")]
    Malformed { index: usize },
}

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error(
        "no master key with id {0} is configured (was an old key removed from HERALD_MASTER_KEY?)"
    )]
    UnknownKey(String),
    #[error("ciphertext does not open under key {0}: it was altered or belongs to another account")]
    Forged(String),
}

/// Ciphertext and the id of the key that sealed it.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    pub key_id: String,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sealed({}, {} bytes)", self.key_id, self.bytes.len())
    }
}

struct MasterKey {
    id: String,
    cipher: Aes256Gcm,
}

pub struct SecretBox {
    /// The first key seals; all of them open.
    keys: Vec<MasterKey>,
    /// A hash of the first key under its own label, from which [`SecretBox::derive`]
    /// makes keys for other purposes (never used to seal).
    derive_root: [u8; 32],
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|k| k.id.as_str()).collect();
        f.debug_struct("SecretBox").field("key_ids", &ids).finish()
    }
}

impl SecretBox {
    /// `spec` is HERALD_MASTER_KEY: comma-separated base64 keys, the current
    /// one first, older ones after it until `rotate` has re-sealed everything.
    pub fn from_spec(spec: &str) -> Result<SecretBox, KeyError> {
        let keys = spec
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .enumerate()
            .map(|(index, text)| {
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .map_err(|_| KeyError::Malformed { index })?;
                let raw: [u8; 32] = raw.try_into().map_err(|_| KeyError::Malformed { index })?;
                Ok(MasterKey {
                    id: key_id(&raw),
                    cipher: Aes256Gcm::new(&raw.into()),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let Some(first) = spec.split(',').map(str::trim).find(|s| !s.is_empty()) else {
            return Err(KeyError::Missing);
        };
        let first = base64::engine::general_purpose::STANDARD
            .decode(first)
            .map_err(|_| KeyError::Malformed { index: 0 })?;
        let derive_root = Sha256::new_with_prefix(b"herald master key derivation\0")
            .chain_update(&first)
            .finalize()
            .into();
        Ok(SecretBox { keys, derive_root })
    }

    /// A fresh random key, base64, as HERALD_MASTER_KEY expects it.
    pub fn generate_key() -> String {
        let key = Aes256Gcm::generate_key(OsRng);
        base64::engine::general_purpose::STANDARD.encode(key)
    }

    /// A 32-byte key for another purpose than sealing (the console's
    /// session cookies), the same on every replica that has the same current
    /// master key: HMAC-SHA256 of `label` under a hash of that key. Distinct
    /// labels give unrelated keys, and none of them reveals the master key.
    pub fn derive(&self, label: &str) -> [u8; 32] {
        use hmac::Mac;
        let mut mac = <hmac::Hmac<Sha256> as Mac>::new_from_slice(&self.derive_root)
            .expect("HMAC takes a key of any length");
        mac.update(label.as_bytes());
        mac.finalize().into_bytes().into()
    }

    pub fn current_key_id(&self) -> &str {
        &self.keys[0].id
    }

    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Sealed {
        let key = &self.keys[0];
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = key
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut bytes = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&ciphertext);
        Sealed {
            key_id: key.id.clone(),
            bytes,
        }
    }

    pub fn open(&self, sealed: &Sealed, aad: &[u8]) -> Result<Vec<u8>, SealError> {
        let key = self
            .keys
            .iter()
            .find(|k| k.id == sealed.key_id)
            .ok_or_else(|| SealError::UnknownKey(sealed.key_id.clone()))?;
        if sealed.bytes.len() < NONCE_LEN {
            return Err(SealError::Forged(key.id.clone()));
        }
        let (nonce, ciphertext) = sealed.bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().expect("split at NONCE_LEN");
        key.cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map_err(|_| SealError::Forged(key.id.clone()))
    }
}

/// A short public name for a key: it lets a row say which key sealed it
/// without revealing anything usable about the key.
fn key_id(raw: &[u8; 32]) -> String {
    let digest = Sha256::new_with_prefix(b"herald master key id\0")
        .chain_update(raw)
        .finalize();
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_bind_to_aad() {
        let b = SecretBox::from_spec(&SecretBox::generate_key()).unwrap();
        let sealed = b.seal(b"hunter2", b"acct-a|slack");
        assert_eq!(b.open(&sealed, b"acct-a|slack").unwrap(), b"hunter2");
        assert!(matches!(
            b.open(&sealed, b"acct-b|slack"),
            Err(SealError::Forged(_))
        ));
        assert!(matches!(
            b.open(&sealed, b"acct-a|teams"),
            Err(SealError::Forged(_))
        ));
        let mut tampered = sealed.clone();
        *tampered.bytes.last_mut().unwrap() ^= 1;
        assert!(b.open(&tampered, b"acct-a|slack").is_err());
        assert!(!format!("{sealed:?}").contains("hunter2"));
    }

    #[test]
    fn old_keys_open_new_key_seals() {
        let (old, new) = (SecretBox::generate_key(), SecretBox::generate_key());
        let before = SecretBox::from_spec(&old).unwrap();
        let sealed = before.seal(b"x", b"aad");
        let after = SecretBox::from_spec(&format!("{new}, {old}")).unwrap();
        assert_ne!(after.current_key_id(), sealed.key_id);
        assert_eq!(after.open(&sealed, b"aad").unwrap(), b"x");
        assert_eq!(after.seal(b"x", b"aad").key_id, after.current_key_id());
        let only_new = SecretBox::from_spec(&new).unwrap();
        assert!(matches!(
            only_new.open(&sealed, b"aad"),
            Err(SealError::UnknownKey(_))
        ));
    }

    #[test]
    fn derived_keys_follow_the_current_key_and_the_label() {
        let (old, new) = (SecretBox::generate_key(), SecretBox::generate_key());
        let a = SecretBox::from_spec(&old).unwrap();
        let b = SecretBox::from_spec(&format!("{old},{new}")).unwrap();
        assert_eq!(a.derive("console"), b.derive("console"));
        assert_ne!(a.derive("console"), a.derive("other"));
        let rotated = SecretBox::from_spec(&format!("{new},{old}")).unwrap();
        assert_ne!(rotated.derive("console"), a.derive("console"));
    }

    #[test]
    fn bad_keys_are_refused_without_echoing_them() {
        assert!(matches!(SecretBox::from_spec(""), Err(KeyError::Missing)));
        let err = SecretBox::from_spec("c2hvcnQ=").unwrap_err();
        assert!(!err.to_string().contains("c2hvcnQ="));
        let good = SecretBox::generate_key();
        assert!(matches!(
            SecretBox::from_spec(&format!("{good},nope")),
            Err(KeyError::Malformed { index: 1 })
        ));
    }
}
