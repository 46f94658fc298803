//! The signed API client: requests signed as the RPC API wants them ([`sign`]), sent over HTTPS
//! ([`http`]) with retries ([`client`]) under an adaptive limit ([`limiter`]), with the
//! credentials it signs with, which never print ([`secret`]). What the service's error codes
//! mean is the leaf `service_codes`, which errors use too.

pub mod client;
pub mod http;
pub mod limiter;
pub mod secret;
pub mod sign;
pub mod throttle;
