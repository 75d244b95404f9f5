//! The image behaviour model: how a container built from an image behaves, since a simulated
//! cluster cannot run images.
//!
//! A scenario describes images ("image "web:v2" starts in 5 seconds", "crashes on start",
//! "cannot be pulled"); images it does not mention get [`ImageBehaviour::default`].

use crate::time::Millis;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What happens when the kubelet runs a container of this image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageBehaviour {
    /// From the moment the kubelet starts the container (image present) until its process is
    /// running. Default: 1 second.
    pub start: Millis,
    /// From SIGTERM until the process has exited. The kubelet kills it at the grace period if it
    /// takes longer. Default: 1 second.
    pub stop: Millis,
    /// How the container ends by itself, if it does.
    pub exit: Option<Exit>,
    /// The image cannot be pulled: ErrImagePull, then ImagePullBackOff, never started.
    pub pull_fails: bool,
    /// From the process start until the application answers at all: every probe fails until
    /// then (connection refused). Default: 0.
    pub startup: Millis,
    /// From the process start until the readiness endpoint passes; `None`: it never does.
    /// Default: 0 (ready as soon as the application is up).
    pub ready_after: Option<Millis>,
    /// From the process start until the liveness endpoint starts failing; `None` (the
    /// default): it never does.
    pub unhealthy_after: Option<Millis>,
    /// The image's ENTRYPOINT and CMD: what runs when the container sets no `command` and no
    /// `args`. Default: both empty.
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    /// Paths (with their query) the application answers with `302 Found` and this `Location`,
    /// as agnhost's `/redirect?loc=…` does. Default: none.
    pub redirects: BTreeMap<String, String>,
    /// HTTP status codes the application answers paths with, overriding its endpoints: 2xx
    /// passes, 3xx passes with a `ProbeWarning`, anything else fails.
    pub statuses: BTreeMap<String, u16>,
    /// On SIGTERM (a graceful pod deletion) the application makes its readiness endpoint
    /// fail while it winds down, as a `trap` that removes a ready file does. Default: false.
    pub unready_on_sigterm: bool,
    /// Likewise for its liveness endpoint. Default: false.
    pub unhealthy_on_sigterm: bool,
}

/// A container that ends by itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exit {
    /// How long the process runs before it exits.
    pub after: Millis,
    pub code: i32,
}

impl Default for ImageBehaviour {
    fn default() -> Self {
        ImageBehaviour {
            start: Millis::from_secs(1),
            stop: Millis::from_secs(1),
            exit: None,
            pull_fails: false,
            startup: Millis::ZERO,
            ready_after: Some(Millis::ZERO),
            unhealthy_after: None,
            entrypoint: Vec::new(),
            cmd: Vec::new(),
            redirects: BTreeMap::new(),
            statuses: BTreeMap::new(),
            unready_on_sigterm: false,
            unhealthy_on_sigterm: false,
        }
    }
}

/// Image behaviours by image reference.
#[derive(Clone, Debug, Default)]
pub struct ImageCatalog {
    images: BTreeMap<String, Arc<ImageBehaviour>>,
    /// The behaviour of every image no step describes, shared.
    default: Arc<ImageBehaviour>,
}

impl ImageCatalog {
    /// The behaviour of `image`: an exact match, then the same repository with an implied
    /// `:latest` tag, then the default. Shared: every container of an image points at one.
    pub fn get(&self, image: &str) -> Arc<ImageBehaviour> {
        if let Some(b) = self.images.get(image) {
            return b.clone();
        }
        let alt = if let Some(repo) = image.strip_suffix(":latest") {
            repo.to_string()
        } else if !image.rsplit('/').next().unwrap_or(image).contains(':') {
            format!("{image}:latest")
        } else {
            return self.default.clone();
        };
        self.images
            .get(&alt)
            .cloned()
            .unwrap_or_else(|| self.default.clone())
    }

    /// Changes the behaviour of `image`, starting from its current one. Containers already
    /// created keep the behaviour they were created with.
    pub fn update(&mut self, image: &str, f: impl FnOnce(&mut ImageBehaviour)) {
        let mut b = (*self.get(image)).clone();
        f(&mut b);
        self.images.insert(image.to_string(), Arc::new(b));
    }
}

/// One change to an image's behaviour, as a step states it. Serialisable, so a served engine
/// can take it over the wire (`POST /kubespec/v1/images`) and apply it exactly as the in-memory
/// backend does. Durations are milliseconds.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", tag = "change")]
pub enum Change {
    StartsIn { ms: u64 },
    StopsIn { ms: u64 },
    CrashesOnStart,
    ExitsAfter { ms: u64, code: i32 },
    CannotBePulled,
    ReadyAfter { ms: u64 },
    NeverReady,
    UnhealthyAfter { ms: u64 },
    StartupTakes { ms: u64 },
    Entrypoint { argv: Vec<String> },
    Cmd { argv: Vec<String> },
    Redirects { path: String, location: String },
    Answers { path: String, code: u16 },
    UnreadyOnSigterm,
    UnhealthyOnSigterm,
}

impl ImageBehaviour {
    /// Applies one [`Change`].
    pub fn apply(&mut self, change: Change) {
        match change {
            Change::StartsIn { ms } => self.start = Millis(ms),
            Change::StopsIn { ms } => self.stop = Millis(ms),
            Change::CrashesOnStart => {
                self.exit = Some(Exit {
                    after: Millis::ZERO,
                    code: 1,
                })
            }
            Change::ExitsAfter { ms, code } => {
                self.exit = Some(Exit {
                    after: Millis(ms),
                    code,
                })
            }
            Change::CannotBePulled => self.pull_fails = true,
            Change::ReadyAfter { ms } => self.ready_after = Some(Millis(ms)),
            Change::NeverReady => self.ready_after = None,
            Change::UnhealthyAfter { ms } => self.unhealthy_after = Some(Millis(ms)),
            Change::StartupTakes { ms } => self.startup = Millis(ms),
            Change::Entrypoint { argv } => self.entrypoint = argv,
            Change::Cmd { argv } => self.cmd = argv,
            Change::Answers { path, code } => {
                self.statuses.insert(path, code);
            }
            Change::Redirects { path, location } => {
                self.redirects.insert(path, location);
            }
            Change::UnreadyOnSigterm => self.unready_on_sigterm = true,
            Change::UnhealthyOnSigterm => self.unhealthy_on_sigterm = true,
        }
    }
}
