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
