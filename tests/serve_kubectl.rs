//! The real `kubectl` (and kube-rs) against `kubespec serve` over HTTPS with its bearer token,
//! when kubectl is on PATH (otherwise a test prints why and passes). It replays the workflow
//! users run by hand: apply, get, set image, rollout status/history/undo/pause/resume, scale,
//! describe, delete, server-side apply, explain. Every command runs under a deadline; nothing
//! asserts on durations. Virtual time is frozen (`--time-scale 0`) and moved by the test through
//! `POST /kubespec/v1/advance`, so what kubectl sees does not depend on the machine's speed.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(90);

const NGINX: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx
  labels:
    app: nginx
spec:
  replicas: 2
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:1.10
        ports:
        - containerPort: 80
";

/// The server process; killed on drop.
struct Server {
    child: Child,
    url: String,
    kubeconfig: PathBuf,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn kubectl_available() -> bool {
    Command::new("kubectl")
        .args(["version", "--client"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn start(extra: &[&str]) -> Server {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "kubespec-serve-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let kubeconfig = dir.join("kubeconfig");
    let mut child = Command::new(env!("CARGO_BIN_EXE_kubespec"))
        .args(["serve", "--port", "0", "--kubeconfig"])
        .arg(&kubeconfig)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("kubespec serve starts");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        if let Some(Ok(l)) = lines.next() {
            let _ = tx.send(l);
        }
        // Keep draining so the server never blocks on a full pipe.
        for _ in lines {}
    });
    let first = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("kubespec serve prints its address");
    let url = first
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();
    Server {
        child,
        url,
        kubeconfig,
        dir,
    }
}

/// Runs kubectl with the server's kubeconfig; returns (success, stdout, stderr).
/// `kubectl` against `server`, with a discovery and HTTP cache of its own. The shared
/// `~/.kube/cache` is keyed by host and port, and the tests' servers reuse ports: a cache left
/// by an earlier server (with other credentials) changes what kubectl asks and how it words a
/// refusal.
fn kubectl_command(server: &Server) -> Command {
    let mut command = Command::new("kubectl");
    command
        .arg("--kubeconfig")
        .arg(&server.kubeconfig)
        .arg("--cache-dir")
        .arg(server.dir.join("kubectl-cache"));
    command
}

fn kubectl(server: &Server, args: &[&str]) -> (bool, String, String) {
    let mut child = kubectl_command(server)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl runs");
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (out, err) = (out_t.join().unwrap(), err_t.join().unwrap());
    let ok = status.is_some_and(|s| s.success());
    (ok, out, err)
}

fn must(server: &Server, args: &[&str]) -> String {
    let (ok, out, err) = kubectl(server, args);
    assert!(
        ok,
        "kubectl {args:?} failed:\nstdout:\n{out}\nstderr:\n{err}"
    );
    out
}

fn token(kubeconfig: &Path) -> String {
    std::fs::read_to_string(kubeconfig)
        .unwrap()
        .lines()
        .find_map(|l| l.trim().strip_prefix("token: ").map(str::to_string))
        .expect("a token in the kubeconfig")
}

/// A raw HTTP/1.1 request to a server started with `--insecure-http`; returns the status code
/// and body.
fn http(server: &Server, method: &str, path: &str, token: Option<&str>) -> (u16, String) {
    let addr = server.url.strip_prefix("http://").unwrap();
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(DEADLINE)).unwrap();
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    let _ = s.read_to_string(&mut resp);
    let code = resp
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = resp
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (code, body)
}

/// A kube-rs client built from the kubeconfig `kubespec serve` wrote, as a user's controller
/// builds one, with its own runtime so the synchronous tests can call it.
struct Kube {
    rt: tokio::runtime::Runtime,
    client: kube::Client,
}

impl Kube {
    /// `with_token: false` drops the kubeconfig's token: a client that trusts the CA but sends
    /// no credentials.
    fn new(kubeconfig: &Path, with_token: bool) -> Kube {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let client = rt.block_on(async {
            let kc = kube::config::Kubeconfig::read_from(kubeconfig).expect("a kubeconfig");
            let mut config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
                .await
                .expect("kube-rs reads the kubeconfig");
            if !with_token {
                config.auth_info.token = None;
            }
            kube::Client::try_from(config).expect("a client")
        });
        Kube { rt, client }
    }

