//! kubespec's engine behind a Kubernetes-compatible HTTP API: discovery, every verb on the
//! served resources, watches, the `status` and `scale` subresources, bearer-token auth, and an
//! endpoint to move virtual time. See [`router`] for the entry point and [`AppState`] for the
//! engine it serves.
//!
//! The same [`router`] serves `kubespec serve` over TCP and, as a tower `Service`, a kube-rs
//! `Client` in process (`kube::Client::new(router(state), "default")`), with no socket.
//!
//! # Endpoints beyond Kubernetes'
//!
//! - `POST /kubespec/v1/advance?by=5m`: moves virtual time forward (`ms`, `s`, `m`, `h`, and
//!   sums such as `1m30s`), running every controller and kubelet transition on the way. Answers
//!   `{"now": <RFC 3339>, "millis": <virtual ms since the epoch>}`.
//! - `GET /kubespec/v1/clock`: the same document, without moving time.
//! - The rest of `/kubespec/v1/`: image behaviour, application endpoints, metrics, container
//!   processes, DNS, and virtual time instant by instant, for the harness's cluster backend.
//!   See [`control`].

pub mod control;
pub mod discovery;
pub mod fieldvalidation;
pub mod handlers;
pub mod openapi;
pub mod patch;
pub mod state;
pub mod table;
pub mod tls;
pub mod watch;

pub use state::{AppState, Config};

/// The HTTP API over `state`: every path is answered by [`handlers::handle`].
pub fn router(state: AppState) -> axum::Router {
    axum::Router::new()
        .fallback(handlers::handle)
        .with_state(state)
}

/// Parses a duration such as `90s`, `5m`, `1h30m` or `250ms`.
///
/// # Errors
///
/// A message naming the text when it is not such a duration.
pub fn parse_duration(text: &str) -> Result<kubespec_engine::Millis, String> {
    let bad = || format!("invalid duration {text:?}: use e.g. 250ms, 30s, 5m, 1h30m");
    let mut total: u64 = 0;
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(bad());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        total = n
            .checked_mul(factor)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
    }
    Ok(kubespec_engine::Millis(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5m"), Ok(kubespec_engine::Millis(300_000)));
        assert_eq!(parse_duration("1m30s"), Ok(kubespec_engine::Millis(90_000)));
        assert_eq!(parse_duration("250ms"), Ok(kubespec_engine::Millis(250)));
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("").is_err());
    }
}
