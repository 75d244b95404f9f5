//! Image behaviour on a real cluster: a container whose image a step describes ("image
//! "web:v2" starts in 5 seconds", "never becomes ready", "cannot be pulled") runs the
//! Kubernetes e2e test image [`AGNHOST`] instead, with a small `/bin/sh` script around
//! `agnhost netexec` that acts the behaviour out, and probes rewritten to ask the script.
//!
//! **The mapping** (the table in `docs/real-clusters.md` is this module in prose):
//! - **The process.** `command: [/bin/sh, -c, <script>]`, `args` removed. The script starts
//!   `agnhost netexec --http-port=<port> --udp-port=-1` at once, so the port answers from the
//!   container's start, and keeps the application's state in marker files under [`STATE_DIR`]:
//!   `started` (the image's start time has passed), `up` (its startup time too), `ready` and
//!   `live`. Timers are background `sleep`s; SIGTERM runs a trap.
//! - **Probes.** An `httpGet` probe keeps its delays, period and thresholds, and becomes an
//!   `exec` probe running the marker test of its kind ([`probe_test`]): netexec answers every
//!   path with 200 (its `/shell` too, whatever the command did), so no HTTP path of it can
//!   fail on cue. A path the image `answers` with a status stays an `httpGet` of netexec's
//!   `/echo?code=<status>`, and a path it `redirects` one of `/redirect?location=…`. A
//!   `tcpSocket` probe moves to netexec's port (it passes from the container's start). `exec`
//!   and `grpc` probes of the manifest's own cannot be acted out: the write is refused, and the
//!   scenario skips.
//! - **Start time.** A container with no startup probe of its own gets one (period 1 s) that
//!   passes once `started` exists, so it is not ready before its start time has passed, as on
//!   the engine, where the process is not running yet. Before then its liveness test passes:
//!   the engine does not probe a process that has not started.
//! - **Cannot be pulled.** The image becomes `kubespec.invalid/<image>`: the `.invalid` domain
//!   never resolves, so the kubelet reports `ErrImagePull`, then `ImagePullBackOff`.
//! - **Reads.** The original fields are kept in the pod template annotation [`ANNOTATION`]
//!   (which pods inherit); [`unmap_object`] puts them back, so steps read the manifest's images,
//!   commands and probes, and the statuses name the manifest's image.
//!
//! Real time is not virtual time: every duration is honoured to within about a second (the
//! probe period), and scenarios asserting exact instants are the engine's to check.

use kubespec_engine::images::{Change, ImageBehaviour, ImageCatalog};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// The image every described container runs: the Kubernetes e2e test image.
pub const AGNHOST: &str = "registry.k8s.io/e2e-test-images/agnhost:2.53";

/// Where an image that cannot be pulled points: `.invalid` never resolves (RFC 2606).
pub const UNPULLABLE_PREFIX: &str = "kubespec.invalid/";

/// The pod template annotation that keeps a mapped container's original fields.
pub const ANNOTATION: &str = "kubespec.dev/images";

/// Where the script keeps the application's state.
pub const STATE_DIR: &str = "/tmp/kubespec";

/// The fields a mapping may change, restored by [`unmap_object`].
const FIELDS: [&str; 5] = [
    "command",
    "args",
    "readinessProbe",
    "livenessProbe",
    "startupProbe",
];

const PROBES: [(&str, &str); 3] = [
    ("readinessProbe", "readiness"),
    ("livenessProbe", "liveness"),
    ("startupProbe", "startup"),
];

/// netexec's port when the container names none.
const DEFAULT_PORT: i64 = 8080;

/// The images steps described, with their behaviour, as the engine folds the changes.
#[derive(Clone, Debug, Default)]
pub struct Images {
    catalog: ImageCatalog,
    described: BTreeSet<String>,
    /// Every image runs agnhost, with the engine's default behaviour unless a step describes
    /// it (`--agnhost-images all`): for suites whose images are names, not real images.
    all: bool,
}

impl Images {
    /// What runs agnhost: every image (`all`), or only those a step describes.
    pub fn new(all: bool) -> Images {
        Images {
            all,
            ..Images::default()
        }
    }

    /// Records one behaviour step.
    pub fn describe(&mut self, image: &str, change: Change) {
        self.catalog.update(image, |b| b.apply(change));
        self.described.insert(image.to_string());
    }

