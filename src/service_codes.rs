//! What the service's error codes mean. ECS and STS share the code families, and every decision
//! that depends on a code (retry or not, exit status, which hint to print) asks here, so a code
//! is learnt in one place.

/// The meaning of an error code, as far as this program acts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// `Throttling*`: too many requests; back off and retry.
    Throttled,
    /// `ServiceUnavailable`, `InternalError`: the service failed; retry.
    Unavailable,
    /// `InvalidAccessKeyId*`: no such access key.
    BadKeyId,
    /// `SignatureDoesNotMatch`: the secret does not belong to the key id.
    BadSignature,
    /// `InvalidSecurityToken*`: the token is wrong or expired.
    BadToken,
    /// `InvalidTimeStamp*`: this machine's clock is off.
    Clock,
    /// `Forbidden*`: the account or a RAM policy refuses the action.
    Forbidden,
    /// `NoPermission`: the caller may not do this (for STS: may not assume the role).
    NoPermission,
    /// `InvalidRegionId*`.
    Region,
    /// `EntityNotExist*`: what the request names does not exist (for STS: the role).
    NoSuchEntity,
    /// `InvalidParameter*`: a value the request carries is refused.
    InvalidParameter,
    /// Anything else: shown as the service said it, with no advice.
    Other,
}

impl Class {
    /// The keys themselves are wrong: no retry helps, the operator must fix them.
    pub fn is_credentials(self) -> bool {
        matches!(
            self,
            Class::BadKeyId | Class::BadSignature | Class::BadToken
        )
    }

    /// The keys are fine but may not do what was asked.
    pub fn is_permission(self) -> bool {
        matches!(self, Class::Forbidden | Class::NoPermission)
    }
}

/// Classifies a service error code.
pub fn classify(code: &str) -> Class {
    match code {
        c if c.starts_with("Throttling") => Class::Throttled,
        "ServiceUnavailable" | "InternalError" => Class::Unavailable,
        c if c.starts_with("InvalidAccessKeyId") => Class::BadKeyId,
        "SignatureDoesNotMatch" => Class::BadSignature,
        c if c.starts_with("InvalidSecurityToken") => Class::BadToken,
        c if c.starts_with("InvalidTimeStamp") => Class::Clock,
        c if c.starts_with("Forbidden") => Class::Forbidden,
        "NoPermission" => Class::NoPermission,
        c if c.starts_with("InvalidRegionId") => Class::Region,
        c if c.starts_with("EntityNotExist") => Class::NoSuchEntity,
        c if c.starts_with("InvalidParameter") => Class::InvalidParameter,
        _ => Class::Other,
    }
}

/// Whether an error answer (HTTP `status`, service `code`) may go away when the call is retried:
/// throttling, an unavailable service, or any 5xx.
pub fn is_retryable(status: u16, code: &str) -> bool {
    matches!(classify(code), Class::Throttled | Class::Unavailable) || status >= 500
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_families_and_what_they_allow() {
        assert_eq!(classify("Throttling.User"), Class::Throttled);
        assert_eq!(classify("InvalidAccessKeyId.NotFound"), Class::BadKeyId);
        assert!(classify("SignatureDoesNotMatch").is_credentials());
        assert!(classify("InvalidSecurityToken.Expired").is_credentials());
        assert!(!classify("InvalidTimeStamp.Expired").is_credentials());
        assert!(
            classify("Forbidden.RAM").is_permission() && classify("NoPermission").is_permission()
        );
        assert_eq!(classify("InvalidRegionId.NotFound"), Class::Region);
        assert_eq!(classify("EntityNotExist.Role"), Class::NoSuchEntity);
        assert_eq!(classify("Whatever"), Class::Other);
        assert!(is_retryable(400, "Throttling"));
        assert!(is_retryable(503, "ServiceUnavailable") && is_retryable(200, "InternalError"));
        assert!(is_retryable(502, "HTTP502") && is_retryable(500, "InvalidParameter"));
        assert!(!is_retryable(404, "InvalidAccessKeyId.NotFound"));
        assert!(!is_retryable(403, "Forbidden.RAM"));
    }
}
