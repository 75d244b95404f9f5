Feature: Rolling update of a Deployment
  A RollingUpdate replaces old pods with new ones in steps bounded by maxSurge and
  maxUnavailable (kubernetes-semantics.md §1.2, §1.5, §1.6; upstream rolling.go):

    surge         = ceil(maxSurge% * replicas)      unavailable = floor(maxUnavailable% * replicas)
    maxTotal      = replicas + surge
    scale up new  = new + min(maxTotal - sum(spec of all RSs), replicas - new)
    maxScaledDown = sum(spec) - (replicas - unavailable) - (new.spec - new.available)
    scale down    = available - minAvailable, taken from the oldest old RS first

  Timing: every image starts 1 second after its pod is created unless a step says
  otherwise; a sync that scales something ends, and the next sync runs at the same instant.

  # The example from issue 2, kept verbatim.
  @bootcamp
  Scenario: one up, one down
    Given image "bootcamp:v1" starts in 1 second
    And image "bootcamp:v2" starts in 1 second
    And a deployment "kubernetes-bootcamp" with 3 replicas of image "bootcamp:v1"
    When I set the image of deployment "kubernetes-bootcamp" to "bootcamp:v2"
    Then the rollout of deployment "kubernetes-bootcamp" completes within 1 minute
    And the replica sets of deployment "kubernetes-bootcamp" went through:
      | old | new |
      | 3   | 0   |
      | 3   | 1   |
      | 2   | 1   |
      | 2   | 2   |
      | 1   | 2   |
      | 1   | 3   |
      | 0   | 3   |
    And during the rollout deployment "kubernetes-bootcamp" never had fewer than 3 available pods

  @D3
  Scenario: 3 replicas at the default 25%/25% never exceed 4 pods nor drop below 3 available
    # surge = ceil(0.25*3) = ceil(0.75) = 1; unavailable = floor(0.75) = 0.
    # At most 3 + 1 = 4 pods; at least 3 - 0 = 3 available.
    Given a deployment "web" with 3 replicas of image "web:v1"
    When I set the image of deployment "web" to "web:v2"
    Then the rollout of deployment "web" completes within 1 minute
    And during the rollout deployment "web" never had more than 4 pods
    And during the rollout deployment "web" never had fewer than 3 available pods
    And all pods of deployment "web" run image "web:v2"

  @D4
  Scenario: 4 replicas at 25%/25% remove two old pods at once when two new pods become ready together
    # surge = ceil(1) = 1, unavailable = floor(1) = 1: maxTotal 5, minAvailable 3.
    # t0   : new RS created with min(5-4, 4) = 1                               -> 4/1
    #        maxScaledDown = 5 - 3 - (1-0) = 1; available 4 > 3, remove 1       -> 3/1
    #        new = 1 + min(5-4, 4-1) = 2                                        -> 3/2
    #        maxScaledDown = 5 - 3 - 2 = 0: wait
    # t0+1s: both new pods ready: maxScaledDown = 5-3-0 = 2; available 3+2 = 5,
    #        remove 5 - 3 = 2                                                   -> 1/2
    #        new = 2 + min(5-3, 4-2) = 4                                        -> 1/4
    # t0+2s: available 1+4 = 5, remove min(1, 2) = 1                            -> 0/4
    Given image "web:v1" starts in 1 second
    And image "web:v2" starts in 1 second
    And a deployment "web" with 4 replicas of image "web:v1"
    When I set the image of deployment "web" to "web:v2"
    Then the rollout of deployment "web" completes within 1 minute
    And the replica sets of deployment "web" went through:
      | old | new |
      | 4   | 0   |
      | 4   | 1   |
      | 3   | 1   |
      | 3   | 2   |
      | 1   | 2   |
      | 1   | 4   |
      | 0   | 4   |
    And during the rollout deployment "web" never had more than 5 pods
    And during the rollout deployment "web" never had fewer than 3 available pods

  @D2
  Scenario: a single replica is replaced only after its successor is available
    # surge = ceil(0.25) = 1, unavailable = floor(0.25) = 0: at most 2 pods, at least 1 available.
    # t0: new RS created with 1 (1/1); maxScaledDown = 2 - 1 - 1 = 0.
    # t0+1s: new pod ready, maxScaledDown = 1, available 2 > 1: old 1 -> 0.
    Given a deployment "web" with 1 replicas of image "web:v1"
    When I set the image of deployment "web" to "web:v2"
    Then the rollout of deployment "web" completes within 1 minute
    And the replica sets of deployment "web" went through:
      | old | new |
      | 1   | 0   |
      | 1   | 1   |
      | 0   | 1   |
    And during the rollout deployment "web" never had more than 2 pods
    And during the rollout deployment "web" never had fewer than 1 available pods

  Scenario: set image rolls every pod onto the new image and records revision 2
    Given a deployment "web" with 3 replicas of image "web:v1"
    When I set the image of deployment "web" to "web:v2"
    Then the rollout of deployment "web" completes within 1 minute
    And all pods of deployment "web" run image "web:v2"
    And deployment "web" has 3 pods
    And deployment "web" has 2 replica sets
    And revision 1 of deployment "web" runs image "web:v1"
    And revision 1 of deployment "web" has 0 replicas
    And revision 2 of deployment "web" runs image "web:v2"
    And revision 2 of deployment "web" has 3 replicas
    # Creation is generation 1; the image change bumps it to 2.
    And the deployment "web" matches:
      """
      metadata:
        generation: 2
        annotations:
          deployment.kubernetes.io/revision: "2"
      status:
        observedGeneration: 2
        replicas: 3
        updatedReplicas: 3
        readyReplicas: 3
        availableReplicas: 3
      """

  Scenario: set image of one container of a two-container pod creates one new revision
    Given the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: 2
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
              - name: sidecar
                image: proxy:v1
      """
    When I set the image of container "sidecar" in deployment "web" to "proxy:v2"
    Then the rollout of deployment "web" completes within 1 minute
    And the rollout history of deployment "web" shows revisions "1, 2"
    And the deployment "web" matches:
      """
      spec:
        template:
          spec:
            containers:
              - name: web
                image: web:v1
              - name: sidecar
                image: proxy:v2
      """

  Scenario: only a change of the pod template creates a revision
    Given the manifest "fixtures/deployment/web-v1.yaml"
    # Re-applying the unchanged file changes nothing.
    When I apply "fixtures/deployment/web-v1.yaml"
    Then the rollout of deployment "web" completes within 1 minute
    And the rollout history of deployment "web" shows revisions "1"
    # Same template, other replicas: a scaling event, not a revision.
    When I patch deployment "web" with:
      """
      spec:
        replicas: 5
      """
    Then the rollout of deployment "web" completes within 1 minute
    And the rollout history of deployment "web" shows revisions "1"
    And deployment "web" has 1 replica sets
    And revision 1 of deployment "web" has 5 replicas
    # A new template label is a template change.
    When I patch deployment "web" with:
      """
      spec:
        template:
          metadata:
            labels:
              tier: frontend
      """
    Then the rollout of deployment "web" completes within 1 minute
    And the rollout history of deployment "web" shows revisions "1, 2"
    # So is a new image applied from a file.
    When I apply "fixtures/deployment/web-v2.yaml"
    Then the rollout of deployment "web" completes within 1 minute
    And the rollout history of deployment "web" shows revisions "1, 2, 3"
    And all pods of deployment "web" run image "web:v2"
