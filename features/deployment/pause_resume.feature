Feature: Pausing and resuming a rollout
  While spec.paused is true the controller only runs sync(): it never creates a new
  ReplicaSet, but it still applies scaling (proportionally across active ReplicaSets) and
  sets Progressing to Unknown / DeploymentPaused. On resume the latest template is rolled
  out as a single revision. kubectl refuses to undo a paused deployment.

  Scenario: pause in the middle of a rollout, with some pods old and some new, then resume
    # 3 replicas, surge 1, unavailable 0; web:v2 pods start 10 s after creation.
    # t0     : 3/1                 (pod A)
    # t0+10s : A ready -> 2/1, 2/2 (pod B, ready at t0+20s)
    Given image "web:v2" starts in 10 seconds
    And a deployment "web" with 3 replicas of image "web:v1"
    When I set the image of deployment "web" to "web:v2"
    And 10 seconds pass
    And I pause the rollout of deployment "web"
    And 1 minute passes
    # Frozen at 2 old / 2 new although B became ready at t0+20s:
    # sync() sees 2 active RSs, allowed 3 + 1 = 4 = 2 + 2, nothing to add.
    Then the replica sets of deployment "web" went through:
      | old | new |
      | 3   | 0   |
      | 3   | 1   |
      | 2   | 1   |
      | 2   | 2   |
    And deployment "web" has 4 pods
    And deployment "web" has 2 updated replicas
    And deployment "web" has 4 available replicas
    And the rollout status of deployment "web" is 'Waiting for deployment "web" rollout to finish: 2 out of 3 new replicas have been updated...'
    And the deployment "web" matches:
      """
      spec:
        paused: true
      status:
        conditions:
          - type: Progressing
            status: Unknown
            reason: DeploymentPaused
            message: Deployment is paused
      """
    # Resume at t0+70s: available 4 > 3 -> 1/2, then 1/3 (pod C); C ready at t0+80s -> 0/3.
    When I resume the rollout of deployment "web"
    Then the rollout of deployment "web" completes within 15 seconds
    And the replica sets of deployment "web" went through:
      | old | new |
      | 3   | 0   |
      | 3   | 1   |
      | 2   | 1   |
      | 2   | 2   |
      | 1   | 2   |
      | 1   | 3   |
      | 0   | 3   |
    And during the rollout deployment "web" never had more than 4 pods
    And during the rollout deployment "web" never had fewer than 3 available pods
    And all pods of deployment "web" run image "web:v2"
    And the rollout history of deployment "web" shows revisions "1, 2"

  @D17
  Scenario: a paused deployment scales its only ReplicaSet and rolls nothing out
    Given a deployment "web" with 3 replicas of image "web:v1"
    When I pause the rollout of deployment "web"
    And I set the image of deployment "web" to "web:v2"
    # No new RS while paused; no RS matches the template, so updatedReplicas is 0.
    Then deployment "web" has 1 replica sets
    And deployment "web" has 0 updated replicas
    And the rollout history of deployment "web" shows revisions "1"
    # FindActiveOrLatest: one active RS, scaled straight to spec.replicas.
    When I scale deployment "web" to 6 replicas
    And 1 second passes
    Then deployment "web" has 1 replica sets
    And revision 1 of deployment "web" has 6 replicas
    And deployment "web" has 6 pods
    And deployment "web" has 6 available replicas
    And deployment "web" has 0 updated replicas
    And all pods of deployment "web" run image "web:v1"
    And the rollout status of deployment "web" is 'Waiting for deployment "web" rollout to finish: 0 out of 6 new replicas have been updated...'
    And the deployment "web" matches:
      """
      status:
        replicas: 6
        conditions:
          - type: Progressing
            status: Unknown
            reason: DeploymentPaused
            message: Deployment is paused
      """
    When I resume the rollout of deployment "web"
    Then the rollout of deployment "web" completes within 1 minute
    And the rollout history of deployment "web" shows revisions "1, 2"
    And revision 2 of deployment "web" runs image "web:v2"
    And revision 2 of deployment "web" has 6 replicas
    And revision 1 of deployment "web" has 0 replicas
    And all pods of deployment "web" run image "web:v2"

  Scenario: several template edits while paused become one revision
    Given a deployment "web" with 3 replicas of image "web:v1"
    When I pause the rollout of deployment "web"
    And I set the image of deployment "web" to "web:v2"
    And I set the image of deployment "web" to "web:v3"
    And 1 minute passes
    Then deployment "web" has 1 replica sets
    When I resume the rollout of deployment "web"
    Then the rollout of deployment "web" completes within 1 minute
    And the rollout history of deployment "web" shows revisions "1, 2"
    And revision 2 of deployment "web" runs image "web:v3"
    And deployment "web" has 2 replica sets
    And all pods of deployment "web" run image "web:v3"

  @K11
  Scenario: undo is refused on a paused deployment and works once it is resumed
    Given a deployment "web" with 3 replicas of image "web:v1"
    When I set the image of deployment "web" to "web:v2"
    Then the rollout of deployment "web" completes within 1 minute
    When I pause the rollout of deployment "web"
    And I try to undo the rollout of deployment "web"
    Then the request is rejected with:
      """
      you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again
      """
    And all pods of deployment "web" run image "web:v2"
    And the rollout history of deployment "web" shows revisions "1, 2"
    When I resume the rollout of deployment "web"
    And I undo the rollout of deployment "web"
    Then the rollout of deployment "web" completes within 1 minute
    And all pods of deployment "web" run image "web:v1"
    And the rollout history of deployment "web" shows revisions "2, 3"
