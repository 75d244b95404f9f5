Feature: progressDeadlineSeconds and the Progressing condition
  syncRolloutStatus (upstream progress.go) refreshes Progressing.lastUpdateTime whenever
  the new RS grows, old replicas shrink, or ready/available replicas increase. With no
  progress the deployment is re-synced at lastUpdateTime + progressDeadlineSeconds + 1 s and
  marked False / ProgressDeadlineExceeded once lastUpdateTime + deadline < now. A timed-out
  deployment is not rolled back: it keeps its replica sets and keeps trying.

  Background:
    Given image "web:crash" crashes on start
    And the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: 3
        progressDeadlineSeconds: 60
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

  @D18 @K6
  Scenario: a rollout whose new pods never become ready exceeds its 60 second deadline
    When I set the image of deployment "web" to "web:crash"
    # t0: new RS created with 1 (updatedReplicas 0 -> 1 is progress): lastUpdateTime = t0.
    # Nothing progresses afterwards. At t0+60s, t0 + 60 < now is still false.
    And 60 seconds pass
    Then the deployment "web" matches:
      """
      status:
        conditions:
          - type: Progressing
            status: "True"
            reason: ReplicaSetUpdated
      """
    And the rollout status of deployment "web" is 'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...'
    # The re-sync at t0 + 60 s + 1 s finds the deadline passed.
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
            message: Deployment has minimum availability.
      """
    And the rollout status of deployment "web" is 'error: deployment "web" exceeded its progress deadline'
    # Not rolled back: the surge pod is still there and the old pods still serve.
    And the replica sets of deployment "web" went through:
      | old | new |
      | 3   | 0   |
      | 3   | 1   |
    And deployment "web" has 4 pods
    And deployment "web" has 3 available replicas

  Scenario: undoing a timed-out rollout scales the unhealthy pod away and completes at once
    When I set the image of deployment "web" to "web:crash"
    And 2 minutes pass
    Then the rollout status of deployment "web" is 'error: deployment "web" exceeded its progress deadline'
    When I undo the rollout of deployment "web"
    # The revision-1 RS becomes the new RS (revision 3) with spec 3 = replicas, so no scale up.
    # maxScaledDown = (1 + 3) - 3 - (3 - 3) = 1; the crashing RS has spec 1 != available 0,
    # so cleanupUnhealthyReplicas scales it 1 -> 0. Complete in the same instant.
    Then the rollout of deployment "web" completes within 1 second
    And the replica sets of deployment "web" went through:
      | old | new |
      | 1   | 3   |
      | 0   | 3   |
    And the rollout history of deployment "web" shows revisions "2, 3"
    And revision 3 of deployment "web" runs image "web:v1"
    And the deployment "web" matches:
      """
      status:
        conditions:
          - type: Progressing
            status: "True"
            reason: NewReplicaSetAvailable
      """

  Scenario: pausing a timed-out deployment keeps ProgressDeadlineExceeded
    When I set the image of deployment "web" to "web:crash"
    And 2 minutes pass
    And I pause the rollout of deployment "web"
    # checkPausedConditions never overwrites a ProgressDeadlineExceeded reason.
    Then the deployment "web" matches:
      """
      spec:
        paused: true
      status:
        conditions:
          - type: Progressing
            status: "False"
            reason: ProgressDeadlineExceeded
      """
    And the rollout status of deployment "web" is 'error: deployment "web" exceeded its progress deadline'

  Scenario: steady progress keeps resetting the clock of a rollout longer than the deadline
    # Each new pod takes 50 s to start. Every 50 s a pod becomes ready (progress), so the
    # 60 s deadline is never exceeded, although the whole rollout takes 150 s:
    # t0 3/1, t0+50s 2/2, t0+100s 1/3, t0+150s 0/3.
    Given image "web:slow" starts in 50 seconds
    When I set the image of deployment "web" to "web:slow"
    Then the rollout of deployment "web" does not complete within 2 minutes
    And the deployment "web" matches:
      """
      status:
        conditions:
          - type: Progressing
            status: "True"
            reason: ReplicaSetUpdated
      """
    And the rollout of deployment "web" completes within 1 minute
    And the deployment "web" matches:
      """
      status:
        conditions:
          - type: Progressing
            status: "True"
            reason: NewReplicaSetAvailable
      """
