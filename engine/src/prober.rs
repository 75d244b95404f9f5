//! The prober: startup, readiness and liveness probes per container, as the kubelet's probe
//! workers run them (`pkg/kubelet/prober/worker.go`, `prober.go`, `results/`).
//!
//! This module holds the pure parts: the probe settings read from a container spec, the worker
//! state machine (thresholds, initial results, on-hold) and what a probe observes of the
//! simulated application. The kubelet ([`crate::kubelet`]) owns the timers and acts on published
//! results (readiness, kills, the end of startup).
//!
//! Timing model (spec §4.2, inferred): a worker's first probe is at the container's start plus
//! `initialDelaySeconds`, then one every `periodSeconds`. The real kubelet aligns ticks to the
//! worker's start and adds jitter after a kubelet restart; neither is modelled.

use crate::images::ImageBehaviour;
use crate::time::Millis;
use k8s_openapi::api::core::v1::{Container, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// The three kinds of probe, in the order the kubelet reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProbeKind {
    Startup,
    Readiness,
    Liveness,
}

impl ProbeKind {
    pub const ALL: [ProbeKind; 3] = [
        ProbeKind::Startup,
        ProbeKind::Readiness,
        ProbeKind::Liveness,
    ];

    /// "Readiness", as in the `Unhealthy` event message ("Readiness probe failed: …").
    pub fn title(self) -> &'static str {
        match self {
            ProbeKind::Startup => "Startup",
            ProbeKind::Readiness => "Readiness",
            ProbeKind::Liveness => "Liveness",
        }
    }

    pub(crate) fn index(self) -> usize {
        match self {
            ProbeKind::Startup => 0,
            ProbeKind::Readiness => 1,
            ProbeKind::Liveness => 2,
        }
    }
}

/// How a probe reaches the application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Handler {
    Exec {
        command: Vec<String>,
    },
    HttpGet {
        scheme: String,
        port: String,
        path: String,
    },
    TcpSocket {
        port: String,
    },
    Grpc {
        port: i32,
        service: Option<String>,
    },
}

/// One probe of one container, with the API defaults applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeSpec {
    pub handler: Handler,
    pub initial_delay: Millis,
    pub period: Millis,
    pub timeout: Millis,
    pub success_threshold: u32,
    pub failure_threshold: u32,
    /// The probe-level `terminationGracePeriodSeconds` (liveness and startup only).
    pub termination_grace: Option<Millis>,
}

fn port_string(p: &IntOrString) -> String {
    match p {
        IntOrString::Int(i) => i.to_string(),
        IntOrString::String(s) => s.clone(),
    }
}

fn secs(v: Option<i32>, default: i32, min: i32) -> Millis {
    Millis::from_secs(v.unwrap_or(default).max(min) as u64)
}

impl ProbeSpec {
    /// The probe as the kubelet reads it; `None` when it has no handler.
    pub fn from_api(p: &Probe) -> Option<ProbeSpec> {
        let handler = if let Some(e) = &p.exec {
            Handler::Exec {
                command: e.command.clone().unwrap_or_default(),
            }
        } else if let Some(h) = &p.http_get {
            Handler::HttpGet {
                scheme: h.scheme.clone().unwrap_or_else(|| "HTTP".into()),
                port: port_string(&h.port),
                path: h.path.clone().unwrap_or_else(|| "/".into()),
            }
        } else if let Some(t) = &p.tcp_socket {
            Handler::TcpSocket {
                port: port_string(&t.port),
            }
        } else if let Some(g) = &p.grpc {
            Handler::Grpc {
                port: g.port,
                service: g.service.clone().filter(|s| !s.is_empty()),
            }
        } else {
            return None;
        };
        Some(ProbeSpec {
            handler,
            initial_delay: secs(p.initial_delay_seconds, 0, 0),
            period: secs(p.period_seconds, 10, 1),
            timeout: secs(p.timeout_seconds, 1, 1),
            success_threshold: p.success_threshold.unwrap_or(1).max(1) as u32,
            failure_threshold: p.failure_threshold.unwrap_or(3).max(1) as u32,
            termination_grace: p
                .termination_grace_period_seconds
                .map(|s| Millis::from_secs(s.max(0) as u64)),
        })
    }
}

