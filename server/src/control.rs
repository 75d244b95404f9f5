//! The served engine's own API, under `/kubespec/v1/`: what a real cluster has no API for
//! (image behaviour, application endpoints, metrics, what a container's process saw, DNS) and
//! fine-grained control of virtual time. See [`handle`] for the entry point.
//!
//! This is what the harness's cluster backend uses when the cluster it talks to is a
//! `kubespec serve` engine, so that every behaviour step runs there as on the in-memory
//! backend. Every endpoint calls the engine function the in-memory backend calls; none has
//! logic of its own.
//!
//! | Method and path | Query | Body | Answer |
//! |---|---|---|---|
//! | `GET info` | | | `{"millis", "resourceVersion", "timeScale"}` |
//! | `POST run` | `until=<virtual ms>`, `stop=next\|until` | | `{"from", "moved", "millis", "resourceVersion", "instants"}`: `from` and each instant are `{"millis", "resourceVersion"}` |
//! | `POST images` | `image=<reference>` | an `images::Change` | `{}` |
//! | `DELETE images` | | | `{}`: every image behaves as by default again (a new scenario) |
//! | `POST metrics` | `namespace=` | a `metrics::Change` | `{}` |
//! | `DELETE metrics` | | | `{}`: forgets every load and metric value set so far (a new scenario) |
//! | `POST probe` | `namespace=`, `pod=`, `endpoint=readiness\|liveness`, `passing=true\|false` | | `{"containers": n}` |
//! | `GET container` | `namespace=`, `pod=`, `container=` | | `{"env", "command", "files"}` (each `null` before the container is created) |
//! | `GET dns` | `name=` | | `{"answers": [[pod, ip]]}` |
//! | `GET srv` | `name=` | | `{"targets": [fqdn]}` |
//!
//! `run` moves virtual time instant by instant, as `Cluster::run_until` would in one go, and
//! reports the resourceVersion reached at each instant, so a client watching the API can tell
//! at which virtual instant each change it sees happened. With `stop=next` it stops at the
//! engine's next event not past `until` (`moved: true`), or at `until` when there is none
//! (`moved: false`). It is refused when the server's clock follows the wall clock
//! (`--time-scale` above 0): time would move under the client's feet.

use crate::state::AppState;
use axum::http::Method;
use kubespec_engine::api::rest::Status;
use kubespec_engine::prober::ProbeKind;
use kubespec_engine::{Millis, ObjectKey};
use serde_json::{Value, json};
use std::collections::HashMap;

/// Answers `/kubespec/v1/<rest…>` for the paths in the module table; `None` for other paths
/// (the caller answers those, e.g. `advance` and `clock`).
///
/// # Errors
///
/// The `Status` to answer: a missing or bad query parameter, a body that does not decode, an
/// unknown pod, a refused metric, or `run` on a clock that follows the wall clock.
pub fn handle(
    state: &AppState,
    method: &Method,
    rest: &[&str],
    query: &HashMap<String, String>,
    body: &[u8],
) -> Option<Result<Value, Status>> {
    let q = |k: &str| {
        query
            .get(k)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| Status::bad_request(format!("missing query parameter {k}=")))
    };
    let expect = |m: Method| -> Result<(), Status> {
        if *method == m {
            Ok(())
        } else {
            Err(Status::method_not_allowed(format!(
                "/kubespec/v1/{} answers {m} only",
                rest.join("/")
            )))
        }
    };
    let out = match rest {
        ["info"] => expect(Method::GET).map(|()| info(state)),
        ["run"] => expect(Method::POST).and_then(|()| run(state, q("until")?, query.get("stop"))),
        ["images"] if *method == Method::DELETE => {
            state.write(|c| c.images = Default::default());
            Ok(json!({}))
        }
        ["images"] => expect(Method::POST).and_then(|()| {
            let image = q("image")?.to_string();
            let change: kubespec_engine::images::Change = decode(body)?;
            state.write(|c| c.images.update(&image, |b| b.apply(change)));
            Ok(json!({}))
        }),
        ["metrics"] if *method == Method::DELETE => {
            state.write(|c| {
                let m = &mut c.metrics;
                m.loads.clear();
                m.per_pod.clear();
                m.pod_metrics.clear();
                m.object_metrics.clear();
                m.external.clear();
            });
            Ok(json!({}))
        }
        ["metrics"] => expect(Method::POST).and_then(|()| {
            let ns = q("namespace")?.to_string();
            let change: kubespec_engine::metrics::Change = decode(body)?;
            state
                .write(|c| c.set_metric(&ns, change))
                .map_err(Status::bad_request)?;
            Ok(json!({}))
        }),
        ["probe"] => expect(Method::POST).and_then(|()| {
            let key = ObjectKey::new(q("namespace")?, q("pod")?);
            let kind = match q("endpoint")? {
                "readiness" => ProbeKind::Readiness,
                "liveness" => ProbeKind::Liveness,
                other => {
                    return Err(Status::bad_request(format!(
                        "endpoint {other:?}: readiness or liveness"
                    )));
                }
            };
            let passing = parse_bool(q("passing")?)?;
            let n = state
                .write(|c| c.set_probe_endpoint(&key, kind, passing))
                .map_err(|e| Status::new(404, "NotFound", e.to_string()))?;
            Ok(json!({ "containers": n }))
        }),
        ["container"] => expect(Method::GET).and_then(|()| {
            let key = ObjectKey::new(q("namespace")?, q("pod")?);
            let container = q("container")?;
            state.read(|c| {
                if !c.store.pods.contains_key(&key) {
                    return Err(Status::new(
                        404,
                        "NotFound",
                        format!("pods \"{}\" not found", key.name),
                    ));
                }
                Ok(json!({
                    "env": c.container_env(&key, container),
                    "command": c.container_command(&key, container),
                    "files": c.container_files(&key, container),
                }))
            })
        }),
        ["dns"] => expect(Method::GET).and_then(|()| {
            let name = q("name")?;
            Ok(json!({ "answers": state.read(|c| kubespec_engine::dns::resolve(c, name)) }))
        }),
        ["srv"] => expect(Method::GET).and_then(|()| {
            let name = q("name")?;
            Ok(json!({ "targets": state.read(|c| kubespec_engine::dns::srv(c, name)) }))
        }),
        _ => return None,
    };
    Some(out)
}

