//! HTTP plumbing shared by the API client and the metadata service: how this program introduces
//! itself, and how a failed request is described without its URL.

/// The `User-Agent` of every request.
pub const USER_AGENT: &str = concat!("alicloud_inventory/", env!("CARGO_PKG_VERSION"));

/// What went wrong with a request, in words. reqwest's own messages name the URL, and ours must
/// not carry a URL with parameters, so the words come from the error's kind and its innermost
/// cause.
pub fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the connection broke while reading the answer"
    } else {
        "request failed"
    };
    let mut cause = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if cause.is_empty() {
        kind.to_string()
    } else {
        format!("{kind} ({cause})")
    }
}