/// The probes of one container, by [`ProbeKind::index`].
pub fn container_probes(ct: &Container) -> [Option<ProbeSpec>; 3] {
    [
        ct.startup_probe.as_ref().and_then(ProbeSpec::from_api),
        ct.readiness_probe.as_ref().and_then(ProbeSpec::from_api),
        ct.liveness_probe.as_ref().and_then(ProbeSpec::from_api),
    ]
}

/// A probe's published result (`results.Result`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Unknown,
    Success,
    Failure,
}

/// One probe worker (per container incarnation and probe kind).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Worker {
    pub published: Outcome,
    last: Option<bool>,
    run: u32,
    /// After a published liveness failure or a published startup result, the worker waits for
    /// a new container instead of probing the old one.
    pub on_hold: bool,
}

impl Worker {
    /// A worker for a container just started: readiness starts at Failure (not ready until the
    /// first success), liveness at Success, startup at Unknown.
    pub fn new(kind: ProbeKind) -> Worker {
        Worker {
            published: match kind {
                ProbeKind::Readiness => Outcome::Failure,
                ProbeKind::Liveness => Outcome::Success,
                ProbeKind::Startup => Outcome::Unknown,
            },
            last: None,
            run: 0,
            on_hold: false,
        }
    }

    /// Records one probe result; returns the newly published outcome when the thresholds were
    /// reached and it differs from the previous one, or on every threshold crossing for
    /// liveness and startup (their consequences happen once, then the worker holds).
    pub fn observe(&mut self, ok: bool, spec: &ProbeSpec) -> Option<Outcome> {
        if self.last == Some(ok) {
            self.run = self.run.saturating_add(1);
        } else {
            self.last = Some(ok);
            self.run = 1;
        }
        let threshold = if ok {
            spec.success_threshold
        } else {
            spec.failure_threshold
        };
        if self.run < threshold {
            return None;
        }
        let outcome = if ok {
            Outcome::Success
        } else {
            Outcome::Failure
        };
        if outcome == self.published {
            return None;
        }
        self.published = outcome;
        Some(outcome)
    }
}

/// What a probe of `kind` finds, `elapsed` after the container's process started: `Ok(None)`,
/// `Ok(Some(output))` when it passed with a warning (`probe.Warning`: the kubelet counts it as a
/// success and reports a `ProbeWarning` event), or `Err(output)` with the failure output the
/// kubelet puts in the `Unhealthy` event.
///
/// The application model ([`ImageBehaviour`]): every probe fails while the application is
/// starting up; after that the readiness endpoint passes once `ready_after` has elapsed (never
/// when it is `None`) and the liveness endpoint passes until `unhealthy_after`. A startup probe
/// passes once the application is up. `flip` overrides the endpoint (a spec flipping a running
/// pod's readiness or liveness, or the application itself on SIGTERM). An httpGet probe follows
/// the application's redirects first ([`follow_redirects`]). An exec probe whose command decides
/// its own result ([`exec_script`]: a `sleep N` with N at least the timeout, `true`, `false`,
/// `exit N`) does not ask the application.
pub fn check(
    kind: ProbeKind,
    spec: &ProbeSpec,
    behaviour: &ImageBehaviour,
    elapsed: Millis,
    flip: Option<bool>,
    pod_ip: &str,
) -> Result<Option<String>, String> {
    if let Handler::Exec { command } = &spec.handler {
        let script = exec_script(command);
        if Millis::from_secs(script.runs) >= spec.timeout {
            // remote_runtime.go: `NewTimeoutError(fmt.Errorf("command %q timed out", …))`.
            return Err(format!("command {:?} timed out", command.join(" ")));
        }
        match script.exit {
            // exec.go: a non-zero exit is a failure whose output is the command's (none here).
            Some(0) => return Ok(None),
            Some(_) => return Err(String::new()),
            None => {}
        }
    }
    let up = elapsed >= behaviour.startup;
    if !up {
        return Err(refused(&spec.handler, pod_ip, spec.timeout));
    }
    if let Handler::HttpGet { scheme, port, path } = &spec.handler {
        // `DoHTTPProbe`: 2xx succeeds, 3xx (a redirect not followed) succeeds with a warning,
        // anything else fails with its status code.
        if let Some(&code) = behaviour.statuses.get(path.as_str()) {
            return match code {
                200..=299 => Ok(None),
                300..=399 => Ok(Some(
                    "Probe terminated redirects, Response body: ".to_string(),
                )),
                _ => Err(format!("HTTP probe failed with statuscode: {code}")),
            };
        }
        match follow_redirects(behaviour, scheme, pod_ip, port, path) {
            Redirected::Endpoint => {}
            Redirected::NotFollowed(body) => {
                return Ok(Some(format!(
                    "Probe terminated redirects, Response body: {body}"
                )));
            }
            Redirected::Failed(output) => return Err(output),
        }
    }
    let endpoint = match kind {
        ProbeKind::Startup => true,
        ProbeKind::Readiness => behaviour.ready_after.is_some_and(|d| elapsed >= d),
        ProbeKind::Liveness => behaviour.unhealthy_after.is_none_or(|d| elapsed < d),
    };
    let healthy = match kind {
        ProbeKind::Startup => endpoint,
        _ => flip.unwrap_or(endpoint),
    };
    if healthy {
        Ok(None)
    } else {
        Err(unhealthy(&spec.handler))
    }
}