fn parse_bool(v: &str) -> Result<bool, Status> {
    match v {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        other => Err(Status::bad_request(format!(
            "{other:?} is not a boolean: true or false"
        ))),
    }
}

fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Status> {
    serde_json::from_slice(body)
        .map_err(|e| Status::bad_request(format!("the JSON body does not decode: {e}")))
}

fn info(state: &AppState) -> Value {
    let (now, rv) = state.read(|c| (c.now(), c.resource_version()));
    json!({
        "millis": now.0,
        "resourceVersion": rv.to_string(),
        "timeScale": state.shared.config.time_scale,
    })
}

/// `POST run`: see the module documentation.
fn run(state: &AppState, until: &str, stop: Option<&String>) -> Result<Value, Status> {
    if state.shared.config.time_scale > 0.0 {
        return Err(Status::bad_request(format!(
            "virtual time follows the wall clock on this server (time scale {}); moving it \
             instant by instant needs a server started with --time-scale 0",
            state.shared.config.time_scale
        )));
    }
    let until = Millis(
        until
            .parse::<u64>()
            .map_err(|_| Status::bad_request(format!("until={until:?} is not a number of ms")))?,
    );
    let next_only = match stop.map(String::as_str) {
        None | Some("until") => false,
        Some("next") => true,
        Some(other) => {
            return Err(Status::bad_request(format!(
                "stop={other:?}: next or until"
            )));
        }
    };
    let (from, moved, instants, now, rv) = state.write(|c| {
        let from = json!({
            "millis": c.now().0,
            "resourceVersion": c.resource_version().to_string(),
        });
        let mut instants = Vec::new();
        let mut moved = false;
        loop {
            match c.next_timer_at() {
                Some(at) if at <= until => {
                    c.run_until(at);
                    instants.push(json!({
                        "millis": c.now().0,
                        "resourceVersion": c.resource_version().to_string(),
                    }));
                    moved = true;
                    if next_only {
                        break;
                    }
                }
                _ => {
                    if c.now() < until {
                        c.run_until(until);
                        instants.push(json!({
                            "millis": c.now().0,
                            "resourceVersion": c.resource_version().to_string(),
                        }));
                    }
                    break;
                }
            }
        }
        (from, moved, instants, c.now(), c.resource_version())
    });
    Ok(json!({
        "from": from,
        "moved": moved,
        "millis": now.0,
        "resourceVersion": rv.to_string(),
        "instants": instants,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;
    use kubespec_engine::Cluster;

    fn state() -> AppState {
        AppState::new(Cluster::new(Default::default()), Config::default())
    }

    fn call(s: &AppState, m: Method, rest: &[&str], q: &[(&str, &str)], body: &str) -> Value {
        let query = q
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        handle(s, &m, rest, &query, body.as_bytes())
            .expect("a control path")
            .unwrap_or_else(|e| panic!("{}", e.to_json()))
    }

    #[test]
    fn run_stops_at_the_next_event_or_at_until() {
        let s = state();
        let start = call(&s, Method::GET, &["info"], &[], "")["millis"]
            .as_u64()
            .unwrap();
        s.apply_json(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "c", "image": "web:v1"}]}}}
        }))
        .unwrap();
        let until = (start + 60_000).to_string();
        let r = call(
            &s,
            Method::POST,
            &["run"],
            &[("until", &until), ("stop", "next")],
            "",
        );
        assert_eq!(r["moved"], true);
        // The container starts 1 s after the pod is created (the default image behaviour).
        assert_eq!(r["millis"].as_u64().unwrap(), start + 1000);
        let r = call(&s, Method::POST, &["run"], &[("until", &until)], "");
        assert_eq!(r["millis"].as_u64().unwrap(), start + 60_000);
        let instants = r["instants"].as_array().unwrap();
        assert_eq!(instants.last().unwrap()["millis"], r["millis"]);
    }

    #[test]
    fn an_image_change_is_the_in_memory_one() {
        let s = state();
        call(
            &s,
            Method::POST,
            &["images"],
            &[("image", "web:v2")],
            r#"{"change": "startsIn", "ms": 5000}"#,
        );
        assert_eq!(
            s.read(|c| c.images.get("web:v2").start),
            Millis::from_secs(5)
        );
        let q: HashMap<String, String> = [("image".to_string(), "x".to_string())].into();
        let e = handle(
            &s,
            &Method::POST,
            &["images"],
            &q,
            b"{\"change\": \"flies\"}",
        )
        .unwrap()
        .unwrap_err();
        assert_eq!(e.code, 400);
    }

    #[test]
    fn run_is_refused_when_time_follows_the_wall_clock() {
        let s = AppState::new(
            Cluster::new(Default::default()),
            Config {
                time_scale: 1.0,
                ..Config::default()
            },
        );
        let q: HashMap<String, String> = [("until".to_string(), "1000".to_string())].into();
        let e = handle(&s, &Method::POST, &["run"], &q, b"")
            .unwrap()
            .unwrap_err();
        assert!(e.message.contains("--time-scale 0"), "{}", e.message);
        assert!(handle(&s, &Method::GET, &["nothing"], &q, b"").is_none());
    }
}
