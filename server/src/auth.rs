//! Device tokens and operator PINs.
//!
//! A device token is 32 random bytes, shown once at creation and stored only
//! as its SHA-256 hash: tokens are high-entropy, so a fast hash is enough and
//! keeps the per-request lookup cheap. PINs are short and guessable, so they
//! are stored as Argon2id hashes (the same hash devices pull for offline
//! login).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Every token starts with this, so a leaked one is recognisable in a scan of
/// logs or code.
pub const TOKEN_PREFIX: &str = "pyck_";

/// A fresh random device token.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// The hash a token is stored and looked up by (lower-case hex SHA-256).
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Argon2id at RFC 9106's second recommended setting (64 MiB, 3 passes),
/// with one lane: a handheld verifies a login offline in a fraction of a
/// second, and each guess against a pulled hash costs as much (134 ms on
/// one core of the reference machine, 6.5 times the 19 MiB, 2-pass setting
/// before; docs/SECURITY.md has the figures). A hash carries its own
/// parameters, so hashes made before still verify.
pub const PIN_MEMORY_KIB: u32 = 64 * 1024;
pub const PIN_PASSES: u32 = 3;

fn argon2() -> Argon2<'static> {
    let params = Params::new(PIN_MEMORY_KIB, PIN_PASSES, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a PIN into a PHC string.
pub fn hash_pin(pin: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let hash = argon2()
        .hash_password(pin.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing PIN: {e}"))?;
    Ok(hash.to_string())
}

/// Whether `pin` matches a PHC hash from [`hash_pin`].
pub fn verify_pin(pin: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| argon2().verify_password(pin.as_bytes(), &parsed).is_ok())
        .unwrap_or(false)
}

/// A PIN must be 4 to 12 digits: typed with gloves on a numeric keypad.
pub fn check_pin(pin: &str) -> Result<(), String> {
    if (4..=12).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err("the PIN must be 4 to 12 digits".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hash_stably() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_eq!(token_hash(&a).len(), 64);
        assert!(!token_hash(&a).contains(&a));
    }

    #[test]
    fn pins_verify_only_themselves() {
        let h = hash_pin("4711").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_pin("4711", &h));
        assert!(!verify_pin("4712", &h));
        assert!(!verify_pin("4711", "not a hash"));
        assert!(check_pin("12a4").is_err());
        assert!(check_pin("123").is_err());
        assert!(check_pin("1234").is_ok());
    }

    #[test]
    fn new_hashes_cost_64_mib_and_3_passes_and_old_ones_still_verify() {
        let h = hash_pin("4711").unwrap();
        assert!(h.contains("$m=65536,t=3,p=1$"), "{h}");
        // Made with the parameters before (19 MiB, 2 passes).
        let old = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(19 * 1024, 2, 1, None).unwrap(),
        );
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let old = old.hash_password(b"4711", &salt).unwrap().to_string();
        assert!(old.contains("$m=19456,t=2,p=1$"), "{old}");
        assert!(verify_pin("4711", &old));
        assert!(!verify_pin("4712", &old));
    }
}