/// What the model reads in an exec probe's command, directly or as a `sh -c` script of
/// commands separated by `;`, `&&` or `&`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Script {
    /// Seconds the command runs in the foreground (its `sleep`s).
    runs: u64,
    /// The exit status the command sets itself (`exit N`, `true`, `false`), if any.
    exit: Option<i32>,
}

/// Reads `command` as [`Script`]. A backgrounded `sleep N &` does not delay the exit status: the
/// runtime returns it once the shell exits (containerd then waits for the sleep to close its
/// output, but within the kubelet's own deadline of the runtime timeout plus the probe's;
/// inferred from containerd's `execInternal` and the e2e test "should be restarted with a
/// failing exec liveness probe that took longer than the timeout").
fn exec_script(command: &[String]) -> Script {
    let script = match command {
        [sh, c, script] if sh.ends_with("sh") && c == "-c" => script.clone(),
        _ => command.join(" "),
    };
    let mut out = Script::default();
    let mut rest = script.as_str();
    while !rest.is_empty() {
        let (cmd, background, next) = match rest.find([';', '&']) {
            Some(i) if rest[i..].starts_with("&&") => (&rest[..i], false, &rest[i + 2..]),
            Some(i) => (&rest[..i], &rest[i..i + 1] == "&", &rest[i + 1..]),
            None => (rest, false, ""),
        };
        rest = next;
        let words: Vec<&str> = cmd.split_whitespace().collect();
        let program = words.first().map(|w| w.rsplit('/').next().unwrap_or(w));
        match (program, &words[..]) {
            (Some("sleep"), [_, n]) if !background => {
                out.runs += n.trim_end_matches('s').parse::<u64>().unwrap_or(0);
            }
            (Some("true"), [_]) => out.exit = Some(0),
            (Some("false"), [_]) => out.exit = Some(1),
            (Some("exit"), [_, code]) => {
                out.exit = code.parse().ok();
                break;
            }
            // Any other command: its result is the application's (the model's endpoints).
            _ => out.exit = None,
        }
    }
    out
}

/// Where an httpGet probe ends up after the application's redirects.
enum Redirected {
    /// At a path the application answers itself: the model's endpoint decides.
    Endpoint,
    /// A redirect to another host, not followed: the probe passes with this response body.
    NotFollowed(String),
    /// The client gave up.
    Failed(String),
}

/// Follows the application's redirects from `path` as the kubelet's HTTP client does
/// (`pkg/probe/http/http.go`, `RedirectChecker(false)`): a redirect to the same host is
/// followed; one to another host is not, and the redirect response itself is the result
/// (`DoHTTPProbe`: 3xx is `probe.Warning`); the tenth redirect stops the client.
///
/// The application answers `302 Found` with the body Go's `http.Redirect` writes:
/// `<a href="http://0.0.0.0/">Found</a>.` and two newlines.
fn follow_redirects(
    b: &ImageBehaviour,
    scheme: &str,
    ip: &str,
    port: &str,
    path: &str,
) -> Redirected {
    let mut path = path.to_string();
    let mut redirects = 0;
    while let Some(location) = b.redirects.get(&path) {
        redirects += 1;
        let next = match location.split_once("//") {
            Some((_, authority)) => {
                let (host_port, rest) = match authority.find('/') {
                    Some(i) => (&authority[..i], &authority[i..]),
                    None => (authority, "/"),
                };
                let host = host_port.rsplit_once(':').map_or(host_port, |(h, _)| h);
                if host.trim_matches(['[', ']']) != ip {
                    return Redirected::NotFollowed(format!(
                        "<a href=\"{}\">Found</a>.\n\n",
                        html_escape(location)
                    ));
                }
                rest.to_string()
            }
            None if location.starts_with('/') => location.clone(),
            // A relative reference: resolved against the current path's directory.
            None => format!("{}{location}", &path[..=path.rfind('/').unwrap_or(0)]),
        };
        if redirects >= 10 {
            return Redirected::Failed(format!(
                "Get \"{}://{ip}:{port}{next}\": stopped after 10 redirects",
                scheme.to_ascii_lowercase()
            ));
        }
        path = next;
    }
    Redirected::Endpoint
}

