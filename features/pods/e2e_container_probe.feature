@pods @probes @e2e
Feature: The upstream e2e probe tests ([sig-node] Probing container, container_probe.go)
  Each scenario transcribes one e2e test with the image behaviour standing in for the e2e
  image: agnhost's /healthz that fails after 10 s becomes "unhealthy 10 seconds after start";
  "echo ok >/tmp/health; sleep 10; rm -f /tmp/health" under `cat /tmp/health` likewise.
  Pods are applied at 0 s; images start 1 s after the kubelet starts them.

  Scenario: with readiness probe should not be ready before initial delay and never restart
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: test-webserver
      spec:
        containers:
        - name: test-webserver
          image: agnhost:2.53
          readinessProbe:
            httpGet: {path: /, port: 80}
            initialDelaySeconds: 20
      """
    When 20 seconds pass
    Then pod "test-webserver" is not ready
    When 1 second passes
    Then pod "test-webserver" is ready
    When 3 minutes pass
    Then pod "test-webserver" has restarted 0 times

  Scenario: should be restarted with a exec "cat /tmp/health" liveness probe
    Given image "busybox:1.36" becomes unhealthy 10 seconds after start
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: liveness-exec
      spec:
        containers:
        - name: busybox
          image: busybox:1.36
          command: ["/bin/sh", "-c", "echo ok >/tmp/health; sleep 10; rm -rf /tmp/health; sleep 600"]
          livenessProbe:
            exec:
              command: ["cat", "/tmp/health"]
            initialDelaySeconds: 15
            failureThreshold: 1
      """
    # The first probe, at 16 s, finds no file: killed, stopped at 17 s, restarted.
    When 16 seconds pass
    Then pod "liveness-exec" has restarted 0 times
    And the events of pod "liveness-exec" include "Killing: Container busybox failed liveness probe, will be restarted"
    When 1 second passes
    Then pod "liveness-exec" has restarted 1 times

  Scenario: should *not* be restarted with a exec "cat /tmp/health" liveness probe
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: liveness-exec
      spec:
        containers:
        - name: busybox
          image: busybox:1.36
          command: ["/bin/sh", "-c", "echo ok >/tmp/health; sleep 600"]
          livenessProbe:
            exec:
              command: ["cat", "/tmp/health"]
            initialDelaySeconds: 15
            failureThreshold: 1
      """
    When 4 minutes pass
    Then pod "liveness-exec" has restarted 0 times
    And pod "liveness-exec" is in state "Running"

  Scenario: should *not* be restarted with a tcp:8080 liveness probe
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: liveness-tcp
      spec:
        containers:
        - name: agnhost
          image: agnhost:2.53
          livenessProbe:
            tcpSocket: {port: 8080}
            initialDelaySeconds: 15
            failureThreshold: 1
      """
    When 4 minutes pass
    Then pod "liveness-tcp" has restarted 0 times

  Scenario: should have monotonically increasing restart count
    # Runs start 1 s after each restart; /healthz fails 10 s after start; probes at start + 5 s,
    # then every 10 s; each kill takes the 1 s stop time. Kills at 16, 33, 50, 67, 104; the
    # back-off lags one kill behind (spec §4.4): restarts at 17, 34, 51, 88, 145.
    Given image "agnhost:2.53" becomes unhealthy 10 seconds after start
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: liveness-http
      spec:
        containers:
        - name: agnhost
          image: agnhost:2.53
          args: ["liveness"]
          livenessProbe:
            httpGet: {path: /healthz, port: 8080}
            initialDelaySeconds: 5
            failureThreshold: 1
      """
    When 17 seconds pass
    Then pod "liveness-http" has restarted 1 times
    When 17 seconds pass
    Then pod "liveness-http" has restarted 2 times
    When 17 seconds pass
    Then pod "liveness-http" has restarted 3 times
    When 36 seconds pass
    Then pod "liveness-http" is in state "CrashLoopBackOff"
    When 1 second passes
    Then pod "liveness-http" has restarted 4 times
    When 57 seconds pass
    Then pod "liveness-http" has restarted 5 times

  Scenario: should be ready immediately after startupProbe succeeds
    Given image "busybox:1.36" takes 10 seconds to start up
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: startup
      spec:
        containers:
        - name: busybox
          image: busybox:1.36
          readinessProbe:
            exec:
              command: ["cat", "/tmp/health"]
            periodSeconds: 60
          startupProbe:
            exec:
              command: ["cat", "/tmp/startup"]
            periodSeconds: 1
            failureThreshold: 60
      """
    # Up at 11 s: the startup probe passes at 11 s and readiness is probed at once, not 60 s
    # later.
    When 10 seconds pass
    Then pod "startup" is not ready
    When 1 second passes
    Then pod "startup" is ready
    And the pod "startup" matches:
      """
      status:
        containerStatuses:
        - name: busybox
          started: true
          ready: true
      """

  Scenario: should *not* be restarted by liveness probe because startup probe delays it
    Given image "busybox:1.36" becomes unhealthy 0 seconds after start
    And image "busybox:1.36" takes 1 hour to start up
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: startup
      spec:
        containers:
        - name: busybox
          image: busybox:1.36
          livenessProbe:
            exec:
              command: ["cat", "/tmp/health"]
            initialDelaySeconds: 15
            failureThreshold: 1
          startupProbe:
            exec:
              command: ["cat", "/tmp/startup"]
            failureThreshold: 60
      """
    # Startup probes every 10 s from 1 s: the 60th failure, at 591 s, is the first kill.
    When 590 seconds pass
    Then pod "startup" has restarted 0 times
    And the pod "startup" has no event with reason "Killing"

  Scenario: should be restarted with a /healthz http liveness probe
    # agnhost `liveness`: /healthz answers 500 from 10 s after start.
    Given image "agnhost:2.53" becomes unhealthy 10 seconds after start
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: liveness-http
      spec:
        containers:
        - name: agnhost
          image: agnhost:2.53
          args: ["liveness"]
          livenessProbe:
            httpGet: {path: /healthz, port: 8080}
            initialDelaySeconds: 15
            failureThreshold: 1
      """
    # The first probe, at 16 s, fails: killed, stopped at 17 s, restarted.
    When 16 seconds pass
    Then pod "liveness-http" has restarted 0 times
    And the events of pod "liveness-http" include "Killing: Container agnhost failed liveness probe, will be restarted"
    When 1 second passes
    Then pod "liveness-http" has restarted 1 times

  Scenario: should *not* be restarted with a /healthz http liveness probe
    # agnhost `test-webserver` answers / on port 80 for ever: the default image behaviour.
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: test-webserver
      spec:
        containers:
        - name: test-webserver
          image: agnhost:2.53
          args: ["test-webserver"]
          ports:
          - containerPort: 80
          livenessProbe:
            httpGet: {path: /, port: 80}
            initialDelaySeconds: 15
            timeoutSeconds: 5
            failureThreshold: 5
      """
    When 4 minutes pass
    Then pod "test-webserver" has restarted 0 times
    And pod "test-webserver" is ready
    And the pod "test-webserver" has no event with reason "Unhealthy"

  Scenario: with readiness probe that fails should never be ready and never restart
    # The probe asks port 81, where agnhost `test-webserver` does not listen: an application
    # that never comes up as far as the probe can tell, refused like upstream's.
    Given image "agnhost:2.53" takes 1 hour to start up
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: test-webserver
      spec:
        containers:
        - name: test-webserver
          image: agnhost:2.53
          args: ["test-webserver"]
          ports:
          - containerPort: 80
          readinessProbe:
            httpGet: {path: /, port: 81}
      """
    When 30 seconds pass
    Then pod "test-webserver" is not ready
    When 30 seconds pass
    Then pod "test-webserver" is not ready
    And pod "test-webserver" is in state "Running"
    And pod "test-webserver" has restarted 0 times
    And the events of pod "test-webserver" include 'Unhealthy: Readiness probe failed: Get "http://{pod IP}:81/": dial tcp {pod IP}:81: connect: connection refused'

  Scenario: should be restarted with an exec liveness probe with timeout
    # The probe's own `sleep 10` outlives its 1 s timeout; no image behaviour is needed.
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: busybox
      spec:
        containers:
        - name: busybox
          image: busybox:1.36
          command: ["/bin/sh", "-c", "sleep 600"]
          livenessProbe:
            exec:
              command: ["/bin/sh", "-c", "sleep 10"]
            initialDelaySeconds: 15
            timeoutSeconds: 1
            failureThreshold: 1
      """
    When 16 seconds pass
    Then pod "busybox" has restarted 0 times
    And the events of pod "busybox" include 'Unhealthy: Liveness probe failed: command "/bin/sh -c sleep 10" timed out'
    And the events of pod "busybox" include "Killing: Container busybox failed liveness probe, will be restarted"
    When 1 second passes
    Then pod "busybox" has restarted 1 times

  Scenario: should not be ready with an exec readiness probe timeout
    # As above: the probe's own `sleep 10` outlives its 1 s timeout.
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: busybox
      spec:
        containers:
        - name: busybox
          image: busybox:1.36
          command: ["/bin/sh", "-c", "sleep 600"]
          readinessProbe:
            exec:
              command: ["/bin/sh", "-c", "sleep 10"]
            initialDelaySeconds: 15
            timeoutSeconds: 1
            failureThreshold: 1
      """
    When 16 seconds pass
    Then pod "busybox" is not ready
    And the events of pod "busybox" include 'Unhealthy: Readiness probe failed: command "/bin/sh -c sleep 10" timed out'
    When 1 minute passes
    Then pod "busybox" is not ready
    And pod "busybox" has restarted 0 times

  Scenario: should be restarted with a failing exec liveness probe that took longer than the timeout
    # `sleep 10 & exit 1`: the shell exits 1 at once, the backgrounded sleep only holds its
    # output open, so the probe fails on the exit status; no image behaviour is needed.
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: busybox
      spec:
        containers:
        - name: busybox
          image: busybox:1.36
          command: ["/bin/sh", "-c", "sleep 600"]
          livenessProbe:
            exec:
              command: ["/bin/sh", "-c", "sleep 10 & exit 1"]
            initialDelaySeconds: 15
            timeoutSeconds: 1
            failureThreshold: 1
      """
    When 16 seconds pass
    Then pod "busybox" has restarted 0 times
    And the events of pod "busybox" include "Killing: Container busybox failed liveness probe, will be restarted"
    When 1 second passes
    Then pod "busybox" has restarted 1 times

  Scenario: should be restarted with a local redirect http liveness probe
    # agnhost `liveness`: /redirect?loc=… answers 302 Found to loc; /healthz answers 500 from
    # 10 s after start. The redirect stays on the pod's host, so the probe follows it.
    Given image "agnhost:2.53" becomes unhealthy 10 seconds after start
    And image "agnhost:2.53" redirects "/redirect?loc=%2Fhealthz" to "/healthz"
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: liveness-http
      spec:
        containers:
        - name: agnhost
          image: agnhost:2.53
          args: ["liveness"]
          livenessProbe:
            httpGet: {path: "/redirect?loc=%2Fhealthz", port: 8080}
            initialDelaySeconds: 15
            failureThreshold: 1
      """
    When 16 seconds pass
    Then pod "liveness-http" has restarted 0 times
    And the events of pod "liveness-http" include "Unhealthy: Liveness probe failed: HTTP probe failed with statuscode"
    And the events of pod "liveness-http" include "Killing: Container agnhost failed liveness probe, will be restarted"
    And the pod "liveness-http" has no event with reason "ProbeWarning"
    When 1 second passes
    Then pod "liveness-http" has restarted 1 times

  Scenario: should *not* be restarted with a non-local redirect http liveness probe
    # As above, but the redirect leaves the pod's host: the kubelet does not follow it, and the
    # 302 itself passes, with a warning. /healthz would have failed from 10 s.
    Given image "agnhost:2.53" becomes unhealthy 10 seconds after start
    And image "agnhost:2.53" redirects "/redirect?loc=http%3A%2F%2F0.0.0.0%2F" to "http://0.0.0.0/"
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: liveness-http
      spec:
        containers:
        - name: agnhost
          image: agnhost:2.53
          args: ["liveness"]
          livenessProbe:
            httpGet: {path: "/redirect?loc=http%3A%2F%2F0.0.0.0%2F", port: 8080}
            initialDelaySeconds: 15
            failureThreshold: 1
      """
    When 4 minutes pass
    Then pod "liveness-http" has restarted 0 times
    And the events of pod "liveness-http" include 'ProbeWarning: Liveness probe warning: Probe terminated redirects, Response body: <a href="http://0.0.0.0/">Found</a>.'
    And the pod "liveness-http" has no event with reason "Unhealthy"

  Scenario: should be restarted startup probe fails
    # `/bin/false` fails and `/bin/true` passes whatever the application does; no image
    # behaviour is needed.
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: startup
      spec:
        containers:
        - name: busybox
          image: busybox:1.36
          command: ["/bin/sh", "-c", "sleep 600"]
          livenessProbe:
            exec:
              command: ["/bin/true"]
            initialDelaySeconds: 15
            failureThreshold: 1
          startupProbe:
            exec:
              command: ["/bin/false"]
            initialDelaySeconds: 15
            failureThreshold: 3
      """
    # Startup probes at 16, 26 and 36 s fail: killed at 36 s, stopped and restarted at 37 s.
    When 36 seconds pass
    Then pod "startup" has restarted 0 times
    And the events of pod "startup" include "Killing: Container busybox failed startup probe, will be restarted"
    When 1 second passes
    Then pod "startup" has restarted 1 times

  Scenario: should be restarted by liveness probe after startup probe enables it
    # "sleep 10; echo ok >/tmp/startup" under `cat /tmp/startup` becomes "takes 10 seconds to
    # start up"; the liveness probe is `/bin/false`.
    Given image "busybox:1.36" takes 10 seconds to start up
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: startup
      spec:
        containers:
        - name: busybox
          image: busybox:1.36
          command: ["/bin/sh", "-c", "sleep 10; echo ok >/tmp/startup; sleep 600"]
          livenessProbe:
            exec:
              command: ["/bin/false"]
            initialDelaySeconds: 15
            failureThreshold: 1
          startupProbe:
            exec:
              command: ["cat", "/tmp/startup"]
            initialDelaySeconds: 15
            failureThreshold: 60
      """
    # The startup probe passes at 16 s; liveness, released, fails at 16 s: killed, restarted
    # at 17 s.
    When 16 seconds pass
    Then pod "startup" has restarted 0 times
    And the events of pod "startup" include "Killing: Container busybox failed liveness probe, will be restarted"
    When 1 second passes
    Then pod "startup" has restarted 1 times

  Scenario: should override timeoutGracePeriodSeconds when LivenessProbe field is set
    # busybox `sh -c "sleep 1000"` serves no HTTP (the probe is refused, as while an
    # application starts up) and, as PID 1 without a handler, ignores SIGTERM (it would take
    # longer than any grace period here to stop).
    Given image "busybox:1.36" takes 1 hour to start up
    And image "busybox:1.36" stops in 1 hour
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: busybox
      spec:
        terminationGracePeriodSeconds: 500
        containers:
        - name: busybox
          image: busybox:1.36
          command: ["/bin/sh", "-c", "sleep 1000"]
          livenessProbe:
            httpGet: {path: /healthz, port: 8080}
            initialDelaySeconds: 10
            failureThreshold: 1
            terminationGracePeriodSeconds: 5
      """
    # Killed at 11 s; SIGKILL at the probe's 5 s, not the pod's 500 s: restarted at 16 s.
    When 15 seconds pass
    Then pod "busybox" has restarted 0 times
    When 1 second passes
    Then pod "busybox" has restarted 1 times
    And the pod "busybox" matches:
      """
      status:
        containerStatuses:
        - name: busybox
          lastState:
            terminated:
              exitCode: 137
              reason: Error
      """

  Scenario: should override timeoutGracePeriodSeconds when StartupProbe field is set
    # As above; /tmp/startup never appears, so the startup probe fails like a probe of an
    # application that never comes up. The liveness probe is `/bin/true`.
    Given image "busybox:1.36" takes 1 hour to start up
    And image "busybox:1.36" stops in 1 hour
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: busybox
      spec:
        terminationGracePeriodSeconds: 500
        containers:
        - name: busybox
          image: busybox:1.36
          command: ["/bin/sh", "-c", "sleep 1000"]
          livenessProbe:
            exec:
              command: ["/bin/true"]
            initialDelaySeconds: 15
            failureThreshold: 1
          startupProbe:
            exec:
              command: ["/bin/cat", "/tmp/startup"]
            initialDelaySeconds: 10
            failureThreshold: 1
            terminationGracePeriodSeconds: 5
      """
    When 15 seconds pass
    Then pod "busybox" has restarted 0 times
    And the events of pod "busybox" include "Killing: Container busybox failed startup probe, will be restarted"
    When 1 second passes
    Then pod "busybox" has restarted 1 times
    And the pod "busybox" matches:
      """
      status:
        containerStatuses:
        - name: busybox
          lastState:
            terminated:
              exitCode: 137
      """

  Scenario: should *not* be restarted with a GRPC liveness probe
    # agnhost `grpc-health-checking` answers SERVING on port 5000: the default image behaviour.
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: test-grpc
      spec:
        containers:
        - name: agnhost
          image: agnhost:2.53
          command: ["/agnhost", "grpc-health-checking"]
          ports:
          - containerPort: 5000
          - containerPort: 8080
          livenessProbe:
            grpc: {port: 5000}
            initialDelaySeconds: 15
            timeoutSeconds: 5
            failureThreshold: 1
      """
    When 4 minutes pass
    Then pod "test-grpc" has restarted 0 times
    And the pod "test-grpc" has no event with reason "Unhealthy"

  Scenario: should be restarted with a GRPC liveness probe
    # The probe asks port 2333, where nothing listens: an application that never comes up as
    # far as the probe can tell; the gRPC client waits out its 5 s timeout.
    Given image "agnhost:2.53" takes 1 hour to start up
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: test-grpc
      spec:
        containers:
        - name: agnhost
          image: agnhost:2.53
          command: ["/agnhost", "grpc-health-checking"]
          ports:
          - containerPort: 5000
          - containerPort: 8080
          livenessProbe:
            grpc: {port: 2333}
            initialDelaySeconds: 60
            timeoutSeconds: 5
            failureThreshold: 1
      """
    When 61 seconds pass
    Then pod "test-grpc" has restarted 0 times
    And the events of pod "test-grpc" include 'Unhealthy: Liveness probe failed: timeout: failed to connect service "{pod IP}:2333" within 5s'
    When 1 second passes
    Then pod "test-grpc" has restarted 1 times

  Scenario: should mark readiness on pods to false while pod is in progress of terminating when a pod has a readiness probe
    # The script's SIGTERM trap removes /tmp/ready, sleeps 30 s and exits 0: "becomes unready
    # on SIGTERM" and "stops in 30 seconds" (the grace period is 30 s).
    Given image "agnhost:2.53" becomes unready on SIGTERM
    And image "agnhost:2.53" stops in 30 seconds
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: probe-test
      spec:
        terminationGracePeriodSeconds: 30
        containers:
        - name: probe-test
          image: agnhost:2.53
          command: ["/bin/bash"]
          args: ["-c", "_term() { rm -f /tmp/ready; sleep 30; exit 0; }; trap _term SIGTERM; touch /tmp/ready; while true; do echo hello; sleep 10; done"]
          readinessProbe:
            exec:
              command: ["cat", "/tmp/ready"]
            failureThreshold: 1
            initialDelaySeconds: 5
            periodSeconds: 2
      """
    # Readiness probes at 6, 8, 10, … s.
    When 10 seconds pass
    Then pod "probe-test" is ready
    When I delete pod "probe-test"
    And 1 second passes
    Then pod "probe-test" is in state "Terminating"
    And pod "probe-test" is ready
    # The readiness probe at 12 s finds no /tmp/ready.
    When 1 second passes
    Then pod "probe-test" is not ready
    And pod "probe-test" is in state "Terminating"
    And the events of pod "probe-test" include "Unhealthy: Readiness probe failed: "
    When 28 seconds pass
    Then the pod "probe-test" does not exist

  Scenario: should mark readiness on pods to false and disable liveness probes while pod is in progress of terminating
    # The SIGTERM trap removes /tmp/ready and /tmp/liveness, sleeps 20 s and exits 0.
    Given image "agnhost:2.53" becomes unready on SIGTERM
    And image "agnhost:2.53" becomes unhealthy on SIGTERM
    And image "agnhost:2.53" stops in 20 seconds
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: probe-test
      spec:
        terminationGracePeriodSeconds: 30
        containers:
        - name: probe-test
          image: agnhost:2.53
          command: ["/bin/bash"]
          args: ["-c", "_term() { rm -f /tmp/ready; rm -f /tmp/liveness; sleep 20; exit 0; }; trap _term SIGTERM; touch /tmp/ready; touch /tmp/liveness; while true; do echo hello; sleep 10; done"]
          readinessProbe:
            exec:
              command: ["cat", "/tmp/ready"]
            failureThreshold: 1
            initialDelaySeconds: 5
            periodSeconds: 2
          livenessProbe:
            exec:
              command: ["cat", "/tmp/liveness"]
            failureThreshold: 1
            initialDelaySeconds: 5
            periodSeconds: 1
      """
    When 10 seconds pass
    Then pod "probe-test" is ready
    When I delete pod "probe-test"
    # A liveness probe at 11 s would find no /tmp/liveness; the kubelet probes no liveness of
    # a terminating pod. The readiness probe at 12 s fails.
    And 1 second passes
    Then the pod "probe-test" has no event with reason "Unhealthy"
    And pod "probe-test" is ready
    When 1 second passes
    Then pod "probe-test" is not ready
    When 17 seconds pass
    Then pod "probe-test" has restarted 0 times
    And pod "probe-test" is in state "Terminating"
    When 1 second passes
    Then the pod "probe-test" does not exist
