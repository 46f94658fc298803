//! The HTTP side: one port serves the RPC API (ECS and STS at `/`), the metadata service and the
//! `/_sim/*` test hooks.

use std::collections::HashMap;
use std::future::IntoFuture;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware;
use axum::response::Response;
use axum::routing::{any, get, post, put};
use axum::Router;

use crate::config::Config;
use crate::error::ApiError;
use crate::fleet::Fleet;
use crate::params::Params;
use crate::reply::{json_response, request_id, text_response, Reply};
use crate::sim::Sim;
use crate::sts;

/// Lifetime of the metadata service's temporary credentials.
const METADATA_TTL_SECS: i64 = 6 * 3600;

type AppState = Arc<Sim>;

async fn api_handler(
    State(sim): State<AppState>,
    method: Method,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    if method != Method::GET && method != Method::POST {
        let rid = request_id();
        let e = ApiError::new(
            405,
            "UnsupportedHTTPMethod",
            "This http method is not supported: use GET or POST.",
        );
        let r = Reply::error(&e, &rid, "ecs.aliyuncs.com");
        return json_response(r.status, r.body, Some(&rid));
    }
    let mut params = Params(Vec::new());
    params.parse_into(query.as_deref().unwrap_or_default());
    let query_keys = params.0.iter().map(|(k, _)| k.clone()).collect();
    if method == Method::POST {
        params.parse_into(&String::from_utf8_lossy(&body));
    }
    let (reply, rid) = sim.api(method.as_str(), query_keys, params).await;
    json_response(reply.status, reply.body, Some(&rid))
}

async fn metadata_roles(State(sim): State<AppState>) -> Response {
    sim.stats.metadata();
    match &sim.ecs_role {
        Some(role) => text_response(StatusCode::OK, role.clone()),
        None => text_response(StatusCode::NOT_FOUND, "404 - Not Found\n".into()),
    }
}

async fn metadata_role(State(sim): State<AppState>, Path(role): Path<String>) -> Response {
    sim.stats.metadata();
    if sim.ecs_role.as_deref() != Some(role.as_str()) {
        return text_response(StatusCode::NOT_FOUND, "404 - Not Found\n".into());
    }
    let now = sim.clock.now();
    let account = &sim.account_id;
    let cred = sim.sts.mint(
        now + METADATA_TTL_SECS,
        account,
        &format!("acs:ram::{account}:assumed-role/{role}/ecs"),
    );
    json_response(200, sts::metadata_json(&cred, now).to_string(), None)
}

/// IMDSv2-style session token: handed out, accepted, never required.
async fn metadata_token() -> Response {
    let token: String = std::iter::repeat_with(fastrand::alphanumeric)
        .take(40)
        .collect();
    text_response(StatusCode::OK, token)
}

async fn sim_mint(State(sim): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let mut p = Params(Vec::new());
    p.parse_into(query.as_deref().unwrap_or_default());
    let ttl = match p.get("ttl").map(str::parse::<i64>) {
        None => 3600,
        Some(Ok(t)) => t,
        Some(Err(_)) => {
            let rid = request_id();
            let r = Reply::error(
                &ApiError::invalid_parameter("ttl", "it must be an integer number of seconds"),
                &rid,
                "simulator",
            );
            return json_response(r.status, r.body, Some(&rid));
        }
    };
    let now = sim.clock.now();
    let account = &sim.account_id;
    let cred = sim.sts.mint(
        now.saturating_add(ttl),
        account,
        &format!("acs:ram::{account}:assumed-role/simulator/minted"),
    );
    json_response(200, sts::metadata_json(&cred, now).to_string(), None)
}

async fn sim_stats(State(sim): State<AppState>) -> Response {
    json_response(200, sim.stats.stats_json().to_string(), None)
}

async fn sim_requests(State(sim): State<AppState>) -> Response {
    json_response(200, sim.stats.requests_json().to_string(), None)
}

async fn sim_reset(State(sim): State<AppState>) -> Response {
    sim.reset();
    json_response(200, r#"{"reset":true}"#.into(), None)
}

async fn not_found() -> Response {
    let rid = request_id();
    let e = ApiError::new(
        404,
        "NotFound",
        "No such path on this endpoint; the API is at /.",
    );
    let r = Reply::error(&e, &rid, "ecs.aliyuncs.com");
    json_response(r.status, r.body, Some(&rid))
}

pub fn router(sim: Arc<Sim>) -> Router {
    const CREDS: &str = "/latest/meta-data/ram/security-credentials";
    Router::new()
        .route("/", any(api_handler))
        .route(CREDS, get(metadata_roles))
        .route(&format!("{CREDS}/"), get(metadata_roles))
        .route(&format!("{CREDS}/{{role}}"), get(metadata_role))
        .route("/latest/api/token", put(metadata_token))
        .route("/_sim/mint-sts", post(sim_mint))
        .route("/_sim/stats", get(sim_stats))
        .route("/_sim/requests", get(sim_requests))
        .route("/_sim/reset", post(sim_reset))
        .fallback(not_found)
        .layer(middleware::map_response_with_state(sim.clone(), dated))
        .with_state(sim)
}

/// Every answer carries the service's `Date` (the simulator clock, skew included): clients
/// read the service's minute from it (hyper's own would be the unskewed wall clock).
async fn dated(State(sim): State<AppState>, mut resp: Response) -> Response {
    if let Ok(date) = header::HeaderValue::from_str(&sim.clock.http_date()) {
        resp.headers_mut().insert(header::DATE, date);
    }
    resp
}

/// Registers for SIGTERM and SIGINT at once (not when first polled), so a signal sent as soon as
/// the URL is announced stops the server cleanly rather than killing it.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>, String> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let register =
            |kind: SignalKind| signal(kind).map_err(|e| format!("cannot handle signals: {e}"));
        let mut term = register(SignalKind::terminate())?;
        let mut int = register(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {},
                _ = int.recv() => {},
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

/// Binds, announces the URL on stdout (and in the port file), and serves until a signal.
pub async fn run(cfg: Config, fleet: Fleet, fleets: HashMap<String, Fleet>) -> Result<(), String> {
    use std::io::Write;
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", cfg.listen))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    let url = format!("http://{addr}");
    let shutdown = shutdown_signal()?;
    if let Some(path) = &cfg.port_file {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, format!("{url}\n"))
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {url}")
            .and_then(|()| out.flush())
            .map_err(|e| format!("cannot write to stdout: {e}"))?;
    }
    let app = router(Arc::new(Sim::new(cfg, fleet, fleets)));
    tokio::select! {
        r = axum::serve(listener, app).into_future() => r.map_err(|e| format!("server error: {e}")),
        () = shutdown => Ok(()),
    }
}

#[cfg(test)]
mod tests;