/// Go's `htmlEscape` (net/http): what `http.Redirect` does to the location in its body.
fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

/// The failure output when nothing listens yet (the application is still starting).
fn refused(h: &Handler, ip: &str, timeout: Millis) -> String {
    match h {
        Handler::HttpGet { scheme, port, path } => format!(
            "Get \"{}://{ip}:{port}{path}\": dial tcp {ip}:{port}: connect: connection refused",
            scheme.to_ascii_lowercase()
        ),
        Handler::TcpSocket { port } => format!("dial tcp {ip}:{port}: connect: connection refused"),
        Handler::Grpc { port, .. } => format!(
            "timeout: failed to connect service \"{ip}:{port}\" within {}s",
            timeout.whole_secs()
        ),
        Handler::Exec { .. } => String::new(),
    }
}

/// The failure output when the application answers that it is not healthy.
fn unhealthy(h: &Handler) -> String {
    match h {
        Handler::HttpGet { .. } => "HTTP probe failed with statuscode: 503".into(),
        // An open port is all a TCP probe checks: an unhealthy application that still listens
        // passes. The model's unhealthy TCP application has stopped listening.
        Handler::TcpSocket { .. } => "connection refused".into(),
        Handler::Grpc { .. } => "service unhealthy (responded with \"NOT_SERVING\")".into(),
        // The command's output; the model's commands print nothing.
        Handler::Exec { .. } => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(success: u32, failure: u32) -> ProbeSpec {
        ProbeSpec {
            handler: Handler::HttpGet {
                scheme: "HTTP".into(),
                port: "8080".into(),
                path: "/healthz".into(),
            },
            initial_delay: Millis::ZERO,
            period: Millis::from_secs(10),
            timeout: Millis::from_secs(1),
            success_threshold: success,
            failure_threshold: failure,
            termination_grace: None,
        }
    }

    #[test]
    fn initial_results_are_upstreams() {
        assert_eq!(
            Worker::new(ProbeKind::Readiness).published,
            Outcome::Failure
        );
        assert_eq!(Worker::new(ProbeKind::Liveness).published, Outcome::Success);
        assert_eq!(Worker::new(ProbeKind::Startup).published, Outcome::Unknown);
    }

    #[test]
    fn results_are_published_only_after_consecutive_thresholds() {
        let spec = http(3, 2);
        let mut w = Worker::new(ProbeKind::Readiness);
        assert_eq!(w.observe(true, &spec), None);
        assert_eq!(
            w.observe(false, &spec),
            None,
            "a failure resets the success run"
        );
        assert_eq!(w.observe(true, &spec), None);
        assert_eq!(w.observe(true, &spec), None);
        assert_eq!(w.observe(true, &spec), Some(Outcome::Success));
        assert_eq!(w.observe(true, &spec), None, "no change, nothing published");
        assert_eq!(w.observe(false, &spec), None);
        assert_eq!(w.observe(false, &spec), Some(Outcome::Failure));
    }

    #[test]
    fn the_application_model_decides_each_probe() {
        let spec = http(1, 3);
        let b = ImageBehaviour {
            startup: Millis::from_secs(5),
            ready_after: Some(Millis::from_secs(8)),
            unhealthy_after: Some(Millis::from_secs(20)),
            ..Default::default()
        };
        let at = |s| Millis::from_secs(s);
        let ip = "10.244.0.2";
        assert_eq!(
            check(ProbeKind::Liveness, &spec, &b, at(1), None, ip),
            Err("Get \"http://10.244.0.2:8080/healthz\": dial tcp 10.244.0.2:8080: connect: connection refused".into())
        );
        assert_eq!(
            check(ProbeKind::Startup, &spec, &b, at(5), None, ip),
            Ok(None)
        );
        assert!(check(ProbeKind::Readiness, &spec, &b, at(7), None, ip).is_err());
        assert_eq!(
            check(ProbeKind::Readiness, &spec, &b, at(8), None, ip),
            Ok(None)
        );
        assert_eq!(
            check(ProbeKind::Liveness, &spec, &b, at(19), None, ip),
            Ok(None)
        );
        assert_eq!(
            check(ProbeKind::Liveness, &spec, &b, at(20), None, ip),
            Err("HTTP probe failed with statuscode: 503".into())
        );
        assert_eq!(
            check(ProbeKind::Liveness, &spec, &b, at(25), Some(true), ip),
            Ok(None)
        );
        assert!(check(ProbeKind::Readiness, &spec, &b, at(9), Some(false), ip).is_err());
    }

    #[test]
    fn an_exec_probe_that_sleeps_past_its_timeout_fails() {
        let mut spec = http(1, 3);
        spec.handler = Handler::Exec {
            command: vec!["/bin/sh".into(), "-c".into(), "sleep 10".into()],
        };
        let b = ImageBehaviour::default();
        assert_eq!(
            check(
                ProbeKind::Liveness,
                &spec,
                &b,
                Millis::from_secs(3),
                None,
                "10.244.0.2"
            ),
            Err("command \"/bin/sh -c sleep 10\" timed out".into())
        );
        spec.timeout = Millis::from_secs(11);
        assert_eq!(
            check(
                ProbeKind::Liveness,
                &spec,
                &b,
                Millis::from_secs(3),
                None,
                "10.244.0.2"
            ),
            Ok(None)
        );
    }

    #[test]
    fn exec_scripts_are_read_for_their_sleeps_and_exit_status() {
        let read = |argv: &[&str]| {
            let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
            let s = exec_script(&argv);
            (s.runs, s.exit)
        };
        assert_eq!(read(&["sleep", "10"]), (10, None));
        assert_eq!(read(&["/bin/sh", "-c", "sleep 10"]), (10, None));
        assert_eq!(read(&["/bin/sh", "-c", "sleep 10 & exit 1"]), (0, Some(1)));
        assert_eq!(
            read(&["sh", "-c", "sleep 2; sleep 3 && exit 0"]),
            (5, Some(0))
        );
        assert_eq!(read(&["/bin/false"]), (0, Some(1)));
        assert_eq!(read(&["true"]), (0, Some(0)));
        assert_eq!(read(&["cat", "/tmp/health"]), (0, None));
        assert_eq!(read(&["sh", "-c", "true; cat /tmp/health"]), (0, None));
    }

    #[test]
    fn redirects_are_followed_on_the_same_host_only() {
        let ip = "10.244.0.2";
        let mut b = ImageBehaviour::default();
        for (from, to) in [
            ("/a", "/b"),
            ("/b", "c"),
            ("/c", "http://10.244.0.2:8080/d"),
            ("/far", "http://0.0.0.0/"),
            ("/loop", "/loop"),
        ] {
            b.redirects.insert(from.into(), to.into());
        }
        let follow = |path| follow_redirects(&b, "HTTP", ip, "8080", path);
        assert!(matches!(follow("/a"), Redirected::Endpoint));
        assert!(matches!(follow("/healthz"), Redirected::Endpoint));
        match follow("/far") {
            Redirected::NotFollowed(body) => {
                assert_eq!(body, "<a href=\"http://0.0.0.0/\">Found</a>.\n\n")
            }
            _ => panic!("a redirect to another host is not followed"),
        }
        match follow("/loop") {
            Redirected::Failed(out) => assert_eq!(
                out,
                "Get \"http://10.244.0.2:8080/loop\": stopped after 10 redirects"
            ),
            _ => panic!("the client stops at the tenth redirect"),
        }
        let mut spec = http(1, 1);
        spec.handler = Handler::HttpGet {
            scheme: "HTTP".into(),
            port: "8080".into(),
            path: "/far".into(),
        };
        b.unhealthy_after = Some(Millis::ZERO);
        assert_eq!(
            check(ProbeKind::Liveness, &spec, &b, Millis::from_secs(1), None, ip),
            Ok(Some(
                "Probe terminated redirects, Response body: <a href=\"http://0.0.0.0/\">Found</a>.\n\n"
                    .into()
            )),
            "the 302 passes, whatever /healthz would say"
        );
    }
}
