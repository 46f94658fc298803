//! The keys a request is signed with, and the secrets in them. A leaf of its own: the credential
//! chain produces keys and the client consumes them, and neither needs the other. The secret and
//! the token live in [`Secret`], whose `Debug` never shows the value, so no log line or error can
//! carry them by accident; [`Credentials::redact`] scrubs them from text that came from elsewhere.

use crate::api::sign;

/// A value that must never be printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    /// The only way to the value: for signing and for the STS/metadata calls.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret: Secret,
    pub security_token: Option<Secret>,
    /// Where they came from, for `-v` and for error hints ("environment", "ini", ...).
    pub source: String,
}

impl Credentials {
    /// A service message made safe to show. Messages are shown to the operator, but
    /// `SignatureDoesNotMatch` quotes the server's string to sign, which holds the security
    /// token: that part is cut, and any secret that still appears (plain or percent-encoded,
    /// once or twice) is blanked out.
    pub fn redact(&self, message: &str) -> String {
        let mut message = match message.find("string to sign") {
            Some(i) => message[..i]
                .trim_end()
                .trim_end_matches("server")
                .trim_end()
                .to_string(),
            None => message.to_string(),
        };
        let secrets = [Some(&self.secret), self.security_token.as_ref()];
        for s in secrets
            .into_iter()
            .flatten()
            .map(|s| s.expose())
            .filter(|s| s.len() >= 4)
        {
            let once = sign::encode(s);
            for form in [sign::encode(&once), once, s.to_string()] {
                message = message.replace(&form, "***");
            }
        }
        message
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_messages_lose_the_string_to_sign_and_every_secret() {
        let creds = Credentials {
            access_key_id: "id".into(),
            secret: Secret::new("s3cr3t/x"),
            security_token: Some(Secret::new("tok+en/1")),
            source: "test".into(),
        };
        assert_eq!(
            creds.redact(
                "Specified signature is not matched with our calculation. server string to sign is:POST&%2F&SecurityToken%3Dtok%252Ben%252F1"
            ),
            "Specified signature is not matched with our calculation."
        );
        assert_eq!(
            creds.redact("a s3cr3t/x b tok%2Ben%2F1 c tok+en/1"),
            "a *** b *** c ***"
        );
        assert_eq!(format!("{:?}", creds.secret), "Secret(***)");
    }
}
