//! The signing key: from `JOBBOARD_PRIVATE_KEY` or an encrypted JSON keystore, never from a
//! flag (a key on a command line ends up in shell history and process listings).

use std::io::IsTerminal;
use std::path::Path;
use std::str::FromStr;

use alloy::signers::local::{LocalSignerError, PrivateKeySigner};

use super::ActionError;
use crate::args::PRIVATE_KEY_ENV;

/// The environment variable that holds the `--keystore` password, for scripts; on a terminal
/// without it the password is asked for without echo.
pub const KEYSTORE_PASSWORD_ENV: &str = "JOBBOARD_KEYSTORE_PASSWORD";

/// Loads the signer: the keystore when one is given, else the key in [`PRIVATE_KEY_ENV`].
///
/// # Errors
/// [`ActionError::NoKey`], [`ActionError::BadKey`], or a keystore error (no password, wrong
/// password, unreadable file).
pub fn load_signer(keystore: Option<&Path>) -> Result<PrivateKeySigner, ActionError> {
    match keystore {
        Some(path) => decrypt_keystore(path),
        None => {
            let key = std::env::var(PRIVATE_KEY_ENV).unwrap_or_default();
            if key.trim().is_empty() {
                return Err(ActionError::NoKey);
            }
            PrivateKeySigner::from_str(key.trim()).map_err(|_| ActionError::BadKey)
        }
    }
}

fn decrypt_keystore(path: &Path) -> Result<PrivateKeySigner, ActionError> {
    if let Err(source) = std::fs::metadata(path) {
        return Err(ActionError::File { action: "read the keystore", path: path.to_owned(), source });
    }
    let password = match std::env::var(KEYSTORE_PASSWORD_ENV) {
        Ok(password) => password,
        Err(_) if std::io::stdin().is_terminal() => {
            rpassword::prompt_password(format!("Password for {}: ", path.display()))
                .map_err(ActionError::Prompt)?
        }
        Err(_) => return Err(ActionError::NoPassword { path: path.to_owned() }),
    };
    PrivateKeySigner::decrypt_keystore(path, password).map_err(|source| match &source {
        // A MAC that does not match is what a wrong password looks like to a keystore.
        LocalSignerError::EthKeystoreError(eth_keystore::KeystoreError::MacMismatch) => {
            ActionError::WrongPassword { path: path.to_owned() }
        }
        _ => ActionError::Keystore { path: path.to_owned(), source },
    })
}