    /// Whether nothing is mapped: no step described an image, and not every image is.
    pub fn is_empty(&self) -> bool {
        !self.all && self.described.is_empty()
    }

    /// The behaviour of `image` if a step described it (directly, or through its implied
    /// `:latest` tag).
    pub fn described(&self, image: &str) -> Option<ImageBehaviour> {
        let alt = match image.strip_suffix(":latest") {
            Some(repo) => repo.to_string(),
            None => format!("{image}:latest"),
        };
        (self.all || self.described.contains(image) || self.described.contains(&alt))
            .then(|| (*self.catalog.get(image)).clone())
    }

    /// Maps every pod template and pod in `obj` (see the module documentation). A pod spec
    /// already mapped is unmapped first, so mapping twice changes nothing.
    ///
    /// # Errors
    ///
    /// A described container has a probe agnhost cannot answer, or two of a pod's containers
    /// would listen on one port; the message names the container.
    pub fn map_object(&self, obj: &mut Value) -> Result<(), String> {
        if self.is_empty() {
            return Ok(());
        }
        for_each_pod(obj, &mut |node| self.map_pod(node))
    }

    fn map_pod(&self, node: &mut Map<String, Value>) -> Result<(), String> {
        unmap_pod(node);
        let mut records = Map::new();
        let mut ports = BTreeSet::new();
        for (list, init) in [("initContainers", true), ("containers", false)] {
            for c in each_in(node, "spec", list) {
                let Some(image) = c.get("image").and_then(Value::as_str).map(str::to_string) else {
                    continue;
                };
                let Some(b) = self.described(&image) else {
                    continue;
                };
                // A sidecar (an init container that keeps running) behaves as a container.
                let sidecar = c.get("restartPolicy").and_then(Value::as_str) == Some("Always");
                let record = map_container(c, &image, &b, init && !sidecar, &mut ports)?;
                let name = c
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                records.insert(name, record);
            }
        }
        if !records.is_empty() {
            let meta = node
                .entry("metadata")
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .ok_or("metadata is not an object")?;
            let annotations = meta
                .entry("annotations")
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .ok_or("metadata.annotations is not an object")?;
            annotations.insert(
                ANNOTATION.into(),
                Value::String(Value::Object(records).to_string()),
            );
        }
        Ok(())
    }
}

/// Puts back what [`Images::map_object`] changed in every pod template and pod of `obj`, and
/// names the manifest's image in container statuses. A container whose image was changed
/// since it was mapped (a `kubectl set image` or a patch) keeps the new image.
pub fn unmap_object(obj: &mut Value) {
    let _ = for_each_pod(obj, &mut |node| {
        unmap_pod(node);
        Ok(())
    });
}

/// Whether `obj` is or holds a pod spec (a pod, or a workload with a pod template).
pub fn has_pods(obj: &Value) -> bool {
    let mut found = false;
    let _ = for_each_pod(&mut obj.clone(), &mut |_| {
        found = true;
        Ok(())
    });
    found
}

/// Text from the cluster (an event message) as it reads with the manifest's images.
pub fn unmap_text(text: &str) -> String {
    text.replace(UNPULLABLE_PREFIX, "")
}

/// The containers of `pod` (a pod as read from the cluster) that run agnhost for a described
/// image, with netexec's port: where [`toggle_command`] is sent.
pub fn mapped_ports(pod: &Value) -> Vec<(String, i64)> {
    let Some(records) = records_of(pod.get("metadata")) else {
        return Vec::new();
    };
    records
        .iter()
        .filter_map(|(name, r)| Some((name.clone(), r.get("port")?.as_i64()?)))
        .collect()
}

/// The shell command that makes a mapped container's readiness (`ready`) or liveness (`live`)
/// endpoint pass or fail from now on, overriding the image's timers: sent to netexec's
/// `/shell` through the API server's pod proxy.
pub fn toggle_command(marker: &str, passing: bool) -> String {
    let (d, m) = (STATE_DIR, marker);
    if passing {
        format!("touch {d}/pin-{m} {d}/{m}")
    } else {
        format!("touch {d}/pin-{m} && rm -f {d}/{m}")
    }
}

/// Calls `f` on every pod-like node of `v`: an object whose `spec` has `containers` (a pod,
/// or a pod template in a Deployment, ReplicaSet, StatefulSet or ControllerRevision).
/// What [`for_each_pod`] calls on each pod-like node.
type PodVisitor<'a> = dyn FnMut(&mut Map<String, Value>) -> Result<(), String> + 'a;