    /// Moves virtual time on by `by` (`1s`, `2m`, ...).
    fn advance(&self, by: &str) {
        let req = http::Request::post(format!("/kubespec/v1/advance?by={by}"))
            .body(Vec::new())
            .unwrap();
        let body = self
            .rt
            .block_on(async { tokio::time::timeout(DEADLINE, self.client.request_text(req)).await })
            .expect("advance answers in time")
            .expect("advance succeeds");
        assert!(body.contains("\"millis\""), "{body}");
    }
}

/// Advances time in steps of `step` until `done` holds, at most `steps` times; returns whether
/// it held.
fn advance_until(k: &Kube, step: &str, steps: usize, mut done: impl FnMut() -> bool) -> bool {
    for _ in 0..steps {
        if done() {
            return true;
        }
        k.advance(step);
    }
    done()
}

fn write(server: &Server, name: &str, text: &str) -> String {
    let path = server.dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

fn jsonpath(server: &Server, what: &[&str], path: &str) -> String {
    let mut args = vec!["get"];
    args.extend_from_slice(what);
    let expr = format!("jsonpath={path}");
    args.extend_from_slice(&["-o", &expr]);
    must(server, &args)
}

#[test]
fn over_tls_kubectl_sends_the_token_and_requests_without_it_get_401() {
    if !kubectl_available() {
        eprintln!("skipped: kubectl is not on PATH");
        return;
    }
    let server = start(&["--time-scale", "0"]);
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );
    let kc = std::fs::read_to_string(&server.kubeconfig).unwrap();
    assert!(kc.contains("certificate-authority-data: "), "{kc}");

    // kubectl verifies the server against the kubeconfig's CA and sends the token.
    let out = must(&server, &["get", "namespaces"]);
    let names: Vec<&str> = out
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        names,
        ["default", "kube-node-lease", "kube-public", "kube-system"],
        "{out}"
    );

    // A wrong token, over the same TLS connection setup, is refused.
    let (ok, out, err) = kubectl(&server, &["--token", "wrong", "get", "namespaces"]);
    assert!(!ok, "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        err.contains("You must be logged in to the server (Unauthorized)"),
        "{err}"
    );

    // No token at all: a 401 with a Status object.
    let anonymous = Kube::new(&server.kubeconfig, false);
    let req = http::Request::get("/api/v1/namespaces")
        .body(Vec::new())
        .unwrap();
    let err = anonymous
        .rt
        .block_on(anonymous.client.request_text(req))
        .expect_err("refused");
    match err {
        kube::Error::Api(status) => {
            assert_eq!(status.code, 401, "{status:?}");
            assert_eq!(status.reason, "Unauthorized", "{status:?}");
        }
        other => panic!("expected a 401 Status, got {other:?}"),
    }

    // A client that does not trust the CA does not get through the handshake.
    let (ok, _, err) = kubectl(
        &server,
        &["--certificate-authority", "/dev/null", "get", "namespaces"],
    );
    assert!(!ok);
    assert!(err.contains("certificate") || err.contains("x509"), "{err}");
}

#[test]
fn kube_rs_lists_namespaces_through_the_written_kubeconfig() {
    // No kubectl needed: kube-rs is a dependency.
    let server = start(&["--time-scale", "0"]);
    let k = Kube::new(&server.kubeconfig, true);
    let names: Vec<String> = k.rt.block_on(async {
        let api: kube::Api<k8s_openapi::api::core::v1::Namespace> =
            kube::Api::all(k.client.clone());
        let list = tokio::time::timeout(DEADLINE, api.list(&Default::default()))
            .await
            .expect("answers in time")
            .expect("lists namespaces");
        list.items
            .into_iter()
            .filter_map(|n| n.metadata.name)
            .collect()
    });
    assert_eq!(
        names,
        ["default", "kube-node-lease", "kube-public", "kube-system"]
    );
}

#[test]
fn over_plain_http_the_token_is_required_and_kubectl_sends_none() {
    if !kubectl_available() {
        eprintln!("skipped: kubectl is not on PATH");
        return;
    }
    let server = start(&["--time-scale", "0", "--insecure-http"]);
    assert!(server.url.starts_with("http://"), "{}", server.url);
    let t = token(&server.kubeconfig);
    let (code, body) = http(&server, "GET", "/api/v1/pods", None);
    assert_eq!(code, 401, "{body}");
    assert!(body.contains("\"reason\":\"Unauthorized\""), "{body}");
    let (code, body) = http(&server, "GET", "/api/v1/pods", Some("wrong"));
    assert_eq!(code, 401, "{body}");
    let (code, body) = http(&server, "GET", "/api/v1/pods", Some(&t));
    assert_eq!(code, 200, "{body}");
    // client-go's clientcmd reads a user's credentials only for TLS transports, so kubectl is
    // refused here (see `kubespec serve --help`: `--insecure-http` wants `--no-auth`).
    let (ok, _, err) = kubectl(&server, &["get", "pods"]);
    assert!(!ok);
    assert!(err.contains("provide credentials"), "{err}");
    drop(server);
    let server = start(&["--time-scale", "0", "--insecure-http", "--no-auth"]);
    must(&server, &["get", "pods"]);
}

