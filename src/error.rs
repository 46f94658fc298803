//! Errors as types. Each variant renders as the one stderr line an operator sees (cause and fix)
//! and knows its exit status; no variant ever holds a secret.

use std::path::PathBuf;

use crate::exit_codes;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A bad value in the ini file: file, line and option named.
    #[error("{file}:{line}: option '{option}': {message}")]
    ConfigValue {
        file: PathBuf,
        line: usize,
        option: String,
        message: String,
    },
    /// A configuration problem that is not tied to one line.
    #[error("{0}")]
    Config(String),
    /// No credential source produced keys.
    #[error(
        "no Alibaba Cloud credentials found (set ALICLOUD_ACCESS_KEY and ALICLOUD_SECRET_KEY, \
         or alicloud_access_key/alicloud_secret_key in the [credentials] section of alicloud.ini, \
         or an aliyun CLI profile with ALICLOUD_PROFILE (~/.aliyun/config.json), \
         or an ECS RAM role with ALICLOUD_ECS_ROLE_NAME)"
    )]
    NoCredentials,
    /// A credential source that is configured but broken (bad profile file, metadata down...).
    #[error("credentials: {0}")]
    Credentials(String),
    /// The service refused a request for good (not retryable, or retries used up).
    #[error("{scope}: {code}: {message}{hint}")]
    Api {
        scope: String,
        code: String,
        message: String,
        hint: String,
    },
    /// The request never got a usable answer (connection, timeout, unreadable body).
    #[error("{scope}: {message}")]
    Transport { scope: String, message: String },
    /// Reading or writing the cache or another file failed.
    #[error("{0}")]
    Io(String),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::ConfigValue { .. } | Error::Config(_) | Error::NoCredentials => {
                exit_codes::CONFIG
            }
            Error::Credentials(_) => exit_codes::CONFIG,
            Error::Api { code, .. } if is_credential_code(code) => exit_codes::CONFIG,
            _ => exit_codes::RUNTIME,
        }
    }
}

/// Codes that say the keys themselves are wrong: no retry helps, the operator must fix them.
fn is_credential_code(code: &str) -> bool {
    code.starts_with("InvalidAccessKeyId")
        || code == "SignatureDoesNotMatch"
        || code.starts_with("InvalidSecurityToken")
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
