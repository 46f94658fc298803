//! An error answer of the service, and the common ones.

#[derive(Debug)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code: code.to_owned(),
            message: message.into(),
        }
    }

    pub fn missing_parameter(name: &str) -> ApiError {
        ApiError::new(
            400,
            "MissingParameter",
            format!("The input parameter \"{name}\" that is mandatory for processing this request is not supplied."),
        )
    }

    pub fn invalid_parameter(name: &str, why: &str) -> ApiError {
        ApiError::new(
            400,
            "InvalidParameter",
            format!("The specified parameter \"{name}\" is not valid: {why}."),
        )
    }

    pub fn throttling() -> ApiError {
        ApiError::new(
            400,
            "Throttling.User",
            "Request was denied due to user flow control.",
        )
    }

    pub fn unavailable() -> ApiError {
        ApiError::new(
            503,
            "ServiceUnavailable",
            "The request has failed due to a temporary failure of the server.",
        )
    }

    pub fn internal() -> ApiError {
        ApiError::new(
            500,
            "InternalError",
            "The request processing has failed due to some unknown error, exception or failure.",
        )
    }
}
