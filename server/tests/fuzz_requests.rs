//! Random requests never crash the server: every answer is JSON (a `Status` for errors, with
//! the code of the response), and a write that succeeded is visible to the next read.

use axum::body::Body;
use http_body_util::BodyExt;
use kubespec_engine::{Cluster, ClusterConfig};
use kubespec_server::{AppState, Config, router};
use proptest::prelude::*;
use tower::ServiceExt;

fn method() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS",
    ])
}

fn path() -> impl Strategy<Value = String> {
    let prefix = prop::sample::select(vec![
        "/api/v1",
        "/apis/apps/v1",
        "/apis/autoscaling/v2",
        "/apis/discovery.k8s.io/v1",
        "/apis/apps/v2",
        "/apis/nope/v1",
        "/api",
        "/apis",
        "",
    ]);
    let segment = prop::sample::select(vec![
        "namespaces",
        "default",
        "kube-system",
        "missing",
        "pods",
        "deployments",
        "configmaps",
        "nodes",
        "node-1",
        "events",
        "web",
        "status",
        "scale",
        "watch",
        "finalize",
        "log",
        "",
        "%2F",
        "..",
    ]);
    let query = prop::sample::select(vec![
        "",
        "?watch=true",
        "?labelSelector=app%3Dweb",
        "?labelSelector=a+in+(",
        "?fieldSelector=metadata.name%3Dweb",
        "?fieldSelector=bogus",
        "?limit=1&continue=x",
        "?resourceVersion=abc&watch=1",
        "?dryRun=All",
        "?propagationPolicy=Orphan",
    ]);
    (prefix, prop::collection::vec(segment, 0..6), query).prop_map(|(p, segs, q)| {
        // Every watch (`?watch=`, or a `/watch/` path) ends at once.
        let sep = if q.is_empty() { '?' } else { '&' };
        format!("{p}/{}{q}{sep}timeoutSeconds=0", segs.join("/"))
    })
}

fn body() -> impl Strategy<Value = (String, Vec<u8>)> {
    let ct = prop::sample::select(vec![
        "application/json",
        "application/yaml",
        "application/merge-patch+json",
        "application/json-patch+json",
        "application/strategic-merge-patch+json",
        "application/vnd.kubernetes.protobuf",
        "text/plain",
    ]);
    let doc = prop_oneof![
        Just(br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"web"},"data":{"a":"b"}}"#.to_vec()),
        Just(br#"{"metadata":{"name":"web"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"a","image":"nginx"}]}}}}"#.to_vec()),
        Just(br#"{"spec":{"replicas":-3}}"#.to_vec()),
        Just(br#"[{"op":"replace","path":"/spec/replicas","value":1}]"#.to_vec()),
        Just(br#"{"metadata":{"name":"web","resourceVersion":"1"}}"#.to_vec()),
        Just(b"null".to_vec()),
        Just(Vec::new()),
        prop::collection::vec(any::<u8>(), 0..64),
    ];
    (ct, doc).prop_map(|(c, d)| (c.to_string(), d))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn random_requests_get_json_answers_and_never_crash_the_server(
        requests in prop::collection::vec((method(), path(), body()), 1..25)
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let app = router(AppState::new(Cluster::new(ClusterConfig::default()), Config::default()));
            for (method, path, (ct, body)) in requests {
                let req = axum::http::Request::builder()
                    .method(method)
                    .uri(path.as_str())
                    .header("content-type", ct.as_str())
                    .body(Body::from(body))
                    .unwrap();
                let resp = app.clone().oneshot(req).await.unwrap();
                let code = resp.status().as_u16();
                let watching = path.contains("watch");
                let bytes = tokio::time::timeout(
                    std::time::Duration::from_secs(10),
                    resp.into_body().collect(),
                )
                .await
                .expect("every response ends (watches here time out at once)")
                .unwrap()
                .to_bytes();
                // HEAD answers carry no body; a watch's body is event lines.
                if method == "HEAD" || (watching && code == 200) {
                    continue;
                }
                let v: serde_json::Value = serde_json::from_slice(&bytes)
                    .unwrap_or_else(|e| panic!("{method} {path} ({ct}): {code}, not JSON: {e}"));
                if code >= 400 {
                    assert_eq!(v["kind"], "Status", "{method} {path}: {v}");
                    assert_eq!(v["code"], code, "{method} {path}: {v}");
                }
            }
            // Still serving.
            let r = app
                .oneshot(axum::http::Request::get("/api/v1/namespaces").body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        });
    }
}
