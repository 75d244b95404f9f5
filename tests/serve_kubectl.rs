//! The real `kubectl` against `kubespec serve`, when kubectl is on PATH (otherwise the test
//! prints why and passes). It replays the workflow users run by hand: apply, get, rollout
//! status, scale, delete. Every command runs under a deadline; nothing asserts on durations.

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
fn kubectl(server: &Server, args: &[&str]) -> (bool, String, String) {
    let mut child = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&server.kubeconfig)
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

/// A raw HTTP/1.1 request to the server; returns the status code and body.
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

/// kubectl 1.32 validates manifests against the server's OpenAPI documents, which the server
/// does not serve yet; `--validate=false` skips that (kubectl otherwise says "failed to download
/// openapi").
const NO_VALIDATE: &str = "--validate=false";

#[test]
fn the_bearer_token_is_required_and_kubectl_sends_none_over_plain_http() {
    if !kubectl_available() {
        eprintln!("skipped: kubectl is not on PATH");
        return;
    }
    let server = start(&["--time-scale", "0"]);
    let t = token(&server.kubeconfig);
    let (code, body) = http(&server, "GET", "/api/v1/pods", None);
    assert_eq!(code, 401, "{body}");
    assert!(body.contains("\"reason\":\"Unauthorized\""), "{body}");
    let (code, body) = http(&server, "GET", "/api/v1/pods", Some("wrong"));
    assert_eq!(code, 401, "{body}");
    let (code, body) = http(&server, "GET", "/api/v1/pods", Some(&t));
    assert_eq!(code, 200, "{body}");
    // client-go's clientcmd reads a user's credentials only for TLS transports, so kubectl is
    // refused here; `--no-auth` is for kubectl (see `kubespec serve --help`).
    let (ok, _, err) = kubectl(&server, &["get", "pods"]);
    assert!(!ok);
    assert!(err.contains("provide credentials"), "{err}");
}

#[test]
fn kubectl_apply_get_rollout_scale_and_delete() {
    if !kubectl_available() {
        eprintln!("skipped: kubectl is not on PATH");
        return;
    }
    let server = start(&["--time-scale", "0", "--no-auth"]);
    let manifest = server.dir.join("nginx.yaml");
    std::fs::write(&manifest, NGINX).unwrap();

    let out = must(
        &server,
        &["apply", NO_VALIDATE, "-f", manifest.to_str().unwrap()],
    );
    assert_eq!(out.trim(), "deployment.apps/nginx created");

    let out = must(&server, &["get", "deployment", "-o", "wide"]);
    assert!(
        out.lines().nth(1).is_some_and(|l| l.starts_with("nginx ")),
        "{out}"
    );

    // Time is frozen: move it on, then the rollout is complete.
    let (code, body) = http(&server, "POST", "/kubespec/v1/advance?by=2m", None);
    assert_eq!(code, 200, "{body}");
    let out = must(
        &server,
        &["rollout", "status", "deployment", "nginx", "--timeout=60s"],
    );
    assert_eq!(
        out.lines().last(),
        Some("deployment \"nginx\" successfully rolled out"),
        "{out}"
    );

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
    assert_eq!(pods.len(), 2, "{out}");
    assert!(
        pods.iter()
            .all(|l| l.starts_with("nginx-") && l.ends_with("\tnginx:1.10")),
        "{out}"
    );
    let out = must(&server, &["get", "pods"]);
    assert_eq!(
        out.lines().filter(|l| l.starts_with("nginx-")).count(),
        2,
        "{out}"
    );

    let out = must(
        &server,
        &["scale", "deployment", "nginx", "--replicas", "3"],
    );
    assert_eq!(out.trim(), "deployment.apps/nginx scaled");
    let (code, body) = http(&server, "POST", "/kubespec/v1/advance?by=1m", None);
    assert_eq!(code, 200, "{body}");
    let out = must(
        &server,
        &["rollout", "status", "deployment", "nginx", "--timeout=60s"],
    );
    assert_eq!(
        out.lines().last(),
        Some("deployment \"nginx\" successfully rolled out"),
        "{out}"
    );
    let out = must(
        &server,
        &[
            "get",
            "deployment",
            "nginx",
            "-o",
            "jsonpath={.status.readyReplicas}",
        ],
    );
    assert_eq!(out.trim(), "3");
    let out = must(&server, &["describe", "deployment", "nginx"]);
    assert!(out.contains("Scaled up replica set nginx-"), "{out}");

    // A new image. `kubectl set image` sends a strategic merge patch, which the server does not
    // take yet (415), so the same change goes as a merge patch.
    let (ok, _, err) = kubectl(
        &server,
        &["set", "image", "deployment/nginx", "nginx=nginx:1.11"],
    );
    assert!(!ok && err.contains("strategic merge patch"), "{err}");
    let out = must(
        &server,
        &[
            "patch",
            "deployment",
            "nginx",
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.11"}]}}}}"#,
        ],
    );
    assert_eq!(out.trim(), "deployment.apps/nginx patched");
    let (code, body) = http(&server, "POST", "/kubespec/v1/advance?by=2m", None);
    assert_eq!(code, 200, "{body}");
    let out = must(
        &server,
        &["rollout", "status", "deployment", "nginx", "--timeout=60s"],
    );
    assert_eq!(
        out.lines().last(),
        Some("deployment \"nginx\" successfully rolled out"),
        "{out}"
    );
    let out = must(&server, &["rollout", "history", "deployment", "nginx"]);
    let revisions: Vec<&str> = out
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| w.parse::<u32>().is_ok())
        .collect();
    assert_eq!(revisions, vec!["1", "2"], "{out}");
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
    assert!(out.contains("Image:\tnginx:1.11"), "{out}");
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
    let (code, body) = http(&server, "POST", "/kubespec/v1/advance?by=2m", None);
    assert_eq!(code, 200, "{body}");
    let out = must(
        &server,
        &[
            "get",
            "pods",
            "-o",
            "jsonpath={range .items[*]}{.spec.containers[0].image}{\"\\n\"}{end}",
        ],
    );
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        vec!["nginx:1.10"; 3],
        "{out}"
    );

    let out = must(&server, &["delete", "deployment", "nginx", "--timeout=60s"]);
    assert_eq!(out.trim(), "deployment.apps \"nginx\" deleted");
    let (ok, out, err) = kubectl(&server, &["get", "deployments"]);
    assert!(ok, "{err}");
    assert!(out.trim().is_empty(), "{out}");
    assert!(
        err.contains("No resources found in default namespace."),
        "{err}"
    );
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