/// What `kubectl rollout status` may print for a Deployment, from kubectl's
/// `DeploymentStatusViewer.Status` (staging/src/k8s.io/kubectl/pkg/polymorphichelpers/
/// rollout_status.go), in the order of its checks.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Clone, Copy)]
enum RolloutLine {
    /// `Generation > status.observedGeneration`.
    SpecUpdate,
    /// `status.updatedReplicas < spec.replicas`.
    Updated {
        updated: u32,
    },
    /// `status.replicas > status.updatedReplicas`: the old pods still counted.
    OldPending {
        old: u32,
    },
    /// `status.availableReplicas < status.updatedReplicas`.
    Available {
        available: u32,
        updated: u32,
    },
    Done,
}

fn parse_rollout_line(line: &str, name: &str, replicas: u32) -> Option<RolloutLine> {
    if line == "Waiting for deployment spec update to be observed..." {
        return Some(RolloutLine::SpecUpdate);
    }
    if line == format!("deployment \"{name}\" successfully rolled out") {
        return Some(RolloutLine::Done);
    }
    let rest = line.strip_prefix(&format!(
        "Waiting for deployment \"{name}\" rollout to finish: "
    ))?;
    let words: Vec<&str> = rest.split(' ').collect();
    let num = |i: usize| words.get(i).and_then(|w| w.parse::<u32>().ok());
    match words.as_slice() {
        [
            _,
            "out",
            "of",
            _,
            "new",
            "replicas",
            "have",
            "been",
            "updated...",
        ] if num(3) == Some(replicas) => {
            let updated = num(0)?;
            (updated < replicas).then_some(RolloutLine::Updated { updated })
        }
        [_, "old", "replicas", "are", "pending", "termination..."] => {
            let old = num(0)?;
            (old > 0).then_some(RolloutLine::OldPending { old })
        }
        [_, "of", _, "updated", "replicas", "are", "available..."] => {
            let (available, updated) = (num(0)?, num(2)?);
            (available < updated && updated >= replicas)
                .then_some(RolloutLine::Available { available, updated })
        }
        _ => None,
    }
}

/// Checks that `out` is a sequence `kubectl rollout status` can print for one rollout of a
/// Deployment with `replicas` replicas and at most `max_surge` extra pods: every line is one of
/// kubectl's messages with numbers in range, the rollout only moves forward (the viewer's stage,
/// and within a stage the updated count, never go back; repeats are allowed, since kubectl prints
/// once per watch event), and the last line, only the last, says it rolled out.
fn check_rollout_lines(out: &str, name: &str, replicas: u32, max_surge: u32) -> Result<(), String> {
    let lines: Vec<&str> = out.lines().collect();
    let mut parsed = Vec::new();
    for line in &lines {
        let p = parse_rollout_line(line, name, replicas)
            .ok_or_else(|| format!("not a rollout status line: {line:?}"))?;
        if let RolloutLine::OldPending { old } = p
            && old > replicas + max_surge
        {
            return Err(format!("more old pods than replicas + maxSurge: {line:?}"));
        }
        parsed.push(p);
    }
    if parsed.last() != Some(&RolloutLine::Done) {
        return Err("the last line does not say the rollout finished".into());
    }
    if parsed[..parsed.len() - 1].contains(&RolloutLine::Done) {
        return Err("a line before the last says the rollout finished".into());
    }
    let stage = |p: &RolloutLine| match p {
        RolloutLine::SpecUpdate => 0,
        RolloutLine::Updated { .. } => 1,
        RolloutLine::OldPending { .. } => 2,
        RolloutLine::Available { .. } => 3,
        RolloutLine::Done => 4,
    };
    for pair in parsed.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let back = stage(&b) < stage(&a)
            || matches!((a, b), (RolloutLine::Updated { updated: x }, RolloutLine::Updated { updated: y }) if y < x);
        if back {
            return Err(format!("the rollout went back from {a:?} to {b:?}"));
        }
    }
    Ok(())
}

