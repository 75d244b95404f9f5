@pods @probes
Feature: Probes and container restarts, as the kubelet runs them
  The scenarios of spec §4.5, timed on the virtual clock. Pods are applied without waiting, at
  0 s. Images start 1 second after the kubelet starts their container (the default), so probe
  times are 1 second past the round numbers of the spec, which counts from the container's
  start.

  Scenario: P1 a liveness probe failing from 30 s kills the container after three failures
    Given image "app:v1" becomes unhealthy 30 seconds after start
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: app
      spec:
        containers:
        - name: app
          image: app:v1
          livenessProbe:
            httpGet:
              path: /healthz
              port: 8080
      """
    # Probes at 1, 11, 21 pass; 31, 41 and 51 fail; the kill at 51 takes the 1 s stop time.
    When 51 seconds pass
    Then pod "app" has restarted 0 times
    And the events of pod "app" include "Unhealthy: Liveness probe failed: HTTP probe failed with statuscode: 503"
    And the events of pod "app" include "Killing: Container app failed liveness probe, will be restarted"
    When 1 second passes
    Then pod "app" has restarted 1 times
    When 1 second passes
    Then pod "app" is in state "Running"
    And pod "app" is ready

  Scenario: P2 a liveness probe with an initial delay and a failure threshold of 1
    Given image "app:v1" becomes unhealthy 10 seconds after start
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: app
      spec:
        containers:
        - name: app
          image: app:v1
          livenessProbe:
            httpGet:
              path: /healthz
              port: 8080
            initialDelaySeconds: 15
            failureThreshold: 1
      """
    When 16 seconds pass
    Then pod "app" has restarted 0 times
    And the events of pod "app" include "Killing: failed liveness probe"
    When 1 second passes
    Then pod "app" has restarted 1 times

  Scenario: P3 a readiness probe that always fails keeps the pod unready, without restarts
    Given image "app:v1" never becomes ready
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: app
      spec:
        containers:
        - name: app
          image: app:v1
          readinessProbe:
            httpGet:
              path: /ready
              port: 8080
      """
    When 1 minute passes
    Then pod "app" is not ready
    And pod "app" is in state "Running"
    And pod "app" has restarted 0 times
    And the events of pod "app" include "Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 503"
    And the pod "app" matches:
      """
      status:
        conditions:
        - type: Ready
          status: "False"
          reason: ContainersNotReady
          message: "containers with unready status: [app]"
        containerStatuses:
        - name: app
          ready: false
          started: true
      """

  Scenario: P4 a readiness probe's initial delay holds the pod unready
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: app
      spec:
        containers:
        - name: app
          image: app:v1
          readinessProbe:
            tcpSocket:
              port: 8080
            initialDelaySeconds: 20
      """
    When 20 seconds pass
    Then pod "app" is not ready
    When 1 second passes
    Then pod "app" is ready
    And pod "app" has restarted 0 times

  Scenario: P5 a startup probe holds off liveness, then kills the container on its own failure
    Given image "db:v1" takes 10 minutes to start up
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: app
      spec:
        containers:
        - name: app
          image: db:v1
          startupProbe:
            httpGet:
              path: /healthz
              port: 8080
            failureThreshold: 30
            periodSeconds: 10
          livenessProbe:
            httpGet:
              path: /healthz
              port: 8080
            periodSeconds: 1
            failureThreshold: 1
      """
    # Startup probes at 1, 11, …, 291: the 30th failure at 291 kills the container.
    When 290 seconds pass
    Then pod "app" has restarted 0 times
    And the pod "app" has no event with reason "Killing"
    And the events of pod "app" include "Unhealthy: Startup probe failed: Get"
    When 1 second passes
    Then the events of pod "app" include "Killing: Container app failed startup probe, will be restarted"
    When 1 second passes
    Then pod "app" has restarted 1 times
    And pod "app" is not ready

  Scenario: P6 an exec probe that outlives its timeout fails
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: app
      spec:
        containers:
        - name: app
          image: app:v1
          readinessProbe:
            exec:
              command: ["sleep", "10"]
            timeoutSeconds: 1
      """
    When 1 minute passes
    Then pod "app" is not ready
    And the events of pod "app" include 'Unhealthy: Readiness probe failed: command "sleep 10" timed out'

  Scenario: P7 httpGet probes: redirects and status codes
    Given image "web:v1" redirects "/local" to "/healthz"
    And image "web:v1" redirects "/away" to "http://other.example/healthz"
    And image "web:v1" answers "/399" with status 399
    And image "web:v1" answers "/400" with status 400
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: local
      spec:
        containers:
        - name: web
          image: web:v1
          readinessProbe:
            httpGet: {path: /local, port: 8080}
      ---
      apiVersion: v1
      kind: Pod
      metadata:
        name: away
      spec:
        containers:
        - name: web
          image: web:v1
          readinessProbe:
            httpGet: {path: /away, port: 8080}
      ---
      apiVersion: v1
      kind: Pod
      metadata:
        name: s399
      spec:
        containers:
        - name: web
          image: web:v1
          readinessProbe:
            httpGet: {path: /399, port: 8080}
      ---
      apiVersion: v1
      kind: Pod
      metadata:
        name: s400
      spec:
        containers:
        - name: web
          image: web:v1
          readinessProbe:
            httpGet: {path: /400, port: 8080}
      """
    # The first readiness probes run at 1 s. A redirect on the same host is followed to
    # /healthz; one to another host is not, and its 302 passes with a warning, as a 399 does.
    When 1 second passes
    Then pod "local" is ready
    And pod "away" is ready
    And the events of pod "away" include "ProbeWarning: Readiness probe warning: Probe terminated redirects"
    And pod "s399" is ready
    And the events of pod "s399" include "ProbeWarning: Readiness probe warning: Probe terminated redirects"
    And pod "s400" is not ready
    And the events of pod "s400" include "Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 400"

  Scenario: P8 a container that crashes is restarted with back-off
    Given image "app:v1" crashes 5 seconds after start
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: app
      spec:
        containers:
        - name: app
          image: app:v1
      """
    # Runs 1–6, restarted at once; runs 7–12, then waits 10 s; restarted at 22.
    When 6 seconds pass
    Then pod "app" has restarted 1 times
    When 9 seconds pass
    Then pod "app" is in state "CrashLoopBackOff"
    And pod "app" has restarted 1 times
    And the events of pod "app" include "BackOff: Back-off restarting failed container app in pod app_default"
    When 7 seconds pass
    Then pod "app" has restarted 2 times
    When 1 second passes
    Then pod "app" is in state "Running"

  Scenario: P9 a container that ran for more than 10 minutes is restarted at once
    Given image "app:v1" crashes 11 minutes after start
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: app
      spec:
        containers:
        - name: app
          image: app:v1
      """
    # Runs 1–661 s and crashes: restarted at once. It runs 662–1322 s and crashes again: the
    # back-off entry from 661 s is more than 2 × 300 s old, so it has expired and the restart is
    # immediate again; no back-off is ever reported.
    When 661 seconds pass
    Then pod "app" has restarted 1 times
    When 1 second passes
    Then pod "app" is in state "Running"
    When 660 seconds pass
    Then pod "app" has restarted 2 times
    When 1 second passes
    Then pod "app" is in state "Running"
    And the pod "app" matches:
      """
      status:
        containerStatuses:
        - name: app
          lastState:
            terminated:
              exitCode: 1
              reason: Error
      """

  Scenario: P10 a liveness probe's own grace period overrides the pod's
    Given image "app:v1" becomes unhealthy 10 seconds after start
    And image "app:v1" stops in 30 seconds
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: app
      spec:
        terminationGracePeriodSeconds: 60
        containers:
        - name: app
          image: app:v1
          livenessProbe:
            httpGet:
              path: /healthz
              port: 8080
            failureThreshold: 1
            terminationGracePeriodSeconds: 5
      """
    # Probes at 1 s (passes) and 11 s (fails): killed at 11 s. The process ignores SIGTERM for
    # 30 s, so it is killed at the probe's 5 s grace, not the pod's 60 s.
    When 15 seconds pass
    Then pod "app" has restarted 0 times
    When 1 second passes
    Then pod "app" has restarted 1 times
    And the pod "app" matches:
      """
      status:
        containerStatuses:
        - name: app
          lastState:
            terminated:
              exitCode: 137
      """

  Scenario: P11 a readiness success threshold needs consecutive successes
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: app
      spec:
        containers:
        - name: app
          image: app:v1
          readinessProbe:
            grpc:
              port: 9000
            successThreshold: 3
      """
    # Successes at 1, 11 and 21.
    When 20 seconds pass
    Then pod "app" is not ready
    When 1 second passes
    Then pod "app" is ready

  Scenario: Flipping the readiness endpoint of a running pod
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: app
      spec:
        containers:
        - name: app
          image: app:v1
          readinessProbe:
            httpGet:
              path: /ready
              port: 8080
      """
    When 5 seconds pass
    Then pod "app" is ready
    When the readiness probe of pod "app" starts failing
    # Failures at 11, 21 and 31.
    And 25 seconds pass
    Then pod "app" is ready
    When 1 second passes
    Then pod "app" is not ready
    When the readiness probe of pod "app" starts passing
    And 10 seconds pass
    Then pod "app" is ready
    And pod "app" has restarted 0 times

  Scenario: Flipping the liveness endpoint of a running pod restarts it once
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: app
      spec:
        containers:
        - name: app
          image: app:v1
          livenessProbe:
            httpGet:
              path: /healthz
              port: 8080
      """
    When 5 seconds pass
    And the liveness probe of pod "app" starts failing
    # Failures at 11, 21 and 31; the container stops at 32 and comes back healthy.
    And 30 seconds pass
    Then pod "app" has restarted 1 times
    When 1 minute passes
    Then pod "app" has restarted 1 times
    And pod "app" is ready

  Scenario: A new version that fails its readiness probe stalls the rollout
    Given image "web:v2" never becomes ready
    And the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: 3
        selector:
          matchLabels:
            app: web
        template:
          metadata:
            labels:
              app: web
          spec:
            containers:
            - name: web
              image: web:v1
              readinessProbe:
                httpGet:
                  path: /ready
                  port: 8080
                periodSeconds: 5
      """
    Then the rollout of deployment "web" completes within 1 minute
    When I set the image of deployment "web" to "web:v2"
    Then the rollout of deployment "web" does not complete within 2 minutes
    And deployment "web" has 3 available replicas
    And the rollout status of deployment "web" is 'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...'
    And during the rollout deployment "web" never had fewer than 3 available pods
