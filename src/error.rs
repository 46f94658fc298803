//! Errors as types. Each variant renders as the one stderr line an operator sees (cause and fix)
//! and knows its exit status; the error it stems from, if any, stays reachable as its `source`.
//! No variant ever holds a secret.

use std::io;
use std::path::PathBuf;

use crate::service_codes as codes;

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
    /// The config file exists but cannot be read.
    #[error("cannot read config file {}: {source}{}", path.display(), read_fix(source))]
    ConfigFile {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The config file is not UTF-8.
    #[error(
        "{}: not UTF-8 text (byte {}); save the file as UTF-8",
        path.display(),
        source.utf8_error().valid_up_to()
    )]
    ConfigEncoding {
        path: PathBuf,
        #[source]
        source: std::string::FromUtf8Error,
    },
    /// No credential source produced keys; `file_keys` says where the config file takes keys.
    #[error(
        "no Alibaba Cloud credentials found (set ALICLOUD_ACCESS_KEY and ALICLOUD_SECRET_KEY, \
         or {file_keys}, \
         or an aliyun CLI profile with ALICLOUD_PROFILE (~/.aliyun/config.json), \
         or an ECS RAM role with ALICLOUD_ECS_ROLE_NAME)"
    )]
    NoCredentials { file_keys: &'static str },
    /// A credential source that is configured but broken (bad profile file, metadata down...).
    #[error("credentials: {0}")]
    Credentials(String),
    /// A credential file that exists but cannot be read; `context` names what it was read for.
    #[error("credentials: {context}cannot read {}: {source}", path.display())]
    CredentialFile {
        context: String,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
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
    Transport {
        scope: String,
        message: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The HTTP client could not be set up (`what`: "HTTPS" for the API, "HTTP" for metadata).
    #[error("cannot start the {what} client: {source}")]
    HttpClient {
        what: &'static str,
        #[source]
        source: reqwest::Error,
    },
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] io::Error),
    #[error("internal error: a fetch task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// One account of `accounts` failed; the cause keeps its own exit status.
    #[error("account '{alias}': {source}")]
    Account {
        alias: String,
        #[source]
        source: Box<Error>,
    },
    /// Writing the output failed (a reader that went away is not an error: see `run::Outcome`).
    #[error("cannot write the inventory to stdout: {0}")]
    Stdout(#[source] io::Error),
    /// The answer could not be shown as asked (`--graph`, `--pretty`), though it was read.
    #[error("{0}")]
    View(String),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::ConfigValue { .. }
            | Error::Config(_)
            | Error::ConfigFile { .. }
            | Error::ConfigEncoding { .. }
            | Error::NoCredentials { .. }
            | Error::Credentials(_)
            | Error::CredentialFile { .. } => exit_codes::CONFIG,
            // Keys the service does not accept, or a region it does not know: the operator must
            // fix them, retrying won't.
            Error::Api { code, .. }
                if codes::classify(code).is_credentials()
                    || codes::classify(code) == codes::Class::Region =>
            {
                exit_codes::CONFIG
            }
            Error::Account { source, .. } => source.exit_code(),
            _ => exit_codes::RUNTIME,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What to do about a config file that cannot be read, in the operator's terms.
fn read_fix(e: &io::Error) -> &'static str {
    match e.kind() {
        io::ErrorKind::PermissionDenied => {
            " (give the user that runs the inventory read access, e.g. chown it to that user and chmod 600)"
        }
        io::ErrorKind::NotFound => " (check the path in --config or ALICLOUD_INI_PATH)",
        _ => "",
    }
}

/// The three exit statuses (docs/DESIGN.md, "Command line"). Ansible only tells zero from
/// non-zero; operators and cron wrappers tell configuration mistakes (2) from runtime failures (1).
pub mod exit_codes {
    pub const SUCCESS: i32 = 0;
    /// API, network, cache or file-system failure: retrying later may help.
    pub const RUNTIME: i32 = 1;
    /// Bad usage or bad configuration: retrying will not help until the operator fixes something.
    pub const CONFIG: i32 = 2;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An unreadable config names the fix (it said only "Permission denied"); as root, a mode
    /// cannot make a file unreadable, so the message is checked here rather than by a run.
    #[test]
    fn an_unreadable_config_names_the_fix() {
        let e = Error::ConfigFile {
            path: PathBuf::from("/etc/ansible/alicloud.ini"),
            source: io::Error::from(io::ErrorKind::PermissionDenied),
        };
        assert_eq!(e.exit_code(), exit_codes::CONFIG);
        assert_eq!(
            e.to_string(),
            "cannot read config file /etc/ansible/alicloud.ini: permission denied (give the user \
             that runs the inventory read access, e.g. chown it to that user and chmod 600)"
        );
        let other = Error::ConfigFile {
            path: PathBuf::from("x"),
            source: io::Error::other("odd"),
        };
        assert_eq!(other.to_string(), "cannot read config file x: odd");
    }
}
