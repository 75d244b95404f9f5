Feature: StatefulSet OrderedReady scaling
  With podManagementPolicy OrderedReady (the default) a StatefulSet creates web-0, then web-1
  once web-0 is Running and Ready, and so on; it scales down from the highest ordinal, one pod
  at a time, waiting for each to be gone (pkg/controller/statefulset/stateful_set_control.go).

  @S1 @bootcamp
  Scenario: pods are created one after another, each once its predecessor is ready
    Given a statefulset "web" with 3 replicas of image "nginx:1.27"
    Then the pods of statefulset "web" were created in order "web-0, web-1, web-2"
    And pod "web-2" exists
    And pod "web-3" does not exist
    And statefulset "web" has 3 ready replicas
    And the statefulset "web" has an event with reason "SuccessfulCreate" and message "create Pod web-1 in StatefulSet web successful"
    And the pod "web-1" matches:
      """
      metadata:
        labels:
          app: web
          statefulset.kubernetes.io/pod-name: web-1
          apps.kubernetes.io/pod-index: "1"
      spec:
        hostname: web-1
        subdomain: web
      """

  @S1 @K8
  Scenario: each pod waits for the one before it
    Given image "db:1" starts in 10 seconds
    And a statefulset "db" with 1 replicas of image "db:1"
    When I scale statefulset "db" to 3 replicas
    Then the rollout status of statefulset "db" is "Waiting for 2 pods to be ready..."
    And pod "db-1" exists
    And pod "db-2" does not exist
    When 10 seconds pass
    Then pod "db-2" exists
    And the rollout status of statefulset "db" is "Waiting for 1 pods to be ready..."
    And the rollout of statefulset "db" completes within 11 seconds

  @S2
  Scenario: a pod that never gets ready halts the scale-up
    Given image "never:1" never becomes ready
    When I apply the manifest:
      """
      apiVersion: apps/v1
      kind: StatefulSet
      metadata:
        name: web
      spec:
        replicas: 3
        serviceName: web
        selector:
          matchLabels: {app: web}
        template:
          metadata:
            labels: {app: web}
          spec:
            containers:
            - name: web
              image: never:1
              readinessProbe:
                httpGet: {path: /ready, port: 80}
                periodSeconds: 1
      """
    And 5 minutes pass
    Then pod "web-0" exists
    And pod "web-1" does not exist
    And statefulset "web" has 1 total replicas
    And statefulset "web" has 0 ready replicas
    And the rollout status of statefulset "web" is "Waiting for 3 pods to be ready..."

  @S3
  Scenario: scale-down removes the highest ordinal first and waits for it to be gone
    Given image "nginx:1.27" stops in 5 seconds
    And a statefulset "web" with 3 replicas of image "nginx:1.27"
    When I scale statefulset "web" to 1 replicas
    Then the pods of statefulset "web" were deleted in order "web-2"
    When 4 seconds pass
    Then the pods of statefulset "web" were deleted in order "web-2"
    When 1 second passes
    Then the pods of statefulset "web" were deleted in order "web-2, web-1"
    When 5 seconds pass
    Then pod "web-0" exists
    And pod "web-1" does not exist
    And pod "web-2" does not exist

  @S11
  Scenario: minReadySeconds delays the next pod and availability
    When I apply the manifest:
      """
      apiVersion: apps/v1
      kind: StatefulSet
      metadata:
        name: web
      spec:
        replicas: 2
        minReadySeconds: 10
        serviceName: web
        selector:
          matchLabels: {app: web}
        template:
          metadata:
            labels: {app: web}
          spec:
            containers:
            - name: web
              image: nginx:1.27
      """
    And 1 second passes
    Then statefulset "web" has 1 ready replicas
    And statefulset "web" has 0 available replicas
    When 10 seconds pass
    Then pod "web-1" does not exist
    When 1 second passes
    Then pod "web-1" exists
    And statefulset "web" has 1 available replicas
