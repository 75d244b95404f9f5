Feature: Undoing rollouts with kubectl semantics
  `kubectl rollout undo` with no revision targets the ReplicaSet with the second-highest
  revision; with --to-revision=N the ReplicaSet whose revision is N. The template and the
  annotations of that ReplicaSet (except the controller's own) are copied back into the
  Deployment (upstream kubectl polymorphichelpers/rollback.go).

  Scenario: undo twice returns to the version that the first undo left
    Given a deployment "web" with 3 replicas of image "web:v1"
    When I set the image of deployment "web" to "web:v2"
    Then the rollout of deployment "web" completes within 1 minute
    # First undo: second-highest is revision 1 (web:v1), renumbered 3.
    When I undo the rollout of deployment "web"
    Then the rollout of deployment "web" completes within 1 minute
    And all pods of deployment "web" run image "web:v1"
    And the rollout history of deployment "web" shows revisions "2, 3"
    # Second undo: second-highest is now revision 2 (web:v2), renumbered 4.
    When I undo the rollout of deployment "web"
    Then the rollout of deployment "web" completes within 1 minute
    And all pods of deployment "web" run image "web:v2"
    And the rollout history of deployment "web" shows revisions "3, 4"
    And revision 3 of deployment "web" runs image "web:v1"
    And revision 4 of deployment "web" runs image "web:v2"
    And deployment "web" has 2 replica sets
    # The undo is an ordinary rolling update at 25%/25% of 3 (surge 1, unavailable 0).
    And the replica sets of deployment "web" went through:
      | old | new |
      | 3   | 0   |
      | 3   | 1   |
      | 2   | 1   |
      | 2   | 2   |
      | 1   | 2   |
      | 1   | 3   |
      | 0   | 3   |
    And during the rollout deployment "web" never had fewer than 3 available pods

  Scenario: undo to a chosen revision
    Given a deployment "web" with 3 replicas of image "web:v1"
    When I set the image of deployment "web" to "web:v2"
    Then the rollout of deployment "web" completes within 1 minute
    When I set the image of deployment "web" to "web:v3"
    Then the rollout of deployment "web" completes within 1 minute
    When I undo the rollout of deployment "web" to revision 1
    Then the rollout of deployment "web" completes within 1 minute
    And the rollout history of deployment "web" shows revisions "2, 3, 4"
    And revision 4 of deployment "web" runs image "web:v1"
    And revision 2 of deployment "web" runs image "web:v2"
    And all pods of deployment "web" run image "web:v1"
    And deployment "web" has 3 replica sets

  Scenario: undo with a single revision has nothing to go back to
    Given a deployment "web" with 3 replicas of image "web:v1"
    When I try to undo the rollout of deployment "web"
    Then the request is rejected with an error containing 'no rollout history found for deployment "web"'
    And the rollout history of deployment "web" shows revisions "1"
    And all pods of deployment "web" run image "web:v1"

  Scenario: the change-cause annotation follows its template through history and undo
    Given the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
        annotations:
          kubernetes.io/change-cause: initial release
      spec:
        replicas: 3
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
    # Deployment annotations are copied onto the new ReplicaSet when it is created.
    When I patch deployment "web" with:
      """
      metadata:
        annotations:
          kubernetes.io/change-cause: upgrade to web:v2
      spec:
        template:
          spec:
            containers:
              - name: web
                image: web:v2
      """
    Then the rollout of deployment "web" completes within 1 minute
    And the rollout history of deployment "web" is:
      """
      REVISION  CHANGE-CAUSE
      1         initial release
      2         upgrade to web:v2
      """
    # Undo copies the revision-1 ReplicaSet's change-cause back onto the Deployment.
    When I undo the rollout of deployment "web"
    Then the rollout of deployment "web" completes within 1 minute
    And the rollout history of deployment "web" is:
      """
      REVISION  CHANGE-CAUSE
      2         upgrade to web:v2
      3         initial release
      """
    And the deployment "web" matches:
      """
      metadata:
        annotations:
          kubernetes.io/change-cause: initial release
          deployment.kubernetes.io/revision: "3"
      """
