Feature: StatefulSet updates
  A RollingUpdate replaces pods from the highest ordinal down to the partition, one at a time,
  each once the one before is Ready; OnDelete replaces a pod only when it is deleted by hand.
  Every template change is a ControllerRevision; an undo renumbers the older revision.

  @S5
  Scenario: a rolling update goes from the highest ordinal down
    Given a statefulset "web" with 3 replicas of image "nginx:1.27"
    When I set the image of statefulset "web" to "nginx:1.28"
    # web-2 is terminating but still counts as ready; none is updated yet
    Then the rollout status of statefulset "web" is "Waiting for partitioned roll out to finish: 0 out of 3 new pods have been updated..."
    And the rollout of statefulset "web" completes within 10 seconds
    And the pods of statefulset "web" were deleted in order "web-2, web-1, web-0"
    And pod "web-0" runs image "nginx:1.28"
    And statefulset "web" has 3 current replicas
    And the rollout history of statefulset "web" shows revisions "1, 2"

  @S6 @K9
  Scenario: a partition keeps the lower ordinals at the old revision
    # NOTE: the spec's S6 says only web-4 and web-3 are updated; upstream updates every ordinal
    # at or above the partition, so web-2 too (as K9's "out of 3" says).
    Given image "web:2" starts in 5 seconds
    And the manifest:
      """
      apiVersion: apps/v1
      kind: StatefulSet
      metadata:
        name: web
      spec:
        replicas: 5
        serviceName: web
        updateStrategy:
          type: RollingUpdate
          rollingUpdate:
            partition: 2
        selector:
          matchLabels: {app: web}
        template:
          metadata:
            labels: {app: web}
          spec:
            containers:
            - name: web
              image: web:1
      """
    Then the rollout of statefulset "web" completes within 10 seconds
    When I set the image of statefulset "web" to "web:2"
    And 6 seconds pass
    Then the rollout status of statefulset "web" is "Waiting for partitioned roll out to finish: 1 out of 3 new pods have been updated..."
    And the rollout of statefulset "web" completes within 1 minute
    And the rollout status of statefulset "web" is "partitioned roll out complete: 3 new pods have been updated..."
    And pod "web-2" runs image "web:2"
    And pod "web-1" runs image "web:1"
    And statefulset "web" has 2 current replicas
    When I delete pod "web-1"
    And 10 seconds pass
    Then pod "web-1" runs image "web:1"

  @S7 @K10
  Scenario: OnDelete replaces only the pods deleted by hand
    Given the manifest:
      """
      apiVersion: apps/v1
      kind: StatefulSet
      metadata:
        name: web
      spec:
        replicas: 3
        serviceName: web
        updateStrategy:
          type: OnDelete
        selector:
          matchLabels: {app: web}
        template:
          metadata:
            labels: {app: web}
          spec:
            containers:
            - name: web
              image: web:1
      """
    When 10 seconds pass
    And I set the image of statefulset "web" to "web:2"
    And 30 seconds pass
    Then pod "web-1" runs image "web:1"
    And the rollout status of statefulset "web" is "error: rollout status is only available for RollingUpdate strategy type"
    When I delete pod "web-1"
    And 10 seconds pass
    Then pod "web-1" runs image "web:2"
    And pod "web-0" runs image "web:1"
    And statefulset "web" has 1 updated replicas

  Scenario: undo goes back to the previous template and renumbers its revision
    Given a statefulset "web" with 2 replicas of image "nginx:1.27"
    When I set the image of statefulset "web" to "nginx:1.28"
    Then the rollout of statefulset "web" completes within 10 seconds
    When I undo the rollout of statefulset "web"
    Then the rollout of statefulset "web" completes within 10 seconds
    And pod "web-0" runs image "nginx:1.27"
    And the rollout history of statefulset "web" shows revisions "2, 3"
    When I try to undo the rollout of statefulset "web" to revision 7
    Then the request is rejected with an error containing "unable to find specified revision 7 in history"
