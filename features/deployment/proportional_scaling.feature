Feature: Proportional scaling during a rollout
  If spec.replicas changes while more than one ReplicaSet is active, sync() -> scale()
  spreads the difference over the active ReplicaSets (upstream sync.go, GetProportion):
    allowed  = replicas + maxSurge
    toAdd    = allowed - sum(spec of active RSs)
    rs_new   = round_half_up(rs.spec * allowed / rs.max-replicas annotation)
    share    = min(rs_new - rs.spec, toAdd - added)   (max(...) when scaling down)
  RSs are visited largest first; ties go to the newer RS when adding and to the older RS
  when removing. The first RS visited also gets whatever is left over. Each scaled RS
  emits one ScalingReplicaSet event, i.e. one row of the table below.

  @D8
  Scenario: scaling a stalled 10-replica rollout to 30 splits the 20 new replicas 12 / 8
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
    # Stalls at old 8 / new 5 (max-replicas annotation 10 + 3 = 13 on both RSs).
    And I scale deployment "web" to 30 replicas
    # allowed = 30 + 3 = 33, toAdd = 33 - 13 = 20; order: old (8), new (5).
    # old: round(8 * 33 / 13) = round(20.31) = 20 -> +12 = min(12, 20)
    # new: round(5 * 33 / 13) = round(12.69) = 13 -> +8  = min(8, 20 - 12)
    And 1 second passes
    Then the replica sets of deployment "web" went through:
      | old | new |
      | 10  | 0   |
      | 10  | 3   |
      | 8   | 3   |
      | 8   | 5   |
      | 20  | 5   |
      | 20  | 13  |
    And deployment "web" has 30 replicas
    And deployment "web" has 33 pods
    And during the rollout deployment "web" never had more than 33 pods
    # Then the rollout is stuck again: maxScaledDown = 33 - 28 - 13 < 0.
    # 20 old pods available < 30 - 2 = 28, so Available turns False.
    And the deployment "web" matches:
      """
      status:
        replicas: 33
        updatedReplicas: 13
        readyReplicas: 20
        availableReplicas: 20
        unavailableReplicas: 13
        conditions:
          - type: Available
            status: "False"
            reason: MinimumReplicasUnavailable
            message: Deployment does not have minimum availability.
      """

  @D9
  Scenario: scaling the same stalled rollout back from 30 to 10 takes 12 from the old and 8 from the new
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
    And I scale deployment "web" to 30 replicas
    And 1 second passes
    # Both RSs now carry max-replicas 33. allowed = 10 + 3 = 13, toAdd = 13 - 33 = -20;
    # order: old (20), new (13).
    # old: round(20 * 13 / 33) = round(7.88) = 8 -> -12 = max(-12, -20)
    # new: round(13 * 13 / 33) = round(5.12) = 5 -> -8  = max(-8, -20 + 12)
    And I scale deployment "web" to 10 replicas
    Then the replica sets of deployment "web" went through:
      | old | new |
      | 10  | 0   |
      | 10  | 3   |
      | 8   | 3   |
      | 8   | 5   |
      | 20  | 5   |
      | 20  | 13  |
      | 8   | 13  |
      | 8   | 5   |
    And deployment "web" has 13 pods
    And deployment "web" has 8 available replicas
    And the deployment "web" matches:
      """
      status:
        replicas: 13
        updatedReplicas: 5
        availableReplicas: 8
        conditions:
          - type: Available
            status: "True"
            reason: MinimumReplicasAvailable
      """

  @D10
  Scenario: scaling up by one mid-rollout gives the extra replica to the newer of two equal ReplicaSets
    # 3 replicas, surge 1, unavailable 0; web:v2 pods start 10 s after creation.
    # t0 3/1; t0+10s: A ready -> 2/1, 2/2 (max-replicas 4 on both).
    Given image "web:v2" starts in 10 seconds
    And the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: 3
        strategy:
          rollingUpdate:
            maxSurge: 1
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
    And 10 seconds pass
    # allowed = 4 + 1 = 5, toAdd = 5 - 4 = 1; tie 2/2 -> newer first.
    # new: round(2 * 5 / 4) = round(2.5) = 3 -> +1; old: nothing left to add.
    And I scale deployment "web" to 4 replicas
    Then the replica sets of deployment "web" went through:
      | old | new |
      | 3   | 0   |
      | 3   | 1   |
      | 2   | 1   |
      | 2   | 2   |
      | 2   | 3   |
    # Then the rollout resumes for 4 replicas (maxTotal 5, minAvailable 4):
    # t0+20s: new 3 available -> 1/3, 1/4; t0+30s -> 0/4.
    And the rollout of deployment "web" completes within 1 minute
    And the replica sets of deployment "web" went through:
      | old | new |
      | 3   | 0   |
      | 3   | 1   |
      | 2   | 1   |
      | 2   | 2   |
      | 2   | 3   |
      | 1   | 3   |
      | 1   | 4   |
      | 0   | 4   |
    And during the rollout deployment "web" never had more than 5 pods
    And during the rollout deployment "web" never had fewer than 3 available pods

  @D11
  Scenario: scaling down by one mid-rollout takes the replica from the older of two equal ReplicaSets
    Given image "web:v2" starts in 10 seconds
    And the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: 3
        strategy:
          rollingUpdate:
            maxSurge: 1
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
    And 10 seconds pass
    # allowed = 2 + 1 = 3, toAdd = 3 - 4 = -1; tie 2/2 -> older first.
    # both: round(2 * 3 / 4) = round(1.5) = 2 -> fraction 0; the leftover -1 goes to the
    # first RS visited, the old one: 2 -> 1.
    And I scale deployment "web" to 2 replicas
    Then the replica sets of deployment "web" went through:
      | old | new |
      | 3   | 0   |
      | 3   | 1   |
      | 2   | 1   |
      | 2   | 2   |
      | 1   | 2   |
    # t0+20s: B ready; available 1 + 2 = 3 > 2 -> old 1 -> 0.
    And the rollout of deployment "web" completes within 1 minute
    And the replica sets of deployment "web" went through:
      | old | new |
      | 3   | 0   |
      | 3   | 1   |
      | 2   | 1   |
      | 2   | 2   |
      | 1   | 2   |
      | 0   | 2   |
    And all pods of deployment "web" run image "web:v2"
