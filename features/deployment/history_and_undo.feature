Feature: Revision numbers, rollout history and undo
  Every new pod template gets the next revision number (max of the old ReplicaSets + 1);
  scaling does not. `kubectl rollout undo` is client-side: it copies the template of the
  target ReplicaSet back into the Deployment; that existing ReplicaSet becomes the new one
  and is renumbered to max + 1, so its old number disappears from the history.

  Background:
    # revision 1
    Given the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
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
    # revision 2
    And the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
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
                image: web:v2
      """
    # scaled 3 -> 5: no revision
    And the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: 5
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
                image: web:v2
      """
    # revision 3
    And the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: 5
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
                image: web:v3
      """

  @D13
  Scenario: scaling between two image changes does not create a revision
    Then the rollout history of deployment "web" shows revisions "1, 2, 3"
    And the rollout history of deployment "web" is:
      """
      REVISION  CHANGE-CAUSE
      1         <none>
      2         <none>
      3         <none>
      """
    And deployment "web" has 3 replica sets
    And revision 1 of deployment "web" runs image "web:v1"
    And revision 2 of deployment "web" runs image "web:v2"
    And revision 3 of deployment "web" runs image "web:v3"
    And revision 2 of deployment "web" has 0 replicas
    And revision 3 of deployment "web" has 5 replicas
    # Four spec changes: create, image, replicas, image.
    And the deployment "web" matches:
      """
      metadata:
        generation: 4
        annotations:
          deployment.kubernetes.io/revision: "3"
      """

  @D14 @K12
  Scenario: undo brings revision 2 back as revision 4
    When I undo the rollout of deployment "web"
    Then the rollout of deployment "web" completes within 1 minute
    And the rollout history of deployment "web" shows revisions "1, 3, 4"
    And the rollout history of deployment "web" is:
      """
      REVISION  CHANGE-CAUSE
      1         <none>
      3         <none>
      4         <none>
      """
    And revision 4 of deployment "web" runs image "web:v2"
    And revision 4 of deployment "web" has 5 replicas
    And revision 3 of deployment "web" has 0 replicas
    And deployment "web" has 3 replica sets
    And all pods of deployment "web" run image "web:v2"
    And the deployment "web" matches:
      """
      metadata:
        annotations:
          deployment.kubernetes.io/revision: "4"
      """
    # 5 replicas: surge ceil(1.25) = 2, unavailable floor(1.25) = 1 -> maxTotal 7, minAvailable 4.
    # The revision-2 RS (spec 0) is the new RS again:
    # 5/2 (+2), 4/2 (7-4-2 = 1), 4/3; t+1s: 1/3 (7-4 = 3), 1/5; t+2s: 0/5.
    And the replica sets of deployment "web" went through:
      | old | new |
      | 5   | 0   |
      | 5   | 2   |
      | 4   | 2   |
      | 4   | 3   |
      | 1   | 3   |
      | 1   | 5   |
      | 0   | 5   |

  @D15
  Scenario: undo to revision 1 after an undo renumbers revision 1 as revision 5
    When I undo the rollout of deployment "web"
    Then the rollout of deployment "web" completes within 1 minute
    When I undo the rollout of deployment "web" to revision 1
    Then the rollout of deployment "web" completes within 1 minute
    And the rollout history of deployment "web" shows revisions "3, 4, 5"
    And revision 5 of deployment "web" runs image "web:v1"
    And revision 5 of deployment "web" has 5 replicas
    And all pods of deployment "web" run image "web:v1"
    And deployment "web" has 3 replica sets

  Scenario: undo to the revision that is already running is skipped
    # kubectl: "skipped rollback (current template already matches revision 3)", no request.
    When I undo the rollout of deployment "web" to revision 3
    Then the rollout history of deployment "web" shows revisions "1, 2, 3"
    And all pods of deployment "web" run image "web:v3"
    And the deployment "web" matches:
      """
      metadata:
        generation: 4
        annotations:
          deployment.kubernetes.io/revision: "3"
      """
