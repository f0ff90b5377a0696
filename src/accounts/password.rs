//! Password hashing with argon2id and the crate's default parameters.

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default().hash_password(password.as_bytes(), &salt)?.to_string())
}

/// A hash of a random value, verified against when the account does not
/// exist, so a wrong email takes as long as a wrong password.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash("not a password of any account").expect("hashing a constant succeeds"));

/// Checks a password against a stored hash; a missing hash never matches.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    let candidate = stored.unwrap_or(DUMMY_HASH.as_str());
    let matches = PasswordHash::new(candidate)
        .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        .unwrap_or(false);
    matches && stored.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_argon2id() {
        let hashed = hash("correct horse battery").unwrap();
        assert!(hashed.starts_with("$argon2id$"), "{hashed}");
    }

    #[test]
    fn verify_accepts_right_password() {
        let hashed = hash("correct horse battery").unwrap();
        assert!(verify("correct horse battery", Some(&hashed)));
    }

    #[test]
    fn verify_rejects_wrong_password() {
        let hashed = hash("correct horse battery").unwrap();
        assert!(!verify("wrong horse battery", Some(&hashed)));
    }

    #[test]
    fn verify_rejects_missing_hash() {
        assert!(!verify("anything", None));
    }
}