fn for_each_pod(v: &mut Value, f: &mut PodVisitor<'_>) -> Result<(), String> {
    match v {
        Value::Object(m) => {
            if m.get("spec").and_then(|s| s.get("containers")).is_some() {
                return f(m);
            }
            for x in m.values_mut() {
                for_each_pod(x, f)?;
            }
            Ok(())
        }
        Value::Array(a) => a.iter_mut().try_for_each(|x| for_each_pod(x, f)),
        _ => Ok(()),
    }
}

/// The objects of the list `node[part][list]` (containers, container statuses).
fn each_in<'a>(
    node: &'a mut Map<String, Value>,
    part: &str,
    list: &str,
) -> impl Iterator<Item = &'a mut Map<String, Value>> {
    node.get_mut(part)
        .and_then(|s| s.get_mut(list))
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
}

fn records_of(meta: Option<&Value>) -> Option<Map<String, Value>> {
    let text = meta?.get("annotations")?.get(ANNOTATION)?.as_str()?;
    match serde_json::from_str(text).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

fn unmap_pod(node: &mut Map<String, Value>) {
    let Some(records) = records_of(node.get("metadata")) else {
        return;
    };
    if let Some(annotations) = node
        .get_mut("metadata")
        .and_then(|m| m.get_mut("annotations"))
        .and_then(Value::as_object_mut)
    {
        annotations.remove(ANNOTATION);
        if annotations.is_empty()
            && let Some(meta) = node.get_mut("metadata").and_then(Value::as_object_mut)
        {
            meta.remove("annotations");
        }
    }
    for list in ["initContainers", "containers"] {
        for c in each_in(node, "spec", list) {
            let name = c.get("name").and_then(Value::as_str).unwrap_or("");
            let Some(r) = records.get(name) else {
                continue;
            };
            let mapped = r.get("mapped").and_then(Value::as_str);
            if c.get("image").and_then(Value::as_str) == mapped
                && let Some(original) = r.get("image")
            {
                c.insert("image".into(), original.clone());
            }
            if let Some(fields) = r.get("fields").and_then(Value::as_object) {
                for (k, v) in fields {
                    if v.is_null() {
                        c.remove(k);
                    } else {
                        c.insert(k.clone(), v.clone());
                    }
                }
            }
        }
    }
    for list in ["initContainerStatuses", "containerStatuses"] {
        for s in each_in(node, "status", list) {
            let name = s.get("name").and_then(Value::as_str).unwrap_or("");
            if let Some(original) = records.get(name).and_then(|r| r.get("image")) {
                s.insert("image".into(), original.clone());
            }
        }
    }
}

/// Maps one container; returns what [`unmap_pod`] needs to undo it.
fn map_container(
    c: &mut Map<String, Value>,
    image: &str,
    b: &ImageBehaviour,
    init: bool,
    ports: &mut BTreeSet<i64>,
) -> Result<Value, String> {
    let name = c
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let mut fields = Map::new();
    if b.pull_fails {
        let mapped = format!("{UNPULLABLE_PREFIX}{image}");
        c.insert("image".into(), mapped.clone().into());
        return Ok(json!({"image": image, "mapped": mapped, "fields": fields}));
    }
    for f in FIELDS {
        fields.insert(f.into(), c.get(f).cloned().unwrap_or(Value::Null));
    }
    c.insert("image".into(), AGNHOST.into());
    c.remove("args");
    if init {
        c.insert("command".into(), json!(["/bin/sh", "-c", init_script(b)]));
        return Ok(json!({"image": image, "mapped": AGNHOST, "fields": fields}));
    }
    let port = choose_port(c, &name, ports)?;
    for (field, kind) in PROBES {
        let Some(p) = c.get_mut(field).and_then(Value::as_object_mut) else {
            continue;
        };
        map_probe(p, kind, port, b).map_err(|why| {
            format!(
                "container {name:?} (image {image:?}) has {why}; on a real cluster kubespec acts \
                 image behaviour out with agnhost, which answers only httpGet and tcpSocket probes"
            )
        })?;
    }
    if b.start.0 > 0 && !c.contains_key("startupProbe") {
        // The engine does not start the process before its start time: not ready, not probed.
        let threshold = b.start.0.div_ceil(1000) + 30;
        c.insert(
            "startupProbe".into(),
            json!({
                "exec": {"command": ["/bin/sh", "-c", probe_test("started")]},
                "periodSeconds": 1,
                "failureThreshold": threshold,
            }),
        );
    }
    c.insert("command".into(), json!(["/bin/sh", "-c", script(b, port)]));
    Ok(json!({"image": image, "mapped": AGNHOST, "port": port, "fields": fields}))
}

/// netexec's port: the port of the container's first httpGet or tcpSocket probe (a named
/// port resolved), else its first TCP containerPort, else 8080 (or the next one free).
fn choose_port(
    c: &Map<String, Value>,
    name: &str,
    used: &mut BTreeSet<i64>,
) -> Result<i64, String> {
    let resolve = |port: &Value| -> Result<i64, String> {
        match port {
            Value::Number(n) => n
                .as_i64()
                .ok_or_else(|| format!("port {n} is not a number")),
            Value::String(s) => c
                .get("ports")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|p| p.get("name").and_then(Value::as_str) == Some(s))
                .and_then(|p| p.get("containerPort").and_then(Value::as_i64))
                .or_else(|| s.parse().ok())
                .ok_or_else(|| format!("container {name:?} has no port named {s:?}")),
            other => Err(format!("container {name:?}: port {other} is not a port")),
        }
    };
    let probed = PROBES.iter().find_map(|(field, _)| {
        let p = c.get(*field)?;
        p.get("httpGet")
            .or_else(|| p.get("tcpSocket"))
            .and_then(|h| h.get("port"))
    });
    let declared = c
        .get("ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|p| {
            p.get("protocol")
                .and_then(Value::as_str)
                .is_none_or(|x| x == "TCP")
        })
        .and_then(|p| p.get("containerPort"));
    let port = match probed.or(declared) {
        Some(p) => {
            let port = resolve(p)?;
            if used.contains(&port) {
                return Err(format!(
                    "containers of one pod both listen on port {port} (container {name:?}); \
                     agnhost serves each described container on a port of its own"
                ));
            }
            port
        }
        None => (DEFAULT_PORT..)
            .find(|p| !used.contains(p))
            .unwrap_or(DEFAULT_PORT),
    };
    used.insert(port);
    Ok(port)
}

