Feature: maxSurge and maxUnavailable, as numbers and as percents
  ResolveFenceposts (upstream deployment_util.go) turns the two fields into numbers:
  a percent of maxSurge rounds UP, a percent of maxUnavailable rounds DOWN, and if both
  resolve to 0 then maxUnavailable becomes 1. The new RS is always scaled up first, then
  old RSs are scaled down, each in its own sync. All images start 1 second after their
  pod is created.

  @D1
  Scenario: 10 replicas at 25%/25% resolve to surge 3 and unavailable 2
    # surge = ceil(2.5) = 3, unavailable = floor(2.5) = 2: maxTotal 13, minAvailable 8.
    # t0   : new RS created with min(13-10, 10) = 3                       -> 10/3
    #        maxScaledDown = 13 - 8 - 3 = 2; available 10 > 8, remove 2   ->  8/3
    #        new = 3 + min(13-11, 10-3) = 5                               ->  8/5
    # t0+1s: 5 new pods ready: maxScaledDown = 13-8-0 = 5;
    #        available 8+5 = 13, remove 13-8 = 5                          ->  3/5
    #        new = 5 + min(13-8, 10-5) = 10                               ->  3/10
    # t0+2s: available 3+10 = 13, remove min(3, 5) = 3                    ->  0/10
    Given the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: 10
        strategy:
          type: RollingUpdate
          rollingUpdate:
            maxSurge: 25%
            maxUnavailable: 25%
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
    Then the rollout of deployment "web" completes within 1 minute
    And the replica sets of deployment "web" went through:
      | old | new |
      | 10  | 0   |
      | 10  | 3   |
      | 8   | 3   |
      | 8   | 5   |
      | 3   | 5   |
      | 3   | 10  |
      | 0   | 10  |
    And during the rollout deployment "web" never had more than 13 pods
    And during the rollout deployment "web" never had fewer than 8 available pods

  @D5
  Scenario: maxSurge 0% and maxUnavailable 1% of 2 replicas both round to 0, so one pod may be unavailable
    # surge = ceil(0% * 2) = 0, unavailable = floor(1% * 2) = 0 -> fencepost: unavailable = 1.
    # maxTotal 2, minAvailable 1. (Validation accepts it: 1% is not 0.)
    # t0   : new RS created with 0 (2 >= maxTotal, no event); maxScaledDown = 2-1-0 = 1;
    #        available 2 > 1, remove 1                                    -> 1/0
    #        new = 0 + min(2-1, 2-0) = 1                                  -> 1/1
    # t0+1s: new pod ready: available 2 > 1, remove 1                     -> 0/1
    #        new = 1 + min(2-1, 2-1) = 2                                  -> 0/2
    Given the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: 2
        strategy:
          rollingUpdate:
            maxSurge: 0%
            maxUnavailable: 1%
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
    Then the rollout of deployment "web" completes within 1 minute
    And the replica sets of deployment "web" went through:
      | old | new |
      | 2   | 0   |
      | 1   | 0   |
      | 1   | 1   |
      | 0   | 1   |
      | 0   | 2   |
    And during the rollout deployment "web" never had more than 2 pods
    And during the rollout deployment "web" never had fewer than 1 available pods

  Scenario: maxSurge 100% with maxUnavailable 0 brings up a full new set before removing the old one
    # surge = ceil(100% * 4) = 4, unavailable = 0: maxTotal 8, minAvailable 4.
    # t0   : new RS created with min(8-4, 4) = 4                          -> 4/4
    # t0+1s: available 8, remove 8 - 4 = 4                                -> 0/4
    Given the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: 4
        strategy:
          rollingUpdate:
            maxSurge: 100%
            maxUnavailable: 0
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
    Then the rollout of deployment "web" completes within 1 minute
    And the replica sets of deployment "web" went through:
      | old | new |
      | 4   | 0   |
      | 4   | 4   |
      | 0   | 4   |
    And during the rollout deployment "web" never had more than 8 pods
    And during the rollout deployment "web" never had fewer than 4 available pods

  Scenario: maxUnavailable 50% with maxSurge 0 removes half the old pods before creating new ones
    # surge = 0, unavailable = floor(50% * 4) = 2: maxTotal 4, minAvailable 2.
    # t0   : new RS created with 0 (no event); maxScaledDown = 4-2-0 = 2;
    #        available 4 > 2, remove 2                                    -> 2/0
    #        new = 0 + min(4-2, 4) = 2                                    -> 2/2
    # t0+1s: available 2+2 = 4, remove 2                                  -> 0/2
    #        new = 2 + min(4-2, 4-2) = 4                                  -> 0/4
    Given the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: 4
        strategy:
          rollingUpdate:
            maxSurge: 0
            maxUnavailable: 50%
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
    Then the rollout of deployment "web" completes within 1 minute
    And the replica sets of deployment "web" went through:
      | old | new |
      | 4   | 0   |
      | 2   | 0   |
      | 2   | 2   |
      | 0   | 2   |
      | 0   | 4   |
    And during the rollout deployment "web" never had more than 4 pods
    And during the rollout deployment "web" never had fewer than 2 available pods

  Scenario: 30% of 5 replicas rounds up to a surge of 2 and down to 1 unavailable
    # surge = ceil(1.5) = 2, unavailable = floor(1.5) = 1: maxTotal 7, minAvailable 4.
    # t0   : new RS created with min(7-5, 5) = 2                          -> 5/2
    #        maxScaledDown = 7-4-2 = 1; available 5 > 4, remove 1         -> 4/2
    #        new = 2 + min(7-6, 5-2) = 3                                  -> 4/3
    #        maxScaledDown = 7-4-3 = 0
    # t0+1s: 3 new pods ready: maxScaledDown = 3; available 4+3 = 7,
    #        remove 7-4 = 3                                               -> 1/3
    #        new = 3 + min(7-4, 5-3) = 5                                  -> 1/5
    #        maxScaledDown = 6-4-2 = 0
    # t0+2s: available 1+5 = 6, remove min(1, 2) = 1                      -> 0/5
    Given the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: 5
        strategy:
          rollingUpdate:
            maxSurge: 30%
            maxUnavailable: 30%
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
    Then the rollout of deployment "web" completes within 1 minute
    And the replica sets of deployment "web" went through:
      | old | new |
      | 5   | 0   |
      | 5   | 2   |
      | 4   | 2   |
      | 4   | 3   |
      | 1   | 3   |
      | 1   | 5   |
      | 0   | 5   |
    And during the rollout deployment "web" never had more than 7 pods
    And during the rollout deployment "web" never had fewer than 4 available pods

  @D7
  Scenario: with surge 3 and unavailable 2, an image that never starts stalls at old 8 / new 5
    # maxTotal 13, minAvailable 8 (the e2e "proportional scaling" set-up).
    # sync: new RS created with 3                                         -> 10/3
    #       maxScaledDown = 13 - 8 - 3 = 2; available 10 > 8, remove 2    ->  8/3
    #       new = 3 + min(13-11, 10-3) = 5                                ->  8/5
    #       maxScaledDown = 13 - 8 - 5 = 0 for ever: stuck.
    # status: replicas 8+5 = 13, updated 5, available 8,
    #         unavailable = sum(spec) - available = 13 - 8 = 5; Available: 8 >= 8.
    Given image "web:broken" cannot be pulled
    And the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: 10
        strategy:
          rollingUpdate:
            maxSurge: 3
            maxUnavailable: 2
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
    Then the rollout of deployment "web" does not complete within 5 minutes
    And the replica sets of deployment "web" went through:
      | old | new |
      | 10  | 0   |
      | 10  | 3   |
      | 8   | 3   |
      | 8   | 5   |
    And deployment "web" has 13 pods
    And the deployment "web" matches:
      """
      status:
        replicas: 13
        updatedReplicas: 5
        readyReplicas: 8
        availableReplicas: 8
        unavailableReplicas: 5
        conditions:
          - type: Available
            status: "True"
            reason: MinimumReplicasAvailable
            message: Deployment has minimum availability.
          - type: Progressing
            status: "True"
            reason: ReplicaSetUpdated
      """
    # Default progressDeadlineSeconds 600; the last progress was at t0 (5 minutes ago).
    # Timed out once t0 + 600 s < now: not at t0 + 600 s, but at the re-sync t0 + 601 s.
    When 5 minutes pass
    Then the deployment "web" matches:
      """
      status:
        conditions:
          - type: Progressing
            status: "True"
            reason: ReplicaSetUpdated
      """
    When 1 second passes
    Then the deployment "web" matches:
      """
      status:
        conditions:
          - type: Progressing
            status: "False"
            reason: ProgressDeadlineExceeded
          - type: Available
            status: "True"
            reason: MinimumReplicasAvailable
      """
    And deployment "web" has 8 available replicas
