//! The cluster backend against `kubespec serve`: in process (a served engine per scenario,
//! `--backend served`) and over loopback (a `kubespec serve` process, its kubeconfig, TLS and
//! the bearer token, `--backend cluster`). CI has no Docker, so this is how the kube-rs code path
//! that talks to real clusters is tested.

use assert_cmd::cargo::cargo_bin_cmd;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// `58 scenarios (58 passed)` → (58, 58); `None` when other outcomes are listed.
fn parse_summary(stdout: &str) -> Option<(usize, usize)> {
    let line = stdout.lines().find(|l| l.contains(" scenarios ("))?;
    let (ran, rest) = line.trim().split_once(" scenarios (")?;
    let passed = rest.strip_suffix(" passed)")?;
    Some((ran.trim().parse().ok()?, passed.trim().parse().ok()?))
}

fn count_scenarios(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .expect("the folder exists")
        .flatten()
        .map(|e| {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "feature") {
                count_scenarios_in(&p)
            } else {
                0
            }
        })
        .sum()
}

#[test]
fn the_deployment_suite_passes_on_served_engines_in_process_with_nothing_skipped() {
    let root = env!("CARGO_MANIFEST_DIR");
    // "N scenarios (N passed)": a skipped or failed scenario would be listed in the summary.
    let (ran, _, stderr) = all_pass_with(&["features/deployment", "--backend", "served"], None);
    let expected = count_scenarios(&Path::new(root).join("features/deployment"));
    assert!(expected >= 58, "{expected}");
    assert_eq!(ran, expected, "every scenario of features/deployment ran");
    assert!(!stderr.contains("skipped:"), "{stderr}");
}

/// The scenarios of every feature under `dir`, recursively.
fn count_scenarios_under(dir: &Path) -> usize {
    let mut n = count_scenarios(dir);
    for e in std::fs::read_dir(dir).expect("the folder exists").flatten() {
        if e.path().is_dir() {
            n += count_scenarios_under(&e.path());
        }
    }
    n
}

#[test]
fn the_whole_suite_passes_on_served_engines_in_process_with_nothing_skipped() {
    // Every feature, the controllers' and the autoscaling/v1 HPA's included: on a served
    // engine every step is honoured, so a skip is as much a failure here as a failed step.
    let root = env!("CARGO_MANIFEST_DIR");
    let started = std::time::Instant::now();
    let (ran, _, stderr) = all_pass_with(&["features", "--backend", "served"], None);
    let took = started.elapsed();
    let expected = count_scenarios_under(&Path::new(root).join("features"));
    assert!(expected >= 200, "{expected}");
    assert_eq!(ran, expected, "every scenario of features/ ran");
    assert!(!stderr.contains("skipped:"), "{stderr}");
    eprintln!("{ran} scenarios passed on --backend served in {took:?}");
}

#[test]
fn a_context_kubespec_did_not_start_is_refused() {
    let dir = temp_dir("refuse");
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: prod\n  cluster:\n    server: \
         https://10.0.0.1:6443\nusers:\n- name: admin\n  user:\n    token: secret\ncontexts:\n\
         - name: prod\n  context:\n    cluster: prod\n    user: admin\ncurrent-context: prod\n",
    )
    .unwrap();
    let (code, _, stderr) = outcome(
        kubespec_run()
            .args(["features/deployment/undo.feature", "--backend", "cluster"])
            .arg("--kubeconfig")
            .arg(&kubeconfig),
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("refusing to run against context \"prod\""),
        "{stderr}"
    );
    assert!(stderr.contains("--allow-context"), "{stderr}");
    let _ = std::fs::remove_dir_all(dir);
}

/// `kubespec run` from the repository root, without colours: add the arguments, then run it
/// with [`outcome`].
fn kubespec_run() -> assert_cmd::Command {
    let mut cmd = cargo_bin_cmd!("kubespec");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .arg("run");
    cmd
}