#[test]
fn rollout_status_lines_are_checked_against_kubectls_rules() {
    let ok = "Waiting for deployment \"nginx\" rollout to finish: 1 out of 2 new replicas have been updated...\n\
              Waiting for deployment \"nginx\" rollout to finish: 1 out of 2 new replicas have been updated...\n\
              Waiting for deployment \"nginx\" rollout to finish: 1 old replicas are pending termination...\n\
              Waiting for deployment \"nginx\" rollout to finish: 1 of 2 updated replicas are available...\n\
              deployment \"nginx\" successfully rolled out\n";
    assert_eq!(check_rollout_lines(ok, "nginx", 2, 1), Ok(()));
    for bad in [
        // Never finishes.
        "Waiting for deployment \"nginx\" rollout to finish: 1 out of 2 new replicas have been updated...\n",
        // Goes back.
        "Waiting for deployment \"nginx\" rollout to finish: 1 old replicas are pending termination...\n\
         Waiting for deployment \"nginx\" rollout to finish: 1 out of 2 new replicas have been updated...\n\
         deployment \"nginx\" successfully rolled out\n",
        // Numbers out of range: 2 of 2 is not waiting; 4 old pods with 2 replicas and surge 1.
        "Waiting for deployment \"nginx\" rollout to finish: 2 out of 2 new replicas have been updated...\n\
         deployment \"nginx\" successfully rolled out\n",
        "Waiting for deployment \"nginx\" rollout to finish: 4 old replicas are pending termination...\n\
         deployment \"nginx\" successfully rolled out\n",
        // Another deployment's name.
        "deployment \"web\" successfully rolled out\n",
    ] {
        assert!(check_rollout_lines(bad, "nginx", 2, 1).is_err(), "{bad}");
    }
}