/// Rewrites one probe to ask the script (see the module documentation).
fn map_probe(
    p: &mut Map<String, Value>,
    kind: &str,
    port: i64,
    b: &ImageBehaviour,
) -> Result<(), String> {
    if let Some(h) = p.get_mut("httpGet").and_then(Value::as_object_mut) {
        let path = h
            .get("path")
            .and_then(Value::as_str)
            .unwrap_or("/")
            .to_string();
        let new_path = if let Some(code) = b.statuses.get(&path) {
            format!("/echo?code={code}")
        } else if let Some(location) = b.redirects.get(&path) {
            format!(
                "/redirect?{}",
                super::served::query(&[("location", location), ("code", "302")])
            )
        } else {
            p.remove("httpGet");
            p.insert(
                "exec".into(),
                json!({"command": ["/bin/sh", "-c", probe_test(kind)]}),
            );
            return Ok(());
        };
        h.insert("path".into(), new_path.into());
        h.insert("port".into(), port.into());
        h.remove("scheme");
        return Ok(());
    }
    if let Some(t) = p.get_mut("tcpSocket").and_then(Value::as_object_mut) {
        t.insert("port".into(), port.into());
        return Ok(());
    }
    let what = if p.contains_key("exec") {
        "an exec"
    } else if p.contains_key("grpc") {
        "a grpc"
    } else {
        "an empty"
    };
    Err(format!("{what} {kind} probe"))
}

/// The marker test a probe of `kind` runs: `started` (the injected startup probe), `startup`,
/// `readiness` or `liveness`. Before the script has run (no `started`), liveness passes.
pub fn probe_test(kind: &str) -> String {
    let d = STATE_DIR;
    match kind {
        "started" => format!("test -e {d}/started"),
        "startup" => format!("test -e {d}/up"),
        "readiness" => format!("test -e {d}/up && test -e {d}/ready"),
        _ => format!("test ! -e {d}/started || {{ test -e {d}/up && test -e {d}/live; }}"),
    }
}

/// Seconds as `sleep` takes them: `1`, `1.5`, `0.25`.
fn secs(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        return (ms / 1000).to_string();
    }
    let frac = format!("{:03}", ms % 1000);
    format!("{}.{}", ms / 1000, frac.trim_end_matches('0'))
}

