Feature: Which pods a ReplicaSet deletes first
  A ReplicaSet that scales down sorts its pods (ActivePodsWithRanks, upstream
  controller_utils.go) and deletes the first ones: unscheduled before scheduled, Pending
  before Running, not Ready before Ready, then deletion cost, co-location rank, and
  readiness and creation time. So a scale-down removes pods that are not serving yet.

  Scenario: scaling up and straight back down removes the pods that are not ready yet
    Given a deployment "web" with 3 replicas of image "web:v1"
    # The two new pods are scheduled but Pending (they start after 1 s).
    When I scale deployment "web" to 5 replicas
    And I scale deployment "web" to 3 replicas
    # The three Running, Ready pods survive.
    Then deployment "web" has 3 pods
    And deployment "web" has 3 ready replicas
    And deployment "web" has 3 available replicas

  @R8
  Scenario: a rollout cleans up the not-ready pods of an old ReplicaSet first
    # 5 replicas at 25%/25%: surge ceil(1.25) = 2, unavailable floor(1.25) = 1 -> maxTotal 7,
    # minAvailable 4. Scaling 3 -> 5 leaves 2 Pending pods in the old RS (spec 5, available 3).
    # The image change follows at the same instant:
    #   new RS created with min(7 - 5, 5) = 2                                   -> 5/2
    #   maxScaledDown = 7 - 4 - 2 = 1; cleanupUnhealthyReplicas: old spec 5 != available 3,
    #   scale it down by min(1, 5 - 3) = 1 and the RS deletes a Pending pod    -> 4/2
    #   (step b: available 3 <= 4, nothing more)
    #   new = 2 + min(7 - 6, 5 - 2) = 3                                         -> 4/3
    # t+1s: old 4 available + new 3 available = 7, remove 7 - 4 = 3           -> 1/3
    #   new = 3 + min(7 - 4, 5 - 3) = 5                                         -> 1/5
    # t+2s: available 1 + 5 = 6, remove min(1, 2) = 1                         -> 0/5
    Given a deployment "web" with 3 replicas of image "web:v1"
    When I scale deployment "web" to 5 replicas
    And I set the image of deployment "web" to "web:v2"
    # The old RS kept its 3 Ready pods; one Pending pod was removed.
    Then deployment "web" has 3 ready replicas
    And deployment "web" has 7 pods
    And the rollout of deployment "web" completes within 1 minute
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
