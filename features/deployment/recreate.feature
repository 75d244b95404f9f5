Feature: Recreate strategy, compared with RollingUpdate
  rolloutRecreate (upstream recreate.go) scales every old ReplicaSet to 0, waits until no
  old pod exists any more (terminating pods still count), and only then creates the new
  ReplicaSet directly at spec.replicas. For Recreate MaxUnavailable is 0, so the Available
  condition needs every replica.

  @D12
  Scenario: no new ReplicaSet exists until the last old pod has exited
    # web:v1 pods take 5 seconds to exit after SIGTERM.
    # t0   : old RS 3 -> 0 (row 0/0); pods terminate, nothing is counted; no new RS yet.
    # t0+5s: old pods gone -> new RS created with replicas = 3 (row 0/3).
    # t0+6s: new pods ready, rollout complete.
    Given image "web:v1" stops in 5 seconds
    And the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: 3
        strategy:
          type: Recreate
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
      """
    When I set the image of deployment "web" to "web:v2"
    Then deployment "web" has 0 pods
    And deployment "web" has 0 available replicas
    And deployment "web" has 1 replica sets
    And the deployment "web" matches:
      """
      status:
        conditions:
          - type: Available
            status: "False"
            reason: MinimumReplicasUnavailable
            message: Deployment does not have minimum availability.
      """
    And the rollout status of deployment "web" is 'Waiting for deployment "web" rollout to finish: 0 out of 3 new replicas have been updated...'
    When 4 seconds pass
    Then deployment "web" has 1 replica sets
    And deployment "web" has 0 pods
    When 1 second passes
    Then deployment "web" has 2 replica sets
    And deployment "web" has 3 pods
    # updated 3 = replicas 3, but none available yet.
    And the rollout status of deployment "web" is 'Waiting for deployment "web" rollout to finish: 0 of 3 updated replicas are available...'
    And the rollout of deployment "web" completes within 2 seconds
    And the replica sets of deployment "web" went through:
      | old | new |
      | 3   | 0   |
      | 0   | 0   |
      | 0   | 3   |
    And during the rollout deployment "web" never had more than 3 pods
    And all pods of deployment "web" run image "web:v2"

  Scenario: Recreate has a window with no available pod, RollingUpdate keeps every pod available
    Given the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: fast
      spec:
        replicas: 3
        strategy:
          type: Recreate
        selector:
          matchLabels:
            app: fast
        template:
          metadata:
            labels:
              app: fast
          spec:
            containers:
              - name: fast
                image: web:v1
      ---
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: safe
      spec:
        replicas: 3
        strategy:
          type: RollingUpdate
        selector:
          matchLabels:
            app: safe
        template:
          metadata:
            labels:
              app: safe
          spec:
            containers:
              - name: safe
                image: web:v1
      """
    When I set the image of deployment "fast" to "web:v2"
    And I set the image of deployment "safe" to "web:v2"
    Then deployment "fast" has 0 available replicas
    And deployment "safe" has 3 available replicas
    And the rollout of deployment "fast" completes within 1 minute
    And the rollout of deployment "safe" completes within 1 minute
    # Recreate: 3 -> 0 pods, then 0 -> 3: never a surge, but nothing available in between.
    And during the rollout deployment "fast" never had more than 3 pods
    And the replica sets of deployment "fast" went through:
      | old | new |
      | 3   | 0   |
      | 0   | 0   |
      | 0   | 3   |
    # RollingUpdate at 25%/25% of 3: surge 1, unavailable 0.
    And during the rollout deployment "safe" never had more than 4 pods
    And during the rollout deployment "safe" never had fewer than 3 available pods

  Scenario: a Recreate rollout to an image that cannot be pulled leaves no pod available
    Given image "web:broken" cannot be pulled
    And the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: 3
        strategy:
          type: Recreate
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
      """
    When I set the image of deployment "web" to "web:broken"
    Then the rollout of deployment "web" does not complete within 2 minutes
    # Old pods exited after 1 s (default stop time); then the new RS went straight to 3.
    And the replica sets of deployment "web" went through:
      | old | new |
      | 3   | 0   |
      | 0   | 0   |
      | 0   | 3   |
    And deployment "web" has 3 pods
    And deployment "web" has 0 available replicas
    And the deployment "web" matches:
      """
      status:
        replicas: 3
        updatedReplicas: 3
        unavailableReplicas: 3
        conditions:
          - type: Available
            status: "False"
            reason: MinimumReplicasUnavailable
            message: Deployment does not have minimum availability.
      """
    And the rollout status of deployment "web" is 'Waiting for deployment "web" rollout to finish: 0 of 3 updated replicas are available...'
