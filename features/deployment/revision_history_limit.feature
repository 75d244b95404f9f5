Feature: revisionHistoryLimit
  Once a rollout is complete, cleanupDeployment deletes the oldest old ReplicaSets (by
  revision) beyond spec.revisionHistoryLimit, but only those with 0 replicas. The new
  ReplicaSet never counts against the limit.

  @D16
  Scenario: with a limit of 2, five successive template changes leave three ReplicaSets
    Given the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: 3
        revisionHistoryLimit: 2
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
    When I set the image of deployment "web" to "web:v3"
    Then the rollout of deployment "web" completes within 1 minute
    And deployment "web" has 3 replica sets
    # After revision 4 completes: old = {1, 2, 3}, 3 - 2 = 1 to delete -> revision 1.
    When I set the image of deployment "web" to "web:v4"
    Then the rollout of deployment "web" completes within 1 minute
    And deployment "web" has 3 replica sets
    And the rollout history of deployment "web" shows revisions "2, 3, 4"
    When I set the image of deployment "web" to "web:v5"
    Then the rollout of deployment "web" completes within 1 minute
    When I set the image of deployment "web" to "web:v6"
    Then the rollout of deployment "web" completes within 1 minute
    # new (6) + the 2 newest old (4, 5); revisions 1, 2 and 3 were deleted.
    And deployment "web" has 3 replica sets
    And the rollout history of deployment "web" shows revisions "4, 5, 6"
    And revision 4 of deployment "web" runs image "web:v4"
    And revision 6 of deployment "web" runs image "web:v6"

  Scenario: with a limit of 0 no old ReplicaSet is kept, so there is nothing to undo
    Given the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: 3
        revisionHistoryLimit: 0
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
    And deployment "web" has 1 replica sets
    And the rollout history of deployment "web" shows revisions "2"
    When I try to undo the rollout of deployment "web"
    Then the request is rejected with an error containing 'no rollout history found for deployment "web"'
    And all pods of deployment "web" run image "web:v2"

  Scenario: lowering the limit on a complete deployment deletes the oldest ReplicaSets
    Given a deployment "web" with 3 replicas of image "web:v1"
    When I set the image of deployment "web" to "web:v2"
    Then the rollout of deployment "web" completes within 1 minute
    When I set the image of deployment "web" to "web:v3"
    Then the rollout of deployment "web" completes within 1 minute
    When I set the image of deployment "web" to "web:v4"
    Then the rollout of deployment "web" completes within 1 minute
    And deployment "web" has 4 replica sets
    # Not a template change: no revision. old = {1, 2, 3}, 3 - 1 = 2 to delete -> 1 and 2.
    When I patch deployment "web" with:
      """
      spec:
        revisionHistoryLimit: 1
      """
    Then deployment "web" has 2 replica sets
    And the rollout history of deployment "web" shows revisions "3, 4"

  Scenario: an old ReplicaSet that still has pods is not deleted
    # Stuck rollout: the revision-1 RS still runs 3 pods, so it is neither cleaned up
    # (cleanup only runs once the rollout is complete) nor deletable (replicas > 0).
    Given image "web:broken" cannot be pulled
    And the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: 3
        revisionHistoryLimit: 0
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
    And 1 minute passes
    Then deployment "web" has 2 replica sets
    And revision 1 of deployment "web" has 3 replicas
    And the rollout history of deployment "web" shows revisions "1, 2"
