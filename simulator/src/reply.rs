//! What a handler answers, and the HTTP responses made of it.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::ApiError;

/// The status and the JSON text of the body.
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub throttled: bool,
}

impl Reply {
    pub fn ok(body: String) -> Reply {
        Reply {
            status: 200,
            body,
            throttled: false,
        }
    }

    pub fn error(e: &ApiError, request_id: &str, host: &str) -> Reply {
        let body = json!({
            "RequestId": request_id,
            "HostId": host,
            "Code": e.code,
            "Message": e.message,
            "Recommend": format!("https://api.aliyun.com/troubleshoot?q={}&product={}", e.code,
                if host.starts_with("sts") { "Sts" } else { "Ecs" }),
        });
        Reply {
            status: e.status,
            body: body.to_string(),
            throttled: e.code.starts_with("Throttling"),
        }
    }
}

pub fn request_id() -> String {
    uuid::Uuid::new_v4().to_string().to_uppercase()
}

pub fn json_response(status: u16, body: String, request_id: Option<&str>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    if let Some(id) = request_id.and_then(|id| header::HeaderValue::from_str(id).ok()) {
        resp.headers_mut().insert("x-acs-request-id", id);
    }
    resp
}

pub fn text_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain")], body).into_response()
}