/// The script of a running container (see the module documentation).
fn script(b: &ImageBehaviour, port: i64) -> String {
    let mut s = String::new();
    let mut line = |l: String| {
        s.push_str(&l);
        s.push('\n');
    };
    line(format!("d={STATE_DIR}"));
    line("mkdir -p $d && rm -f $d/started $d/up $d/ready $d/pin-ready $d/pin-live".into());
    line("touch $d/live".into());
    line(format!(
        "/agnhost netexec --http-port={port} --udp-port=-1 &"
    ));
    line("app=$!".into());
    let mut stop = String::new();
    if b.unready_on_sigterm {
        stop.push_str("touch $d/pin-ready; rm -f $d/ready; ");
    }
    if b.unhealthy_on_sigterm {
        stop.push_str("touch $d/pin-live; rm -f $d/live; ");
    }
    if b.stop.0 > 0 {
        stop.push_str(&format!("sleep {} & wait $!; ", secs(b.stop.0)));
    }
    line(format!("stop() {{ {stop}kill $app 2>/dev/null; exit 0; }}"));
    line("trap stop TERM".into());
    if b.start.0 > 0 {
        line(format!("sleep {} & wait $!", secs(b.start.0)));
    }
    if let Some(exit) = b.exit.filter(|e| e.after.0 == 0) {
        line(format!("kill $app 2>/dev/null; exit {}", exit.code));
    }
    line("touch $d/started".into());
    if b.startup.0 > 0 {
        line(format!("(sleep {}; touch $d/up) &", secs(b.startup.0)));
    } else {
        line("touch $d/up".into());
    }
    match b.ready_after {
        Some(r) if r.0 == 0 => line("touch $d/ready".into()),
        Some(r) => line(format!(
            "(sleep {}; test -e $d/pin-ready || touch $d/ready) &",
            secs(r.0)
        )),
        None => {}
    }
    if let Some(u) = b.unhealthy_after {
        line(format!(
            "(sleep {}; test -e $d/pin-live || rm -f $d/live) &",
            secs(u.0)
        ));
    }
    if let Some(exit) = b.exit.filter(|e| e.after.0 > 0) {
        line(format!("sleep {} & wait $!", secs(exit.after.0)));
        line(format!("kill $app 2>/dev/null; exit {}", exit.code));
    }
    line("wait $app".into());
    s
}