/// Runs `kubectl rollout status` and, once it has printed its first line (so that line shows
/// the state the test left, whatever the machine's speed), moves time on in `step`s until it
/// exits; returns its stdout once it exits successfully.
fn rollout_status_while_advancing(server: &Server, k: &Kube, step: &str) -> String {
    let mut child = kubectl_command(server)
        .args(["rollout", "status", "deployment", "nginx", "--timeout=80s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl runs");
    let (stdout, mut stderr) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    let out_t = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let started = rx.recv_timeout(DEADLINE).is_ok();
    // Bounded: at most 300 steps, then kubectl gets the rest of its deadline.
    let mut status = None;
    if started {
        for _ in 0..300 {
            status = child.try_wait().unwrap();
            if status.is_some() {
                break;
            }
            k.advance(step);
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let begin = Instant::now();
    while status.is_none() && begin.elapsed() < DEADLINE {
        std::thread::sleep(Duration::from_millis(50));
        status = child.try_wait().unwrap();
    }
    let timed_out = status.is_none();
    if timed_out {
        let _ = child.kill();
    }
    let status = child.wait().unwrap();
    let (out, err) = (out_t.join().unwrap(), err_t.join().unwrap());
    assert!(
        !timed_out && status.success(),
        "kubectl rollout status failed ({status}{}):\nstdout:\n{out}\nstderr:\n{err}",
        if timed_out {
            ", killed at the deadline"
        } else {
            ""
        }
    );
    out
}

#[test]
fn kubectl_rollout_workflow() {
    if !kubectl_available() {
        eprintln!("skipped: kubectl is not on PATH");
        return;
    }
    let server = start(&["--time-scale", "0"]);
    let k = Kube::new(&server.kubeconfig, true);
    let manifest = write(&server, "nginx.yaml", NGINX);

    // kubectl apply, validating against the server's OpenAPI documents.
    let out = must(&server, &["apply", "-f", &manifest]);
    assert_eq!(out.trim(), "deployment.apps/nginx created");
    k.advance("2m");
    let out = must(
        &server,
        &["rollout", "status", "deployment", "nginx", "--timeout=60s"],
    );
    assert_eq!(out, "deployment \"nginx\" successfully rolled out\n");

    // kubectl get deployment -o wide: the header and the row.
    let out = must(&server, &["get", "deployment", "-o", "wide"]);
    let rows: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 2, "{out}");
    assert_eq!(
        rows[0],
        [
            "NAME",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "AGE",
            "CONTAINERS",
            "IMAGES",
            "SELECTOR"
        ],
        "{out}"
    );
    assert_eq!(rows[1].len(), 8, "{out}");
    assert_eq!(
        [rows[1][0], rows[1][1], rows[1][2], rows[1][3]],
        ["nginx", "2/2", "2", "2"],
        "{out}"
    );
    assert_eq!(
        [rows[1][5], rows[1][6], rows[1][7]],
        ["nginx", "nginx:1.10", "app=nginx"],
        "{out}"
    );

    // A second apply of a changed manifest: client-side apply sends a three-way strategic
    // merge patch. Nothing in the pod template changes, so no rollout starts.
    let changed = NGINX
        .replacen(
            "    app: nginx\nspec:",
            "    app: nginx\n    tier: web\nspec:",
            1,
        )
        .replacen(
            "  replicas: 2\n",
            "  replicas: 2\n  revisionHistoryLimit: 5\n",
            1,
        );
    assert_ne!(changed, NGINX);
    let changed = write(&server, "nginx-changed.yaml", &changed);
    let out = must(&server, &["apply", "-f", &changed]);
    assert_eq!(out.trim(), "deployment.apps/nginx configured");
    let out = jsonpath(
        &server,
        &["deployment", "nginx"],
        "{.metadata.labels.tier} {.spec.revisionHistoryLimit} {.metadata.generation}",
    );
    assert_eq!(out, "web 5 2");

    // kubectl set image, then rollout status, every line checked. With 2 replicas, maxSurge
    // 25% rounds up to 1 and maxUnavailable 25% down to 0, so the engine first scales the new
    // ReplicaSet to 1 (2 old + 1 new = 3 = replicas + maxSurge) and waits, time being frozen,
    // for that pod: kubectl's first line is "1 out of 2 new replicas have been updated". As
    // time moves: the new pod is available, old 2 -> 1, new 1 -> 2 ("1 old replicas are
    // pending termination"), then old 1 -> 0 once the second new pod is available: done.
    let out = must(
        &server,
        &["set", "image", "deployment/nginx", "nginx=nginx:1.11"],
    );
    assert_eq!(out.trim(), "deployment.apps/nginx image updated");
    let out = rollout_status_while_advancing(&server, &k, "1s");
    assert_eq!(
        out.lines().next(),
        Some(
            "Waiting for deployment \"nginx\" rollout to finish: 1 out of 2 new replicas have been updated..."
        ),
        "{out}"
    );
    if let Err(e) = check_rollout_lines(&out, "nginx", 2, 1) {
        panic!("kubectl rollout status printed an impossible sequence: {e}\n{out}");
    }

    // kubectl rollout history, and one revision.
    let out = must(&server, &["rollout", "history", "deployment", "nginx"]);
    let lines: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        lines,
        [
            vec!["deployment.apps/nginx"],
            vec!["REVISION", "CHANGE-CAUSE"],
            vec!["1", "<none>"],
            vec!["2", "<none>"],
            vec![],
        ],
        "{out}"
    );
    let out = must(
        &server,
        &[
            "rollout",
            "history",
            "deployment",
            "nginx",
            "--revision",
            "2",
        ],
    );
    assert!(
        out.starts_with("deployment.apps/nginx with revision #2\n"),
        "{out}"
    );
    assert!(out.contains("Image:\tnginx:1.11\n"), "{out}");
    assert!(out.contains("pod-template-hash="), "{out}");
    let (ok, out, err) = kubectl(
        &server,
        &[
            "rollout",
            "history",
            "deployment",
            "nginx",
            "--revision",
            "7",
        ],
    );
    assert!(!ok, "{out}");
    assert!(
        err.contains("unable to find the specified revision"),
        "{err}"
    );

    // The ReplicaSets of the first two revisions, for the events below.
    let rs_of = |revision: &str| {
        let out = jsonpath(
            &server,
            &["replicasets"],
            "{range .items[*]}{.metadata.name} {.metadata.annotations.deployment\\.kubernetes\\.io/revision}{\"\\n\"}{end}",
        );
        out.lines()
            .find_map(|l| l.strip_suffix(&format!(" {revision}")).map(str::to_string))
            .unwrap_or_else(|| panic!("no ReplicaSet of revision {revision}:\n{out}"))
    };
    let (rs1, rs2) = (rs_of("1"), rs_of("2"));

    // kubectl rollout undo to revision 1: the template of nginx:1.10 comes back.
    let out = must(
        &server,
        &[
            "rollout",
            "undo",
            "deployment",
            "nginx",
            "--to-revision",
            "1",
        ],
    );
    assert_eq!(out.trim(), "deployment.apps/nginx rolled back");
    let out = rollout_status_while_advancing(&server, &k, "1s");
    if let Err(e) = check_rollout_lines(&out, "nginx", 2, 1) {
        panic!("kubectl rollout status printed an impossible sequence: {e}\n{out}");
    }
    let out = jsonpath(
        &server,
        &["deployment", "nginx"],
        "{.spec.template.spec.containers[0].image}",
    );
    assert_eq!(out, "nginx:1.10");

    // kubectl rollout pause: a change to the template waits; resume rolls it out.
    let out = must(&server, &["rollout", "pause", "deployment", "nginx"]);
    assert_eq!(out.trim(), "deployment.apps/nginx paused");
    must(
        &server,
        &["set", "image", "deployment/nginx", "nginx=nginx:1.12"],
    );
    k.advance("2m");
    let images = || {
        jsonpath(
            &server,
            &["pods"],
            "{range .items[*]}{.spec.containers[0].image}{\"\\n\"}{end}",
        )
    };
    let out = images();
    assert!(
        !out.is_empty() && out.lines().all(|l| l == "nginx:1.10"),
        "a paused deployment rolled:\n{out}"
    );
    let out = must(&server, &["rollout", "resume", "deployment", "nginx"]);
    assert_eq!(out.trim(), "deployment.apps/nginx resumed");
    let out = rollout_status_while_advancing(&server, &k, "1s");
    if let Err(e) = check_rollout_lines(&out, "nginx", 2, 1) {
        panic!("kubectl rollout status printed an impossible sequence: {e}\n{out}");
    }

    // kubectl scale.
    let out = must(
        &server,
        &["scale", "deployment", "nginx", "--replicas", "3"],
    );
    assert_eq!(out.trim(), "deployment.apps/nginx scaled");
    let ready = advance_until(&k, "5s", 60, || {
        jsonpath(&server, &["deployment", "nginx"], "{.status.readyReplicas}") == "3"
    });
    assert!(
        ready,
        "{}",
        must(&server, &["get", "deployment", "nginx", "-o", "yaml"])
    );

    // kubectl get pods -o jsonpath, the example from the issue.
    let out = must(
        &server,
        &[
            "get",
            "pods",
            "-o",
            "jsonpath={range .items[*]}{.metadata.name}{\"\\t\"}{.spec.containers[0].image}{\"\\n\"}{end}",
        ],
    );
    let pods: Vec<&str> = out.lines().collect();
    assert_eq!(pods.len(), 3, "{out}");
    assert!(
        pods.iter()
            .all(|l| l.starts_with("nginx-") && l.ends_with("\tnginx:1.12")),
        "{out}"
    );

    // kubectl describe: the events of the first rollout, as the deployment controller words
    // them (the "from N to M" form upstream uses since 1.30).
    let out = must(&server, &["describe", "deployment", "nginx"]);
    let events = out.split_once("\nEvents:\n").map_or("", |(_, e)| e);
    for message in [
        format!("Scaled up replica set {rs1} from 0 to 2"),
        format!("Scaled up replica set {rs2} from 0 to 1"),
        format!("Scaled down replica set {rs1} from 2 to 1"),
        format!("Scaled up replica set {rs2} from 1 to 2"),
        format!("Scaled down replica set {rs1} from 1 to 0"),
    ] {
        assert!(
            events
                .lines()
                .any(|l| l.contains("ScalingReplicaSet") && l.ends_with(&message)),
            "no event {message:?} in:\n{out}"
        );
    }
    assert!(
        out.contains(
            "Replicas:               3 desired | 3 updated | 3 total | 3 available | 0 unavailable"
        ),
        "{out}"
    );

    // kubectl delete: background propagation takes the ReplicaSets and the pods with it.
    let out = must(&server, &["delete", "deployment", "nginx", "--timeout=60s"]);
    assert_eq!(out.trim(), "deployment.apps \"nginx\" deleted");
    let gone = advance_until(&k, "10s", 30, || {
        let (ok, out, err) = kubectl(&server, &["get", "replicasets,pods", "-l", "app=nginx"]);
        ok && out.trim().is_empty() && err.contains("No resources found")
    });
    assert!(gone, "{}", must(&server, &["get", "all"]));
}

#[test]
fn kubectl_server_side_apply_and_explain() {
    if !kubectl_available() {
        eprintln!("skipped: kubectl is not on PATH");
        return;
    }
    let server = start(&["--time-scale", "0"]);
    let manifest = write(&server, "nginx.yaml", NGINX);
    let out = must(&server, &["apply", "--server-side", "-f", &manifest]);
    assert_eq!(out.trim(), "deployment.apps/nginx serverside-applied");
    let out = jsonpath(
        &server,
        &["deployment", "nginx"],
        "{range .metadata.managedFields[*]}{.manager}/{.operation}{\"\\n\"}{end}",
    );
    assert!(out.lines().any(|l| l == "kubectl/Apply"), "{out}");

    // A field another manager set conflicts, until the apply forces it.
    let three = write(
        &server,
        "three.yaml",
        &NGINX.replace("replicas: 2", "replicas: 3"),
    );
    must(&server, &["apply", "-f", &three]);
    let (ok, out, err) = kubectl(&server, &["apply", "--server-side", "-f", &manifest]);
    assert!(!ok, "{out}");
    assert!(err.contains("Apply failed with 1 conflict"), "{err}");
    assert!(err.contains(".spec.replicas"), "{err}");
    let out = must(
        &server,
        &[
            "apply",
            "--server-side",
            "--force-conflicts",
            "-f",
            &manifest,
        ],
    );
    assert_eq!(out.trim(), "deployment.apps/nginx serverside-applied");
    assert_eq!(
        jsonpath(&server, &["deployment", "nginx"], "{.spec.replicas}"),
        "2"
    );

    // kubectl explain reads the server's OpenAPI v3 documents.
    let out = must(&server, &["explain", "deployment.spec.strategy"]);
    assert!(out.contains("KIND:       Deployment\n"), "{out}");
    assert!(out.contains("VERSION:    v1\n"), "{out}");
    assert!(
        out.contains("FIELD: strategy <DeploymentStrategy>"),
        "{out}"
    );
    assert!(
        out.contains("rollingUpdate\t<RollingUpdateDeployment>"),
        "{out}"
    );
    assert!(out.contains("type\t<string>"), "{out}");
}

#[test]
fn a_bad_manifest_given_to_apply_is_refused_with_its_file_and_line() {
    let dir = std::env::temp_dir().join(format!("kubespec-serve-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.yaml");
    std::fs::write(
        &file,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: -1\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers: [{name: app, image: nginx}]\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kubespec"))
        .args(["serve", "--port", "0", "--apply"])
        .arg(&file)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(2));
    // miette wraps the message in a box; join its lines back up.
    let err = String::from_utf8_lossy(&out.stderr);
    let flat: Vec<&str> = err
        .split_whitespace()
        .filter(|w| !matches!(*w, "│" | "×"))
        .collect();
    let flat = flat.join(" ");
    assert!(
        flat.contains("bad.yaml:6: Deployment \"web\": Deployment.apps \"web\" is invalid: spec.replicas: Invalid value: -1"),
        "{err}"
    );
}

#[test]
fn kubectl_rollout_undo_reuses_the_old_revisions_replica_set() {
    if !kubectl_available() {
        eprintln!("skipped: kubectl is not on PATH");
        return;
    }
    let server = start(&["--time-scale", "0"]);
    let k = Kube::new(&server.kubeconfig, true);
    let manifest = write(&server, "nginx.yaml", NGINX);
    must(&server, &["apply", "-f", &manifest]);
    k.advance("2m");
    must(
        &server,
        &["set", "image", "deployment/nginx", "nginx=nginx:1.11"],
    );
    rollout_status_while_advancing(&server, &k, "1s");
    let out = must(
        &server,
        &[
            "rollout",
            "undo",
            "deployment",
            "nginx",
            "--to-revision",
            "1",
        ],
    );
    assert_eq!(out.trim(), "deployment.apps/nginx rolled back");
    rollout_status_while_advancing(&server, &k, "1s");
    // Upstream (rollback.go, FindNewReplicaSet): revision 1's ReplicaSet is the new one again
    // and takes revision 3; no third ReplicaSet appears.
    let out = jsonpath(
        &server,
        &["replicasets"],
        "{range .items[*]}{.metadata.annotations.deployment\\.kubernetes\\.io/revision} {.spec.template.spec.containers[0].image}{\"\\n\"}{end}",
    );
    let mut revisions: Vec<&str> = out.lines().collect();
    revisions.sort();
    assert_eq!(revisions, ["2 nginx:1.11", "3 nginx:1.10"], "{out}");
    let out = must(&server, &["rollout", "history", "deployment", "nginx"]);
    let rows: Vec<&str> = out
        .lines()
        .skip(2)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(rows, ["2", "3"], "{out}");
}

#[test]
fn kubectl_delete_cascade_foreground_waits_for_dependents_and_orphan_keeps_them() {
    if !kubectl_available() {
        eprintln!("skipped: kubectl is not on PATH");
        return;
    }
    let server = start(&["--time-scale", "0"]);
    let k = Kube::new(&server.kubeconfig, true);
    let manifest = write(&server, "nginx.yaml", NGINX);
    must(&server, &["apply", "-f", &manifest]);
    k.advance("1m");

    // Foreground: the Deployment stays, with the finalizer, while its pods terminate.
    let out = must(
        &server,
        &[
            "delete",
            "deployment",
            "nginx",
            "--cascade=foreground",
            "--wait=false",
        ],
    );
    assert_eq!(out.trim(), "deployment.apps \"nginx\" deleted");
    let out = jsonpath(
        &server,
        &["deployment", "nginx"],
        "{.metadata.finalizers[*]} {.metadata.deletionTimestamp}",
    );
    assert!(out.starts_with("foregroundDeletion 20"), "{out}");
    let out = jsonpath(
        &server,
        &["replicasets", "-l", "app=nginx"],
        "{.items[*].metadata.finalizers[*]}",
    );
    assert_eq!(out, "foregroundDeletion");
    let gone = advance_until(&k, "10s", 30, || {
        let (ok, out, err) = kubectl(&server, &["get", "deployments,replicasets,pods"]);
        ok && out.trim().is_empty() && err.contains("No resources found")
    });
    assert!(gone, "{}", must(&server, &["get", "all"]));

    // Orphan: the ReplicaSet and its pods stay, without the owner reference.
    must(&server, &["apply", "-f", &manifest]);
    k.advance("1m");
    let out = must(
        &server,
        &["delete", "deployment", "nginx", "--cascade=orphan"],
    );
    assert_eq!(out.trim(), "deployment.apps \"nginx\" deleted");
    k.advance("1m");
    let out = jsonpath(
        &server,
        &["replicasets", "-l", "app=nginx"],
        "{.items[*].metadata.ownerReferences}",
    );
    assert_eq!(out, "");
    let out = must(&server, &["get", "pods", "-l", "app=nginx", "--no-headers"]);
    assert_eq!(out.lines().count(), 2, "{out}");
}

#[test]
fn kubectl_server_dry_run_and_diff_change_nothing() {
    if !kubectl_available() {
        eprintln!("skipped: kubectl is not on PATH");
        return;
    }
    let server = start(&["--time-scale", "0"]);
    let manifest = write(&server, "nginx.yaml", NGINX);
    let out = must(&server, &["apply", "--dry-run=server", "-f", &manifest]);
    assert_eq!(out.trim(), "deployment.apps/nginx created (server dry run)");
    let (ok, _, err) = kubectl(&server, &["get", "deployment", "nginx"]);
    assert!(!ok && err.contains("not found"), "{err}");

    must(&server, &["apply", "-f", &manifest]);
    // kubectl diff: a server-side dry run of the change; exit code 1 means "differences".
    let three = write(
        &server,
        "three.yaml",
        &NGINX.replace("replicas: 2", "replicas: 3"),
    );
    let (ok, out, err) = kubectl(&server, &["diff", "-f", &three]);
    assert!(!ok, "diff exits 1 when there are differences: {out}{err}");
    assert!(
        out.lines().any(|l| l.trim() == "-  replicas: 2")
            && out.lines().any(|l| l.trim() == "+  replicas: 3"),
        "{out}{err}"
    );
    let (ok, out, err) = kubectl(&server, &["diff", "-f", &manifest]);
    assert!(ok, "no differences: {out}{err}");
    let out = jsonpath(&server, &["deployment", "nginx"], "{.spec.replicas}");
    assert_eq!(out, "2");
    let out = must(
        &server,
        &["delete", "deployment", "nginx", "--dry-run=server"],
    );
    assert_eq!(
        out.trim(),
        "deployment.apps \"nginx\" deleted (server dry run)"
    );
    let out = jsonpath(&server, &["deployment", "nginx"], "{.metadata.name}");
    assert_eq!(out, "nginx");
}