/// Runs a command: its exit code, standard output and standard error.
fn outcome(cmd: &mut assert_cmd::Command) -> (Option<i32>, String, String) {
    let out = cmd.output().expect("run kubespec");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn temp_dir(what: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "kubespec-cluster-test-{what}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A `kubespec serve` process (HTTPS and a token by default); killed on drop.
struct Server {
    child: Child,
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

fn serve(extra: &[&str]) -> Server {
    let dir = temp_dir("serve");
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
        for _ in lines {}
    });
    let first = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("kubespec serve prints its address");
    assert!(first.starts_with("listening on https://"), "{first}");
    Server {
        child,
        kubeconfig,
        dir,
    }
}

/// A kube-rs client of the server, through the kubeconfig it wrote.
struct Kube {
    rt: tokio::runtime::Runtime,
    client: kube::Client,
}

impl Kube {
    fn new(kubeconfig: &Path) -> Kube {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let client = rt.block_on(async {
            let kc = kube::config::Kubeconfig::read_from(kubeconfig).unwrap();
            let config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
                .await
                .unwrap();
            kube::Client::try_from(config).unwrap()
        });
        Kube { rt, client }
    }

    /// The namespaces the server has.
    fn namespaces(&self) -> Vec<String> {
        let api: kube::Api<k8s_openapi::api::core::v1::Namespace> =
            kube::Api::all(self.client.clone());
        self.rt
            .block_on(api.list(&Default::default()))
            .unwrap()
            .items
            .into_iter()
            .filter_map(|n| n.metadata.name)
            .collect()
    }
}

/// `kubespec run <args> --kubeconfig <the server's>` from the repository root: it must exit 0
/// with every scenario passed. Returns the number of scenarios, stdout and stderr.
fn all_pass(server: &Server, args: &[&str]) -> (usize, String, String) {
    all_pass_with(args, Some(&server.kubeconfig))
}

/// `kubespec run <args>` from the repository root, with `--kubeconfig` when given: it must
/// exit 0 with every scenario passed. Returns the number of scenarios, stdout and stderr.
fn all_pass_with(args: &[&str], kubeconfig: Option<&Path>) -> (usize, String, String) {
    let mut cmd = kubespec_run();
    cmd.args(args);
    if let Some(k) = kubeconfig {
        cmd.arg("--kubeconfig").arg(k);
    }
    let (code, stdout, stderr) = outcome(&mut cmd);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let (ran, passed) =
        parse_summary(&stdout).unwrap_or_else(|| panic!("not all passed:\n{stdout}\n{stderr}"));
    assert_eq!(ran, passed, "{stdout}");
    (ran, stdout, stderr)
}

fn namespaces(kubeconfig: &Path) -> Vec<String> {
    Kube::new(kubeconfig).namespaces()
}

#[test]
fn interrupting_a_run_leaves_no_namespace_behind() {
    let server = serve(&["--time-scale", "0"]);
    let kube = Kube::new(&server.kubeconfig);
    let mut run = Command::new(env!("CARGO_BIN_EXE_kubespec"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .args(["run", "features", "--backend", "cluster"])
        .arg("--kubeconfig")
        .arg(&server.kubeconfig)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubespec run starts");
    // Wait until a scenario is in flight: its namespace exists.
    let start = std::time::Instant::now();
    while !kube.namespaces().iter().any(|n| n.starts_with("kubespec-")) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no scenario namespace appeared"
        );
        assert!(run.try_wait().unwrap().is_none(), "the run ended early");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = run.id().to_string();
    let killed = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(killed.success());
    let out = run.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted: deleted namespaces kubespec-"),
        "{stderr}"
    );
    let left: Vec<String> = kube
        .namespaces()
        .into_iter()
        .filter(|n| n.starts_with("kubespec-"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn deployment_scenarios_pass_over_loopback_against_kubespec_serve() {
    let server = serve(&["--time-scale", "0"]);
    let before = namespaces(&server.kubeconfig);
    let (ran, stdout, stderr) = all_pass(
        &server,
        &[
            "features/deployment/rolling_update.feature",
            "features/deployment/undo.feature",
            "features/deployment/pause_resume.feature",
            "--backend",
            "cluster",
            "--concurrency",
            "4",
        ],
    );
    assert_eq!(ran, 15, "{stdout}");
    // One virtual clock: the run says scenarios go one at a time.
    assert!(stderr.contains("scenarios run one at a time"), "{stderr}");
    // Every scenario's namespace is gone again.
    let after = namespaces(&server.kubeconfig);
    assert_eq!(before, after, "namespaces left behind");
    assert!(
        after.iter().all(|n| !n.starts_with("kubespec-")),
        "{after:?}"
    );
}

#[test]
fn a_served_engine_whose_clock_follows_the_wall_clock_is_refused_with_the_fix() {
    let server = serve(&[]);
    let (code, stdout, stderr) = outcome(
        kubespec_run()
            .args(["features/deployment/undo.feature", "--backend", "cluster"])
            .arg("--kubeconfig")
            .arg(&server.kubeconfig),
    );
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("start it with --time-scale 0"),
        "{stdout}\n{stderr}"
    );
}

#[test]
fn a_cluster_scoped_object_a_scenario_creates_on_a_shared_cluster_is_deleted_with_it() {
    let server = serve(&["--time-scale", "0"]);
    let dir = temp_dir("scoped");
    let feature = dir.join("scoped.feature");
    std::fs::write(
        &feature,
        "Feature: cluster-scoped\n  Scenario: a namespace of our own\n    Given the manifest:\n      \"\"\"\n      apiVersion: v1\n      kind: Namespace\n      metadata:\n        name: mine\n      \"\"\"\n    Then the namespace \"mine\" exists\n",
    )
    .unwrap();
    let before = namespaces(&server.kubeconfig);
    let (code, stdout, stderr) = outcome(
        kubespec_run()
            .arg(&feature)
            .args(["--backend", "cluster", "--kubeconfig"])
            .arg(&server.kubeconfig),
    );
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("1 scenario (1 passed)"), "{stdout}");
    // The namespace the spec named was labelled as the scenario's and deleted with it.
    assert_eq!(namespaces(&server.kubeconfig), before, "{stderr}");
    let _ = std::fs::remove_dir_all(dir);
}

/// `--plain-cluster` treats a `kubespec serve` engine (on the wall clock) as a real cluster:
/// image behaviour goes through the agnhost mapping, which is what runs on kind or EKS. The
/// engine does not run the script, but it stores what kubespec wrote, so this checks the
/// mapping on every write path (apply, set image, patch) and that steps read the manifest's
/// images back.
#[test]
fn on_a_plain_cluster_images_run_agnhost_and_steps_read_the_manifest_s_images() {
    let server = serve(&[]);
    let (ran, _, _) = all_pass(
        &server,
        &[
            "features/deployment/rolling_update.feature",
            "--backend",
            "cluster",
            "--plain-cluster",
            "--agnhost-images",
            "all",
            "--keep-namespaces",
            "--concurrency",
            "8",
        ],
    );
    assert_eq!(
        ran,
        count_scenarios_in(Path::new("features/deployment/rolling_update.feature"))
    );
    // What the cluster stores: agnhost, the script, and the manifest's fields kept aside.
    let kube = Kube::new(&server.kubeconfig);
    let deployments: kube::Api<k8s_openapi::api::apps::v1::Deployment> =
        kube::Api::all(kube.client.clone());
    let all = kube
        .rt
        .block_on(deployments.list(&Default::default()))
        .unwrap();
    assert!(all.items.len() >= ran, "{} deployments", all.items.len());
    for d in &all.items {
        let template = &d.spec.as_ref().unwrap().template;
        let annotations = template
            .metadata
            .as_ref()
            .unwrap()
            .annotations
            .as_ref()
            .unwrap();
        let kept = &annotations["kubespec.dev/images"];
        for c in &template.spec.as_ref().unwrap().containers {
            assert_eq!(
                c.image.as_deref(),
                Some("registry.k8s.io/e2e-test-images/agnhost:2.53")
            );
            let command = c.command.as_ref().unwrap();
            assert_eq!(command[..2], ["/bin/sh".to_string(), "-c".to_string()]);
            assert!(command[2].contains("/agnhost netexec"), "{}", command[2]);
            assert!(kept.contains(&format!("\"{}\"", c.name)), "{kept}");
        }
    }
    // The bootcamp deployment was set to bootcamp:v2: that is what its annotation keeps.
    let bootcamp = all
        .items
        .iter()
        .find(|d| d.metadata.name.as_deref() == Some("kubernetes-bootcamp"))
        .expect("the bootcamp scenario ran");
    let kept = &bootcamp
        .spec
        .as_ref()
        .unwrap()
        .template
        .metadata
        .as_ref()
        .unwrap()
        .annotations
        .as_ref()
        .unwrap()["kubespec.dev/images"];
    assert!(kept.contains("\"image\":\"bootcamp:v2\""), "{kept}");
}

/// A described image whose container has an exec probe cannot be acted out by agnhost: the
/// scenario is skipped with a reason naming the container and the probe; it neither fails
/// obscurely nor passes.
#[test]
fn on_a_plain_cluster_an_exec_probe_on_a_described_image_skips_the_scenario_with_the_reason() {
    let server = serve(&[]);
    let dir = temp_dir("exec-probe");
    let feature = dir.join("exec.feature");
    std::fs::write(
        &feature,
        r#"Feature: exec probe
  Scenario: a described image with an exec readiness probe
    Given image "web:v1" never becomes ready
    And the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: 1
        selector:
          matchLabels: {app: web}
        template:
          metadata:
            labels: {app: web}
          spec:
            containers:
            - name: app
              image: web:v1
              readinessProbe:
                exec:
                  command: [cat, /tmp/healthy]
      """
    Then deployment "web" has 1 replicas
"#,
    )
    .unwrap();
    let (_, stdout, stderr) = outcome(
        kubespec_run()
            .arg(&feature)
            .args(["--backend", "cluster", "--plain-cluster", "--kubeconfig"])
            .arg(&server.kubeconfig),
    );
    assert!(
        stdout.contains("1 scenario (1 skipped)"),
        "{stdout}\n{stderr}"
    );
    assert!(
        stderr.contains(
            "Deployment \"web\" on context \"kubespec\": container \"app\" (image \"web:v1\") \
             has an exec readiness probe"
        ),
        "{stdout}\n{stderr}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

fn count_scenarios_in(file: &Path) -> usize {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .filter(|l| l.trim_start().starts_with("Scenario:"))
        .count()
}

/// A controller program against an external cluster gets a copy of the run's kubeconfig with
/// the scenario's namespace as its context's default, and is stopped when the scenario ends.
#[test]
fn a_controller_program_on_an_external_cluster_gets_the_run_s_kubeconfig_and_namespace() {
    let server = serve(&[]);
    let dir = temp_dir("controller-program");
    let script = dir.join("controller.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\ncp \"$KUBECONFIG\" \"$KUBESPEC_TEST_OUT/seen\"\nexec sleep 600\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let feature = dir.join("controller.feature");
    std::fs::write(
        &feature,
        "Feature: a controller program\n  Scenario: it runs against the scenario's namespace\n    Given the controller command \"./controller.sh\" is running\n    When 2 seconds pass\n",
    )
    .unwrap();
    let (code, stdout, stderr) = outcome(
        kubespec_run()
            .env("KUBESPEC_TEST_OUT", &dir)
            .arg(&feature)
            .args(["--backend", "cluster", "--plain-cluster", "--kubeconfig"])
            .arg(&server.kubeconfig),
    );
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("1 scenario (1 passed)"), "{stdout}");
    let seen = kube::config::Kubeconfig::read_from(dir.join("seen")).expect("the program's copy");
    assert_eq!(seen.current_context.as_deref(), Some("kubespec"));
    let ns = seen.contexts[0]
        .context
        .as_ref()
        .and_then(|c| c.namespace.clone())
        .unwrap_or_default();
    assert!(ns.starts_with("kubespec-"), "{ns}");
    // The copy reaches the same server with the same credentials.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let names = rt.block_on(async {
        let config = kube::Config::from_custom_kubeconfig(seen, &Default::default())
            .await
            .unwrap();
        let client = kube::Client::try_from(config).unwrap();
        let api: kube::Api<k8s_openapi::api::core::v1::Namespace> = kube::Api::all(client);
        api.list(&Default::default()).await.unwrap().items.len()
    });
    assert!(names > 0);
    let _ = std::fs::remove_dir_all(dir);
}

/// A cluster that cannot be reached fails the run at once, before any scenario, with the
/// context's name and the client's error; it never hangs (the command's own timeout guards
/// against that).
#[test]
fn a_cluster_that_cannot_be_reached_fails_fast_with_the_context_and_the_error() {
    // A loopback port nothing listens on: bind one, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = temp_dir("unreachable");
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: gone\n  cluster:\n    server: http://127.0.0.1:{port}\nusers:\n- name: u\n  user: {{}}\ncontexts:\n- name: gone\n  context:\n    cluster: gone\n    user: u\ncurrent-context: gone\n"
        ),
    )
    .unwrap();
    let (code, stdout, stderr) = outcome(
        kubespec_run()
            .args(["features/deployment", "--backend", "cluster"])
            .args(["--context", "gone", "--kubeconfig"])
            .arg(&kubeconfig)
            .timeout(Duration::from_secs(120)),
    );
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("context \"gone\": the cluster cannot be reached:"),
        "{stderr}"
    );
    // No scenario ran.
    assert!(!stdout.contains("Scenario"), "{stdout}");
    let _ = std::fs::remove_dir_all(dir);
}

/// A built-in controller against an external served engine (`--time-scale 0`): virtual time
/// waits until the engine has had no write for a moment, so the controller's reaction lands
/// at the instant of the change it reacts to, as in process.
#[test]
fn controller_scenarios_pass_over_loopback_against_kubespec_serve() {
    let server = serve(&["--time-scale", "0"]);
    let (ran, _, _) = all_pass(&server, &["features/controllers", "--backend", "cluster"]);
    assert_eq!(ran, count_scenarios(Path::new("features/controllers")));
}
