Feature: Deployment events
  The Deployment controller records a Normal ScalingReplicaSet event for every scale of a
  ReplicaSet ("Scaled up replica set <rs> from <old> to <new>" / "Scaled down ..."); the
  "went through" tables elsewhere in this suite are exactly that sequence. ReplicaSet names
  carry an unpredictable hash, so the messages themselves are checked there. The legacy
  rollback events (DeploymentRollback, DeploymentRollbackRevisionNotFound,
  DeploymentRollbackTemplateUnchanged) only come from the removed server-side rollback;
  modern kubectl undo patches the template and never triggers them.

  Scenario: kubectl undo is a client-side template patch and records no rollback event
    Given a deployment "web" with 3 replicas of image "web:v1"
    When I set the image of deployment "web" to "web:v2"
    Then the rollout of deployment "web" completes within 1 minute
    When I undo the rollout of deployment "web"
    Then the rollout of deployment "web" completes within 1 minute
    And the deployment "web" has no event with reason "DeploymentRollback"
    And the deployment "web" has no event with reason "DeploymentRollbackRevisionNotFound"
    And the deployment "web" has no event with reason "DeploymentRollbackTemplateUnchanged"

  Scenario: each scaling of a ReplicaSet is one ScalingReplicaSet event
    # 2 replicas at 25%/25%: surge ceil(0.5) = 1, unavailable floor(0.5) = 0.
    # Events: new 0->1, old 2->1, new 1->2, old 1->0: four events, four rows after the first.
    Given a deployment "web" with 2 replicas of image "web:v1"
    When I set the image of deployment "web" to "web:v2"
    Then the rollout of deployment "web" completes within 1 minute
    And the replica sets of deployment "web" went through:
      | old | new |
      | 2   | 0   |
      | 2   | 1   |
      | 1   | 1   |
      | 1   | 2   |
      | 0   | 2   |
