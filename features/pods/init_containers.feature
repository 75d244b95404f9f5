@pods @init-containers
Feature: Init containers and sidecars, as the kubelet runs them
  Init containers run one at a time, in order, and each must exit 0 before the next starts; the
  app containers start together once every init container is done. A restartable init container
  (a sidecar, `restartPolicy: Always`) counts as done once it has started, and keeps running
  beside the app. Pods are applied without waiting, at 0 s; images start 1 second after the
  kubelet starts their container.

  Scenario: the documentation's myapp-pod waits for its two init containers
    Given image "wait-for-myservice:1" exits with code 0 5 seconds after start
    And image "wait-for-mydb:1" exits with code 0 3 seconds after start
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: myapp-pod
        labels:
          app.kubernetes.io/name: MyApp
      spec:
        containers:
        - name: myapp-container
          image: busybox:1.28
          command: ['sh', '-c', 'echo The app is running! && sleep 3600']
        initContainers:
        - name: init-myservice
          image: wait-for-myservice:1
        - name: init-mydb
          image: wait-for-mydb:1
      """
    Then pod "myapp-pod" is in state "Init:0/2"
    And the pod "myapp-pod" matches:
      """
      status:
        phase: Pending
        conditions:
        - type: Initialized
          status: "False"
          reason: ContainersNotInitialized
          message: "containers with incomplete status: [init-myservice init-mydb]"
        containerStatuses:
        - name: myapp-container
          state:
            waiting:
              reason: PodInitializing
      """
    # init-myservice runs from 1 s and exits at 6 s; init-mydb runs from 7 s and exits at 10 s.
    When 6 seconds pass
    Then pod "myapp-pod" is in state "Init:1/2"
    And the pod "myapp-pod" matches:
      """
      status:
        initContainerStatuses:
        - name: init-myservice
          ready: true
          started: false
          state:
            terminated:
              exitCode: 0
              reason: Completed
      """
    When 4 seconds pass
    Then pod "myapp-pod" is in state "PodInitializing"
    And pod "myapp-pod" is not ready
    When 1 second passes
    Then pod "myapp-pod" is in state "Running"
    And pod "myapp-pod" is ready
    And the events of pod "myapp-pod" include "Started: Started container init-mydb"
    And the events of pod "myapp-pod" include "Started: Started container myapp-container"

  Scenario: a failing init container is retried with back-off and the app never starts
    Given image "migrate:1" exits with code 1 2 seconds after start
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: web
      spec:
        initContainers:
        - name: migrate
          image: migrate:1
        containers:
        - name: web
          image: web:1
      """
    # Fails at 3 s and is restarted at once; fails again at 6 s and waits 10 s.
    When 6 seconds pass
    Then pod "web" is in state "Init:CrashLoopBackOff"
    And the events of pod "web" include "BackOff: Back-off restarting failed container migrate"
    When 10 seconds pass
    Then pod "web" is in state "Init:0/1"
    When 1 minute passes
    Then pod "web" is in state "Init:CrashLoopBackOff"
    And the pod "web" matches:
      """
      status:
        phase: Pending
        initContainerStatuses:
        - name: migrate
          restartCount: 3
          lastState:
            terminated:
              exitCode: 1
              reason: Error
        containerStatuses:
        - name: web
          ready: false
          restartCount: 0
      """

  Scenario: under restartPolicy Never a failing init container fails the pod
    Given image "check:1" exits with code 2 1 second after start
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: once
      spec:
        restartPolicy: Never
        initContainers:
        - name: check
          image: check:1
        containers:
        - name: main
          image: main:1
      """
    When 2 seconds pass
    Then pod "once" is in state "Init:Error"
    And the pod "once" matches:
      """
      status:
        phase: Failed
        conditions:
        - type: Ready
          status: "False"
          reason: PodFailed
        initContainerStatuses:
        - name: check
          restartCount: 0
          state:
            terminated:
              exitCode: 2
      """

  Scenario: a sidecar with a startup probe holds the next init container until it has started
    Given image "envoy:1" takes 5 seconds to start up
    And image "setup:1" exits with code 0 2 seconds after start
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: meshed
      spec:
        initContainers:
        - name: envoy
          image: envoy:1
          restartPolicy: Always
          startupProbe:
            tcpSocket:
              port: 15000
            periodSeconds: 1
            failureThreshold: 10
        - name: setup
          image: setup:1
        containers:
        - name: app
          image: app:1
      """
    # envoy runs from 1 s and answers from 6 s, when its startup probe passes.
    When 5 seconds pass
    Then pod "meshed" is in state "Init:0/2"
    When 1 second passes
    Then pod "meshed" is in state "Init:1/2"
    # setup runs 7–9 s; the app runs from 10 s, beside envoy.
    When 4 seconds pass
    Then pod "meshed" is in state "Running"
    And pod "meshed" is ready
    And the pod "meshed" matches:
      """
      status:
        initContainerStatuses:
        - name: envoy
          ready: true
          started: true
          state:
            running: {}
        - name: setup
          state:
            terminated:
              reason: Completed
      """

  Scenario: a sidecar that is not ready keeps the pod out of its Service
    Given image "proxy:1" never becomes ready
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: api
        labels:
          app: api
      spec:
        initContainers:
        - name: proxy
          image: proxy:1
          restartPolicy: Always
          readinessProbe:
            httpGet:
              path: /ready
              port: 15020
        containers:
        - name: api
          image: api:1
      ---
      apiVersion: v1
      kind: Service
      metadata:
        name: api
      spec:
        selector:
          app: api
        ports:
        - port: 80
      """
    When 1 minute passes
    Then pod "api" is in state "Running"
    And pod "api" is not ready
    And service "api" has 0 ready endpoints
    And the pod "api" matches:
      """
      status:
        conditions:
        - type: ContainersReady
          status: "False"
          message: "containers with unready status: [proxy]"
      """
    When the readiness probe of pod "api" starts passing
    And 10 seconds pass
    Then pod "api" is ready
    And service "api" has 1 ready endpoints

  Scenario: a job-like pod completes, and then its sidecar is stopped
    Given image "batch:1" exits with code 0 5 seconds after start
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: batch
      spec:
        restartPolicy: Never
        initContainers:
        - name: logs
          image: fluent-bit:3
          restartPolicy: Always
        containers:
        - name: batch
          image: batch:1
      """
    # logs runs from 1 s; batch runs 2–7 s; logs is then stopped, which takes 1 s. Meanwhile
    # kubectl already shows Completed (it looks at the app containers), but the phase is still
    # Running.
    When 7 seconds pass
    Then pod "batch" is in state "Completed"
    And the pod "batch" matches:
      """
      status:
        phase: Running
      """
    And the events of pod "batch" include "Killing: Stopping container logs"
    When 1 second passes
    Then pod "batch" is in state "Completed"
    And the pod "batch" matches:
      """
      status:
        phase: Succeeded
        conditions:
        - type: Ready
          status: "False"
          reason: PodCompleted
      """

  Scenario: a Deployment whose pods carry a sidecar rolls out when both containers are ready
    Given image "shipper:1" takes 2 seconds to start up
    And the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: shop
      spec:
        replicas: 3
        selector:
          matchLabels:
            app: shop
        template:
          metadata:
            labels:
              app: shop
          spec:
            initContainers:
            - name: shipper
              image: shipper:1
              restartPolicy: Always
              startupProbe:
                exec:
                  command: ["cat", "/tmp/ready"]
                periodSeconds: 1
                failureThreshold: 30
            containers:
            - name: shop
              image: shop:1
      """
    Then deployment "shop" has 3 ready replicas
    When I set the image of container "shop" in deployment "shop" to "shop:2"
    Then the rollout of deployment "shop" completes within 1 minute
    And all pods of deployment "shop" run image "shop:2"