/// The script of an init container: it runs for the image's start time, then ends as the
/// image does; an image with no exit behaviour runs until it is stopped, as on the engine
/// (`agnhost pause`).
fn init_script(b: &ImageBehaviour) -> String {
    let mut s = String::new();
    if b.start.0 > 0 {
        s.push_str(&format!("sleep {}\n", secs(b.start.0)));
    }
    match b.exit {
        Some(e) => {
            if e.after.0 > 0 {
                s.push_str(&format!("sleep {}\n", secs(e.after.0)));
            }
            s.push_str(&format!("exit {}\n", e.code));
        }
        None => s.push_str("exec /agnhost pause\n"),
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn images(changes: &[(&str, Change)]) -> Images {
        let mut i = Images::default();
        for (image, c) in changes {
            i.describe(image, c.clone());
        }
        i
    }

    fn deployment(container: Value) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {"replicas": 3, "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [container]}}}
        })
    }

    fn container(v: &Value) -> &Value {
        &v["spec"]["template"]["spec"]["containers"][0]
    }

    #[test]
    fn an_image_no_step_describes_is_left_alone_unless_all_images_are_mapped() {
        let i = images(&[("web:v1", Change::StartsIn { ms: 1000 })]);
        let mut d = deployment(json!({"name": "c", "image": "nginx:1.27"}));
        let before = d.clone();
        i.map_object(&mut d).unwrap();
        assert_eq!(d, before);
        // `--agnhost-images all`: the engine's default behaviour, a 1 s start.
        let mut d = before.clone();
        Images::new(true).map_object(&mut d).unwrap();
        let c = container(&d);
        assert_eq!(c["image"], AGNHOST);
        assert!(
            c["command"][2]
                .as_str()
                .unwrap()
                .contains("sleep 1 & wait $!")
        );
        unmap_object(&mut d);
        assert_eq!(d, before);
    }

    #[test]
    fn a_start_time_runs_agnhost_behind_a_sleep_with_a_startup_probe_and_reads_back_unchanged() {
        let i = images(&[("web:v1", Change::StartsIn { ms: 1500 })]);
        let original = deployment(json!({
            "name": "c", "image": "web:v1", "args": ["--serve"],
            "ports": [{"containerPort": 9376}]
        }));
        let mut d = original.clone();
        i.map_object(&mut d).unwrap();
        let c = container(&d);
        assert_eq!(c["image"], AGNHOST);
        assert!(c.get("args").is_none());
        assert_eq!(c["command"][0], "/bin/sh");
        let script = c["command"][2].as_str().unwrap();
        assert!(
            script.contains("/agnhost netexec --http-port=9376 --udp-port=-1 &"),
            "{script}"
        );
        assert!(script.contains("sleep 1.5 & wait $!"), "{script}");
        assert_eq!(
            c["startupProbe"]["exec"]["command"],
            json!(["/bin/sh", "-c", "test -e /tmp/kubespec/started"])
        );
        assert_eq!(c["startupProbe"]["failureThreshold"], 32);
        // Pods and ReplicaSets inherit the annotation with the template.
        let ann = d["spec"]["template"]["metadata"]["annotations"][ANNOTATION]
            .as_str()
            .unwrap();
        assert!(ann.contains("\"web:v1\""), "{ann}");
        // Mapping twice changes nothing; unmapping gives the manifest back.
        let once = d.clone();
        i.map_object(&mut d).unwrap();
        assert_eq!(d, once);
        unmap_object(&mut d);
        assert_eq!(d, original);
    }

    #[test]
    fn http_probes_ask_the_script_and_keep_their_timing() {
        let i = images(&[
            ("web:v1", Change::NeverReady),
            (
                "web:v1",
                Change::Answers {
                    path: "/teapot".into(),
                    code: 418,
                },
            ),
        ]);
        let mut d = deployment(json!({
            "name": "c", "image": "web:v1",
            "ports": [{"name": "http", "containerPort": 8000}],
            "readinessProbe": {"httpGet": {"path": "/ready", "port": "http", "scheme": "HTTPS"},
                               "periodSeconds": 2, "failureThreshold": 5},
            "livenessProbe": {"httpGet": {"path": "/teapot", "port": 9999}},
            "startupProbe": {"tcpSocket": {"port": 7000}}
        }));
        i.map_object(&mut d).unwrap();
        let c = container(&d);
        assert_eq!(
            c["readinessProbe"],
            json!({"exec": {"command": ["/bin/sh", "-c",
                       "test -e /tmp/kubespec/up && test -e /tmp/kubespec/ready"]},
                   "periodSeconds": 2, "failureThreshold": 5})
        );
        assert_eq!(
            c["livenessProbe"]["httpGet"],
            json!({"path": "/echo?code=418", "port": 8000})
        );
        assert_eq!(c["startupProbe"], json!({"tcpSocket": {"port": 8000}}));
        let script = c["command"][2].as_str().unwrap();
        // Never ready: nothing ever creates the ready marker.
        assert!(!script.contains("touch $d/ready"), "{script}");
        assert!(script.contains("--http-port=8000"), "{script}");
    }

    #[test]
    fn timers_exit_codes_and_sigterm_make_the_script() {
        let mut b = ImageBehaviour::default();
        for c in [
            Change::StartsIn { ms: 0 },
            Change::StopsIn { ms: 5000 },
            Change::ReadyAfter { ms: 250 },
            Change::UnhealthyAfter { ms: 30_000 },
            Change::StartupTakes { ms: 2000 },
            Change::ExitsAfter {
                ms: 60_000,
                code: 3,
            },
            Change::UnreadyOnSigterm,
        ] {
            b.apply(c);
        }
        let s = script(&b, 8080);
        let expected = "\
d=/tmp/kubespec
mkdir -p $d && rm -f $d/started $d/up $d/ready $d/pin-ready $d/pin-live
touch $d/live
/agnhost netexec --http-port=8080 --udp-port=-1 &
app=$!
stop() { touch $d/pin-ready; rm -f $d/ready; sleep 5 & wait $!; kill $app 2>/dev/null; exit 0; }
trap stop TERM
touch $d/started
(sleep 2; touch $d/up) &
(sleep 0.25; test -e $d/pin-ready || touch $d/ready) &
(sleep 30; test -e $d/pin-live || rm -f $d/live) &
sleep 60 & wait $!
kill $app 2>/dev/null; exit 3
wait $app
";
        assert_eq!(s, expected);
        let mut crash = ImageBehaviour::default();
        crash.apply(Change::CrashesOnStart);
        assert!(
            script(&crash, 8080).contains("sleep 1 & wait $!\nkill $app 2>/dev/null; exit 1\n")
        );
    }

    /// The generated scripts run under a real `sh`: the probe answers follow the timers, and
    /// SIGTERM runs the trap.
    #[test]
    fn the_probe_script_answers_as_the_markers_say() {
        let dir = std::env::temp_dir().join(format!("kubespec-agnhost-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ask = |kind: &str| {
            let test = probe_test(kind).replace("/tmp/kubespec", dir.to_str().unwrap());
            std::process::Command::new("/bin/sh")
                .args(["-c", &test])
                .status()
                .unwrap()
                .success()
        };
        // Before the start time: not started, not ready; liveness is not failing.
        assert!(!ask("started") && !ask("readiness") && ask("liveness"));
        std::fs::write(dir.join("started"), "").unwrap();
        // Started but not answering yet (startup time): every probe fails.
        assert!(ask("started") && !ask("startup") && !ask("liveness") && !ask("readiness"));
        std::fs::write(dir.join("up"), "").unwrap();
        std::fs::write(dir.join("live"), "").unwrap();
        assert!(ask("startup") && ask("liveness") && !ask("readiness"));
        std::fs::write(dir.join("ready"), "").unwrap();
        assert!(ask("readiness"));
        // Toggling from a step: the pin stops the timers from undoing it.
        let run = |cmd: &str| {
            let cmd = cmd.replace("/tmp/kubespec", dir.to_str().unwrap());
            assert!(
                std::process::Command::new("sh")
                    .args(["-c", &cmd])
                    .status()
                    .unwrap()
                    .success()
            );
        };
        run(&toggle_command("ready", false));
        assert!(!ask("readiness") && dir.join("pin-ready").exists());
        run(&toggle_command("ready", true));
        assert!(ask("readiness"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Runs a generated script under a real `/bin/sh`, with `sleep 60` standing in for
    /// netexec and a temporary state directory; returns the child and the directory.
    fn run_script(b: &ImageBehaviour, what: &str) -> (std::process::Child, std::path::PathBuf) {
        let dir =
            std::env::temp_dir().join(format!("kubespec-agnhost-{what}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let text = script(b, 8080)
            .replace(
                "/agnhost netexec --http-port=8080 --udp-port=-1",
                "sleep 60",
            )
            .replace(STATE_DIR, dir.to_str().unwrap());
        let child = std::process::Command::new("/bin/sh")
            .args(["-c", &text])
            .spawn()
            .unwrap();
        (child, dir)
    }

    /// Waits (at most 10 s) for `f`; every wait here is for a timer of well under a second.
    fn eventually(what: &str, f: impl Fn() -> bool) {
        let start = std::time::Instant::now();
        while !f() {
            assert!(
                start.elapsed() < std::time::Duration::from_secs(10),
                "never: {what}"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    fn exit_code(child: &mut std::process::Child) -> Option<i32> {
        let start = std::time::Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status.code();
            }
            assert!(
                start.elapsed() < std::time::Duration::from_secs(10),
                "the script did not end"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    #[test]
    fn the_script_runs_its_timers_and_its_sigterm_trap_under_sh() {
        let mut b = ImageBehaviour::default();
        for c in [
            Change::StartsIn { ms: 200 },
            Change::ReadyAfter { ms: 300 },
            Change::StopsIn { ms: 200 },
            Change::UnreadyOnSigterm,
        ] {
            b.apply(c);
        }
        let (mut child, dir) = run_script(&b, "timers");
        eventually("the ready marker", || dir.join("ready").exists());
        assert!(dir.join("started").exists() && dir.join("up").exists());
        assert!(dir.join("live").exists());
        let pid = child.id().to_string();
        assert!(
            std::process::Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        // The trap makes readiness fail at once, winds down, and exits 0.
        eventually("the trap removing the ready marker", || {
            !dir.join("ready").exists()
        });
        assert_eq!(exit_code(&mut child), Some(0));
        assert!(dir.join("pin-ready").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_script_exits_as_the_image_does_under_sh() {
        let mut crash = ImageBehaviour::default();
        crash.apply(Change::StartsIn { ms: 100 });
        crash.apply(Change::CrashesOnStart);
        let (mut child, dir) = run_script(&crash, "crash");
        assert_eq!(exit_code(&mut child), Some(1));
        assert!(
            !dir.join("started").exists(),
            "a crash on start never starts"
        );
        let _ = std::fs::remove_dir_all(&dir);

        let mut exits = ImageBehaviour::default();
        exits.apply(Change::StartsIn { ms: 0 });
        exits.apply(Change::ExitsAfter { ms: 200, code: 3 });
        let (mut child, dir) = run_script(&exits, "exits");
        assert_eq!(exit_code(&mut child), Some(3));
        assert!(dir.join("started").exists() && dir.join("ready").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_image_that_cannot_be_pulled_points_at_an_invalid_registry() {
        let i = images(&[("web:v2", Change::CannotBePulled)]);
        let original = json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "web:v2"}]},
        });
        let mut p = original.clone();
        assert!(has_pods(&p));
        assert!(!has_pods(
            &json!({"kind": "ConfigMap", "data": {"spec": "x"}})
        ));
        i.map_object(&mut p).unwrap();
        assert_eq!(
            p["spec"]["containers"][0]["image"],
            "kubespec.invalid/web:v2"
        );
        assert!(p["spec"]["containers"][0].get("command").is_none());
        // What the kubelet reports names the mapped image; reads name the manifest's.
        p["status"] = json!({"containerStatuses": [{"name": "c", "image": "kubespec.invalid/web:v2",
            "state": {"waiting": {"reason": "ImagePullBackOff"}}}]});
        unmap_object(&mut p);
        assert_eq!(p["spec"], original["spec"]);
        assert_eq!(p["status"]["containerStatuses"][0]["image"], "web:v2");
        assert_eq!(
            unmap_text("Back-off pulling image \"kubespec.invalid/web:v2\""),
            "Back-off pulling image \"web:v2\""
        );
    }

    #[test]
    fn a_set_image_after_mapping_keeps_the_new_image_when_unmapped() {
        let i = images(&[("web:v1", Change::StartsIn { ms: 1000 })]);
        let mut d = deployment(json!({"name": "c", "image": "web:v1"}));
        i.map_object(&mut d).unwrap();
        d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.27");
        unmap_object(&mut d);
        let c = container(&d);
        assert_eq!(c["image"], "nginx:1.27");
        assert!(c.get("command").is_none() && c.get("startupProbe").is_none());
    }

    #[test]
    fn exec_probes_are_refused_with_the_container_named() {
        let i = images(&[("web:v1", Change::NeverReady)]);
        let mut d = deployment(json!({"name": "c", "image": "web:v1",
            "readinessProbe": {"exec": {"command": ["cat", "/tmp/healthy"]}}}));
        let e = i.map_object(&mut d).unwrap_err();
        assert!(e.contains("container \"c\""), "{e}");
        assert!(e.contains("an exec readiness probe"), "{e}");
    }

    #[test]
    fn init_containers_run_for_the_start_time_then_end_as_the_image_does() {
        let i = images(&[
            ("setup:v1", Change::StartsIn { ms: 2000 }),
            ("setup:v1", Change::ExitsAfter { ms: 0, code: 7 }),
        ]);
        let mut p = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"initContainers": [{"name": "setup", "image": "setup:v1"}],
                     "containers": [{"name": "c", "image": "nginx"}]}});
        i.map_object(&mut p).unwrap();
        assert_eq!(
            p["spec"]["initContainers"][0]["command"],
            json!(["/bin/sh", "-c", "sleep 2\nexit 7\n"])
        );
        assert_eq!(p["spec"]["containers"][0]["image"], "nginx");
    }

    #[test]
    fn two_described_containers_get_ports_of_their_own() {
        let i = images(&[
            ("a:1", Change::StartsIn { ms: 0 }),
            ("b:1", Change::StartsIn { ms: 0 }),
        ]);
        let mut p = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]}});
        i.map_object(&mut p).unwrap();
        assert_eq!(
            mapped_ports(&p),
            vec![("a".into(), 8080), ("b".into(), 8081)]
        );
    }

    #[test]
    fn seconds_read_as_sleep_takes_them() {
        assert_eq!(secs(1000), "1");
        assert_eq!(secs(1500), "1.5");
        assert_eq!(secs(250), "0.25");
        assert_eq!(secs(1), "0.001");
    }
}
