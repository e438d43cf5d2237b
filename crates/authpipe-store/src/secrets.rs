//! Sealing secrets before they reach the database.
//!
//! XChaCha20-Poly1305 (RustCrypto) with a random 192-bit nonce per value.
//! The tenant and the variable's name are the associated data, so a sealed
//! value copied to another row does not open. Stored as
//! `1 || nonce || ciphertext+tag`.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::path::{Path, PathBuf};

const FORMAT: u8 = 1;
const NONCE_BYTES: usize = 24;

/// Why the master key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    /// `AUTHPIPE_MASTER_KEY` (or the key file) is not 64 hex digits.
    #[error("{0} must hold 64 hex digits (a 256-bit key)")]
    Malformed(String),
    /// The key file could not be read or created.
    #[error("cannot use the key file {path}: {source}")]
    File {
        /// The key file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The key file may be read by others.
    #[error("the key file {0} must not be readable by group or others (chmod 600)")]
    Permissions(PathBuf),
}

/// Seals and opens secret values with the platform's master key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(<key>)")
    }
}

impl SecretBox {
    /// A box with a 256-bit `key`.
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(key.into()),
        }
    }

    /// The key from `hex` (64 hex digits); `what` names its origin in
    /// errors.
    pub fn from_hex(hex: &str, what: &str) -> Result<Self, MasterKeyError> {
        let hex = hex.trim();
        if hex.len() != 64 {
            return Err(MasterKeyError::Malformed(what.into()));
        }
        let mut key = [0u8; 32];
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
                .map_err(|_| MasterKeyError::Malformed(what.into()))?;
        }
        Ok(Self::new(&key))
    }

    /// The key from `AUTHPIPE_MASTER_KEY` when given, else from the key
    /// file at `key_file`, which is created (mode 0600) with a new random
    /// key the first time.
    pub fn from_env_or_file(
        env_value: Option<&str>,
        key_file: &Path,
    ) -> Result<Self, MasterKeyError> {
        if let Some(hex) = env_value.filter(|v| !v.is_empty()) {
            return Self::from_hex(hex, "AUTHPIPE_MASTER_KEY");
        }
        let file_error = |source| MasterKeyError::File {
            path: key_file.to_path_buf(),
            source,
        };
        match std::fs::read_to_string(key_file) {
            Ok(text) => {
                check_private(key_file)?;
                Self::from_hex(&text, &key_file.display().to_string())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                getrandom::fill(&mut key)
                    .map_err(|e| file_error(std::io::Error::other(e.to_string())))?;
                let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
                write_private(key_file, &hex).map_err(file_error)?;
                Ok(Self::new(&key))
            }
            Err(e) => Err(file_error(e)),
        }
    }

    /// Seals `plaintext`, bound to `context` (tenant and name).
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce).expect("the operating system provides randomness");
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context,
                },
            )
            .expect("sealing with a valid key does not fail");
        let mut out = Vec::with_capacity(1 + NONCE_BYTES + sealed.len());
        out.push(FORMAT);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens what [`SecretBox::seal`] made for `context`; `None` when it
    /// was sealed with another key or for another context, or altered.
    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Option<Vec<u8>> {
        let (&format, rest) = sealed.split_first()?;
        if format != FORMAT || rest.len() < NONCE_BYTES {
            return None;
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_BYTES);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context,
                },
            )
            .ok()
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), MasterKeyError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|source| MasterKeyError::File {
            path: path.to_path_buf(),
            source,
        })?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(MasterKeyError::Permissions(path.to_path_buf()));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_: &Path) -> Result<(), MasterKeyError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_context() {
        let a = SecretBox::new(&[7; 32]);
        let sealed = a.seal(b"hunter2", b"acme/SLACK");
        assert!(!sealed.windows(7).any(|w| w == b"hunter2"));
        assert_eq!(a.open(&sealed, b"acme/SLACK").unwrap(), b"hunter2");
        assert!(
            a.open(&sealed, b"other/SLACK").is_none(),
            "bound to its row"
        );
        assert!(
            SecretBox::new(&[8; 32])
                .open(&sealed, b"acme/SLACK")
                .is_none()
        );
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert!(a.open(&altered, b"acme/SLACK").is_none());
        assert_ne!(a.seal(b"hunter2", b"acme/SLACK"), sealed, "fresh nonce");
    }

    #[test]
    fn the_key_file_is_created_private_and_reused() {
        let dir = std::env::temp_dir().join(format!("authpipe-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("db.key");
        let _ = std::fs::remove_file(&file);
        let first = SecretBox::from_env_or_file(None, &file).unwrap();
        let sealed = first.seal(b"x", b"c");
        let again = SecretBox::from_env_or_file(None, &file).unwrap();
        assert_eq!(again.open(&sealed, b"c").unwrap(), b"x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(
                SecretBox::from_env_or_file(None, &file),
                Err(MasterKeyError::Permissions(_))
            ));
        }
        assert!(matches!(
            SecretBox::from_env_or_file(Some("abc"), &file),
            Err(MasterKeyError::Malformed(_))
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
