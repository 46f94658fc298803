//! Step 4 of the chain: the temporary keys of the instance's ECS RAM role, from the metadata
//! service. Off ECS its address is a black hole, so the exchange has a short budget of its own.

use std::time::Duration;

use serde::Deserialize;

use crate::api::http;
use crate::api::secret::{Credentials, Secret};
use crate::api::sign;
use crate::error::{Error, Result};
use crate::info;

/// An ECS RAM role whose keys the metadata service hands out.
#[derive(Debug, Clone)]
pub struct EcsRole {
    pub name: String,
    /// Base URL of the metadata service, without a trailing `/`.
    pub metadata_endpoint: String,
    /// Where the role name came from, for `-v` and errors.
    pub origin: String,
}

/// The metadata service answers in milliseconds or not at all (off ECS, 100.100.100.200 is a
/// black hole), so its whole exchange gets a short budget of its own.
pub const METADATA_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
pub const METADATA_TIMEOUT: Duration = Duration::from_secs(2);

/// The metadata service's credential document. No `Debug`: it holds secrets.
#[derive(Deserialize)]
struct MetadataCredentials {
    #[serde(rename = "Code", default)]
    code: String,
    #[serde(rename = "AccessKeyId", default)]
    access_key_id: String,
    #[serde(rename = "AccessKeySecret", default)]
    access_key_secret: String,
    #[serde(rename = "SecurityToken", default)]
    security_token: String,
}

impl EcsRole {
    pub(super) fn describe(&self) -> String {
        format!(
            "ECS RAM role '{}' ({}) from the metadata service {}",
            self.name, self.origin, self.metadata_endpoint
        )
    }

    fn scope(&self) -> String {
        format!(
            "credentials: ECS RAM role '{}' from the metadata service {}",
            self.name, self.metadata_endpoint
        )
    }

    /// The role's temporary keys, within [`METADATA_TIMEOUT`] all told.
    pub(super) async fn fetch(&self) -> Result<Credentials> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(METADATA_CONNECT_TIMEOUT)
            .timeout(METADATA_TIMEOUT)
            .user_agent(http::USER_AGENT)
            .build()
            .map_err(|source| Error::HttpClient {
                what: "HTTP",
                source,
            })?;
        let started = std::time::Instant::now();
        let result = match tokio::time::timeout(METADATA_TIMEOUT, self.fetch_with(&http)).await {
            Ok(r) => r,
            Err(_) => Err(Error::Transport {
                scope: self.scope(),
                message: format!(
                    "no answer within {} s (is this an ECS instance? check ALICLOUD_METADATA_ENDPOINT)",
                    METADATA_TIMEOUT.as_secs()
                ),
                source: None,
            }),
        };
        info!(
            2,
            "metadata: role '{}' {} in {} ms",
            self.name,
            if result.is_ok() { "ok" } else { "failed" },
            started.elapsed().as_millis()
        );
        result
    }

    async fn fetch_with(&self, http: &reqwest::Client) -> Result<Credentials> {
        let unreachable = |e: reqwest::Error| {
            Error::Transport {
            scope: self.scope(),
            message: format!(
                "{} (is this an ECS instance with the role attached? check ALICLOUD_METADATA_ENDPOINT)",
                http::describe(&e)
            ),
            source: Some(e.into()),
        }
        };
        let base = format!(
            "{}/latest/meta-data/ram/security-credentials/",
            self.metadata_endpoint
        );
        // Hardened mode (IMDSv2-style): ask for a session token; an older service without the
        // token path still answers plain GETs.
        let token = match http
            .put(format!("{}/latest/api/token", self.metadata_endpoint))
            .header("X-aliyun-ecs-metadata-token-ttl-seconds", "60")
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => r.text().await.ok().map(|t| t.trim().to_string()),
            Ok(_) => None,
            Err(e) => return Err(unreachable(e)),
        };
        let get = |url: String| {
            let req = http.get(url);
            match &token {
                Some(t) => req.header("X-aliyun-ecs-metadata-token", t.as_str()),
                None => req,
            }
        };
        let response = get(format!("{base}{}", sign::encode(&self.name)))
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(unreachable)?;
        if status == 404 {
            let attached = match get(base.clone()).send().await {
                Ok(r) if r.status().is_success() => r
                    .text()
                    .await
                    .unwrap_or_default()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(", "),
                _ => String::new(),
            };
            return Err(Error::Credentials(format!(
                "ECS RAM role '{}' ({}) is not attached to this instance: the metadata service {} answered 404 (roles attached: {}; check the role name)",
                self.name,
                self.origin,
                self.metadata_endpoint,
                if attached.is_empty() { "none" } else { &attached }
            )));
        }
        if status != 200 {
            return Err(Error::Transport {
                scope: self.scope(),
                message: format!("the metadata service answered HTTP {status}"),
                source: None,
            });
        }
        let doc: MetadataCredentials = serde_json::from_slice(&body).map_err(|_| Error::Transport {
            scope: self.scope(),
            message: format!(
                "the metadata service answered a document that is not the credentials JSON ({} bytes)",
                body.len()
            ),
            source: None,
        })?;
        if doc.code != "Success"
            || doc.access_key_id.is_empty()
            || doc.access_key_secret.is_empty()
            || doc.security_token.is_empty()
        {
            return Err(Error::Transport {
                scope: self.scope(),
                message: format!(
                    "the metadata service has no usable credentials for the role (Code '{}')",
                    doc.code
                ),
                source: None,
            });
        }
        Ok(Credentials {
            access_key_id: doc.access_key_id,
            secret: Secret::new(doc.access_key_secret),
            security_token: Some(Secret::new(doc.security_token)),
            source: self.describe(),
        })
    }
}
