//! The served engine's extensions, from the client side: when the cluster is a `kubespec serve`
//! engine (it answers `GET /kubespec/v1/info`), behaviour steps and virtual time go through its
//! `/kubespec/v1/` endpoints (`kubespec_server::control`). See [`Served`].

use crate::{Error, Result};
use kube::Client;
use serde_json::Value;
use std::time::Duration;

/// A served engine's clock and extensions, as one scenario sees them.
pub struct Served {
    client: Client,
    /// Virtual time at the scenario's start (ms since the engine's epoch).
    pub start: u64,
    /// Virtual now, as last reported: only this scenario moves the clock.
    pub now: u64,
    /// (resourceVersion, virtual time since the start) at each instant the engine reported.
    pub instants: Vec<(u64, Duration)>,
}

/// What `GET /kubespec/v1/info` reports.
pub struct Info {
    pub millis: u64,
    pub time_scale: f64,
    /// The engine's latest resourceVersion: it moves with every write.
    pub resource_version: u64,
}

/// Asks the cluster whether it is a served engine: `None` when `/kubespec/v1/info` is not
/// answered (a real cluster says 404).
pub async fn probe(client: &Client) -> Option<Info> {
    reach(client).await.ok().flatten()
}

/// [`probe`], telling an API server that answers (404, 403: not a served engine) from one
/// that cannot be reached: the error is the client's (connection refused, TLS, DNS).
///
/// # Errors
///
/// The request got no HTTP answer.
pub async fn reach(client: &Client) -> std::result::Result<Option<Info>, String> {
    let req = http::Request::get("/kubespec/v1/info")
        .body(Vec::new())
        .map_err(|e| e.to_string())?;
    match client.request::<Value>(req).await {
        Ok(v) => Ok(v["millis"].as_u64().map(|millis| Info {
            millis,
            time_scale: v["timeScale"].as_f64().unwrap_or(0.0),
            resource_version: v["resourceVersion"]
                .as_str()
                .and_then(|r| r.parse().ok())
                .unwrap_or(0),
        })),
        // An answer: an API server that is not a served engine.
        Err(kube::Error::Api(_)) | Err(kube::Error::SerdeError(_)) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

async fn get(client: &Client, path: &str) -> Result<Value> {
    let req = http::Request::get(path)
        .body(Vec::new())
        .map_err(|e| Error::Backend(format!("GET {path}: {e}")))?;
    client
        .request::<Value>(req)
        .await
        .map_err(|e| api_error("GET", path, e))
}

fn api_error(method: &str, path: &str, e: kube::Error) -> Error {
    match e {
        kube::Error::Api(s) if s.code == 404 => Error::NotFound {
            kind: "object".into(),
            name: s.message,
        },
        kube::Error::Api(s) => Error::Api(s.message),
        e => Error::Backend(format!("{method} {path}: {e}")),
    }
}

/// `a=b&c=d`, escaped.
pub(crate) fn query(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        for b in v.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

impl Served {
    pub fn new(client: Client, info: &Info) -> Served {
        Served {
            client,
            start: info.millis,
            now: info.millis,
            instants: Vec::new(),
        }
    }

    pub fn elapsed(&self) -> Duration {
        Duration::from_millis(self.now - self.start)
    }

    async fn get(&self, path: &str, q: &[(&str, &str)]) -> Result<Value> {
        get(&self.client, &format!("{path}?{}", query(q))).await
    }

    async fn post(&self, path: &str, q: &[(&str, &str)], body: Vec<u8>) -> Result<Value> {
        let uri = format!("{path}?{}", query(q));
        let req = http::Request::post(&uri)
            .header("content-type", "application/json")
            .body(body)
            .map_err(|e| Error::Backend(format!("POST {uri}: {e}")))?;
        self.client
            .request::<Value>(req)
            .await
            .map_err(|e| api_error("POST", &uri, e))
    }

    /// Moves virtual time to the next event not past `deadline` (time since the start), or
    /// through every instant up to it (`next_only` false). Returns whether an event was reached
    /// before the deadline.
    pub async fn run(&mut self, deadline: Duration, next_only: bool) -> Result<bool> {
        self.run_to(self.start + deadline.as_millis() as u64, next_only)
            .await
    }

    /// Starts the scenario at the next whole multiple of `period` of virtual time, as the
    /// in-memory engine starts at 0: API timestamps are whole seconds, and periodic work
    /// (metrics scrapes every 15 s, ...) is aligned on the clock, so a scenario's timing must
    /// not depend on where the shared clock happens to be.
    pub async fn align(&mut self, period: Duration) -> Result<()> {
        let p = period.as_millis() as u64;
        let target = self.now.div_ceil(p) * p;
        if target > self.now {
            self.run_to(target, false).await?;
        }
        self.start = self.now;
        self.instants.clear();
        Ok(())
    }

    async fn run_to(&mut self, until: u64, next_only: bool) -> Result<bool> {
        let until = until.to_string();
        let stop = if next_only { "next" } else { "until" };
        let v = self
            .post(
                "/kubespec/v1/run",
                &[("until", &until), ("stop", stop)],
                Vec::new(),
            )
            .await?;
        let read = |i: &Value| -> Option<(u64, u64)> {
            Some((
                i["resourceVersion"].as_str()?.parse().ok()?,
                i["millis"].as_u64()?,
            ))
        };
        let bad = || Error::Backend(format!("the served engine's run answer does not read: {v}"));
        // Changes made since the last instant (our own writes) happened at `from`.
        let (rv, at) = read(&v["from"]).ok_or_else(bad)?;
        self.instants
            .push((rv, Duration::from_millis(at.saturating_sub(self.start))));
        for i in v["instants"].as_array().ok_or_else(bad)? {
            let (rv, at) = read(i).ok_or_else(bad)?;
            self.instants
                .push((rv, Duration::from_millis(at.saturating_sub(self.start))));
        }
        self.now = v["millis"].as_u64().ok_or_else(bad)?;
        Ok(v["moved"].as_bool().unwrap_or(false))
    }

    /// Every image behaves as by default again, and no load or metric value is set: both are
    /// global to an engine, and a scenario must not inherit the last one's.
    pub async fn reset(&self) -> Result<()> {
        for path in ["/kubespec/v1/images", "/kubespec/v1/metrics"] {
            let req = http::Request::delete(path)
                .body(Vec::new())
                .map_err(|e| Error::Backend(format!("DELETE {path}: {e}")))?;
            self.client
                .request::<Value>(req)
                .await
                .map_err(|e| api_error("DELETE", path, e))?;
        }
        Ok(())
    }

    pub async fn set_image(
        &self,
        image: &str,
        change: &kubespec_engine::images::Change,
    ) -> Result<()> {
        let body = serde_json::to_vec(change).map_err(|e| Error::Backend(e.to_string()))?;
        self.post("/kubespec/v1/images", &[("image", image)], body)
            .await
            .map(drop)
    }

    pub async fn set_metric(
        &self,
        ns: &str,
        change: &kubespec_engine::metrics::Change,
    ) -> Result<()> {
        let body = serde_json::to_vec(change).map_err(|e| Error::Backend(e.to_string()))?;
        self.post("/kubespec/v1/metrics", &[("namespace", ns)], body)
            .await
            .map(drop)
    }

    pub async fn set_probe(
        &self,
        ns: &str,
        pod: &str,
        endpoint: &str,
        passing: bool,
    ) -> Result<()> {
        let passing = if passing { "true" } else { "false" };
        self.post(
            "/kubespec/v1/probe",
            &[
                ("namespace", ns),
                ("pod", pod),
                ("endpoint", endpoint),
                ("passing", passing),
            ],
            Vec::new(),
        )
        .await
        .map_err(|e| match e {
            Error::NotFound { .. } => Error::NotFound {
                kind: "pods".into(),
                name: pod.into(),
            },
            e => e,
        })
        .map(drop)
    }

    /// `{"env", "command", "files"}` of a container.
    pub async fn container(&self, ns: &str, pod: &str, container: &str) -> Result<Value> {
        self.get(
            "/kubespec/v1/container",
            &[("namespace", ns), ("pod", pod), ("container", container)],
        )
        .await
        .map_err(|e| match e {
            Error::NotFound { .. } => Error::NotFound {
                kind: "pods".into(),
                name: pod.into(),
            },
            e => e,
        })
    }

    pub async fn dns(&self, name: &str) -> Result<Vec<(String, String)>> {
        let v = self.get("/kubespec/v1/dns", &[("name", name)]).await?;
        serde_json::from_value(v["answers"].clone())
            .map_err(|e| Error::Backend(format!("the DNS answer does not read: {e}")))
    }

    pub async fn srv(&self, name: &str) -> Result<Vec<String>> {
        let v = self.get("/kubespec/v1/srv", &[("name", name)]).await?;
        serde_json::from_value(v["targets"].clone())
            .map_err(|e| Error::Backend(format!("the SRV answer does not read: {e}")))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_strings_are_escaped() {
        assert_eq!(
            super::query(&[("image", "registry.k8s.io/pause:3.9"), ("a", "b c")]),
            "image=registry.k8s.io%2Fpause%3A3.9&a=b%20c"
        );
    }
}
