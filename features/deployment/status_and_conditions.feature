Feature: Deployment status fields and conditions
  calculateStatus (upstream sync.go) sums the ReplicaSets' status: replicas, readyReplicas,
  availableReplicas over all of them, updatedReplicas from the new one, and
  unavailableReplicas = sum(spec.replicas) - availableReplicas (so surge pods count).
  Available is True when availableReplicas >= replicas - MaxUnavailable, where
  MaxUnavailable is floor(maxUnavailable% * replicas), capped at replicas, and 0 when
  replicas is 0 or the strategy is Recreate.

  Scenario: a completed rollout reports full status and both conditions
    Given a deployment "web" with 3 replicas of image "web:v1"
    When I set the image of deployment "web" to "web:v2"
    Then the rollout of deployment "web" completes within 1 minute
    And deployment "web" has 3 replicas
    And deployment "web" has 3 ready replicas
    And deployment "web" has 3 available replicas
    And deployment "web" has 3 updated replicas
    And the deployment "web" matches:
      """
      metadata:
        generation: 2
      status:
        observedGeneration: 2
        replicas: 3
        updatedReplicas: 3
        readyReplicas: 3
        availableReplicas: 3
        conditions:
          - type: Available
            status: "True"
            reason: MinimumReplicasAvailable
            message: Deployment has minimum availability.
          - type: Progressing
            status: "True"
            reason: NewReplicaSetAvailable
      """

  Scenario: surge pods that are not yet available count as unavailable
    # 3/1 right after the image change: sum(spec) 4, available 3 -> unavailable 1.
    Given image "web:v2" starts in 10 seconds
    And a deployment "web" with 3 replicas of image "web:v1"
    When I set the image of deployment "web" to "web:v2"
    Then the deployment "web" matches:
      """
      status:
        replicas: 4
        updatedReplicas: 1
        readyReplicas: 3
        availableReplicas: 3
        unavailableReplicas: 1
        conditions:
          - type: Available
            status: "True"
            reason: MinimumReplicasAvailable
          - type: Progressing
            status: "True"
            reason: ReplicaSetUpdated
      """

  @D3
  Scenario: with 3 replicas the Available condition needs all 3
    # MaxUnavailable(3) = floor(0.75) = 0, so 2 available of 3 is not enough.
    Given a deployment "web" with 2 replicas of image "web:v1"
    When I scale deployment "web" to 3 replicas
    Then deployment "web" has 2 available replicas
    And the deployment "web" matches:
      """
      status:
        replicas: 3
        availableReplicas: 2
        unavailableReplicas: 1
        conditions:
          - type: Available
            status: "False"
            reason: MinimumReplicasUnavailable
            message: Deployment does not have minimum availability.
      """
    And the rollout status of deployment "web" is 'Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are available...'
    When 1 second passes
    Then the deployment "web" matches:
      """
      status:
        availableReplicas: 3
        conditions:
          - type: Available
            status: "True"
            reason: MinimumReplicasAvailable
            message: Deployment has minimum availability.
      """

  @D4
  Scenario: with 4 replicas one unavailable replica is tolerated
    # MaxUnavailable(4) = floor(1) = 1, so 3 available of 4 is enough.
    Given a deployment "web" with 3 replicas of image "web:v1"
    When I scale deployment "web" to 4 replicas
    Then the deployment "web" matches:
      """
      status:
        replicas: 4
        availableReplicas: 3
        unavailableReplicas: 1
        conditions:
          - type: Available
            status: "True"
            reason: MinimumReplicasAvailable
      """

  @D6
  Scenario: a deployment scaled to 0 replicas is available and complete
    # MaxUnavailable = 0 when replicas = 0; 0 >= 0 - 0.
    Given the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: 0
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
    Then deployment "web" has 0 pods
    And deployment "web" has 0 available replicas
    And deployment "web" has 1 replica sets
    And the rollout status of deployment "web" is 'deployment "web" successfully rolled out'
    And the deployment "web" matches:
      """
      status:
        conditions:
          - type: Available
            status: "True"
            reason: MinimumReplicasAvailable
            message: Deployment has minimum availability.
          - type: Progressing
            status: "True"
            reason: NewReplicaSetAvailable
      """
    # A template change still records a revision, with an empty ReplicaSet.
    When I set the image of deployment "web" to "web:v2"
    Then the rollout of deployment "web" completes within 1 second
    And the rollout history of deployment "web" shows revisions "1, 2"
    And revision 2 of deployment "web" has 0 replicas
    And deployment "web" has 0 pods
