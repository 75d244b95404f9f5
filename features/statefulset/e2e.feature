Feature: StatefulSet behaviours from the upstream e2e suite
  test/e2e/apps/statefulset.go ([sig-apps] StatefulSet), as far as one in-memory cluster shows
  them.

  Background:
    Given the manifest:
      """
      apiVersion: v1
      kind: Service
      metadata:
        name: web
      spec:
        clusterIP: None
        selector: {app: web}
        ports:
        - {name: web, port: 80}
      """

  Scenario: should adopt matching orphans
    Given the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: web-0
        labels: {app: web}
      spec:
        containers:
        - name: web
          image: nginx:1.27
      """
    When I apply the manifest:
      """
      apiVersion: apps/v1
      kind: StatefulSet
      metadata:
        name: web
      spec:
        replicas: 2
        serviceName: web
        selector:
          matchLabels: {app: web}
        template:
          metadata:
            labels: {app: web}
          spec:
            containers:
            - name: web
              image: nginx:1.27
      """
    Then the rollout of statefulset "web" completes within 10 seconds
    # web-0 is adopted, not created; it has no controller-revision-hash label, so the rolling
    # update then replaces it (after web-1, which the scale-up created first).
    And the pods of statefulset "web" were created in order "web-1, web-0"
    And the pods of statefulset "web" were deleted in order "web-0"
    And the pod "web-0" matches:
      """
      metadata:
        ownerReferences:
        - kind: StatefulSet
          name: web
          controller: true
      """

  Scenario: should not deadlock when a pod's predecessor fails
    Given the manifest:
      """
      apiVersion: apps/v1
      kind: StatefulSet
      metadata:
        name: web
      spec:
        replicas: 1
        serviceName: web
        selector:
          matchLabels: {app: web}
        template:
          metadata:
            labels: {app: web}
          spec:
            containers:
            - name: web
              image: nginx:1.27
              readinessProbe:
                httpGet: {path: /ready, port: 80}
                periodSeconds: 1
      """
    Then the rollout of statefulset "web" completes within 10 seconds
    When the readiness probe of pod "web-0" starts failing
    And 5 seconds pass
    And I scale statefulset "web" to 2 replicas
    And 30 seconds pass
    Then pod "web-1" does not exist
    When the readiness probe of pod "web-0" starts passing
    Then the rollout of statefulset "web" completes within 10 seconds
    And pod "web-1" exists

  Scenario: Burst scaling should run to completion even with unhealthy pods
    Given the manifest:
      """
      apiVersion: apps/v1
      kind: StatefulSet
      metadata:
        name: web
      spec:
        replicas: 1
        podManagementPolicy: Parallel
        serviceName: web
        selector:
          matchLabels: {app: web}
        template:
          metadata:
            labels: {app: web}
          spec:
            containers:
            - name: web
              image: nginx:1.27
              readinessProbe:
                httpGet: {path: /ready, port: 80}
                periodSeconds: 1
      """
    Then the rollout of statefulset "web" completes within 10 seconds
    When the readiness probe of pod "web-0" starts failing
    And 5 seconds pass
    And I scale statefulset "web" to 3 replicas
    Then pod "web-2" exists
    And statefulset "web" has 3 total replicas
    When I scale statefulset "web" to 0 replicas
    And 5 seconds pass
    Then pod "web-0" does not exist
    And pod "web-2" does not exist

  Scenario: should delete PVCs with a WhenDeleted policy
    Given the manifest:
      """
      apiVersion: apps/v1
      kind: StatefulSet
      metadata:
        name: web
      spec:
        replicas: 2
        serviceName: web
        persistentVolumeClaimRetentionPolicy:
          whenDeleted: Delete
        selector:
          matchLabels: {app: web}
        template:
          metadata:
            labels: {app: web}
          spec:
            containers:
            - name: web
              image: nginx:1.27
        volumeClaimTemplates:
        - metadata:
            name: www
          spec:
            accessModes: [ReadWriteOnce]
      """
    Then the rollout of statefulset "web" completes within 10 seconds
    When I scale statefulset "web" to 1 replicas
    And 5 seconds pass
    Then persistent volume claims "www-web-0, www-web-1" exist
    When I delete statefulset "web"
    And 5 seconds pass
    Then persistent volume claim "www-web-0" does not exist
    And persistent volume claim "www-web-1" does not exist
    And pod "web-0" does not exist

  Scenario: should perform rolling updates and roll backs of template modifications
    Given a statefulset "web" with 3 replicas of image "nginx:1.27"
    When I set the image of statefulset "web" to "nginx:1.28"
    Then the rollout of statefulset "web" completes within 10 seconds
    And pod "web-0" runs image "nginx:1.28"
    When I undo the rollout of statefulset "web" to revision 1
    Then the rollout of statefulset "web" completes within 10 seconds
    And pod "web-0" runs image "nginx:1.27"
    And pod "web-2" runs image "nginx:1.27"
    And the rollout history of statefulset "web" shows revisions "2, 3"
    And the pods of statefulset "web" were deleted in order "web-2, web-1, web-0, web-2, web-1, web-0"

  Scenario: should perform canary updates and phased rolling updates of template modifications
    Given a statefulset "web" with 3 replicas of image "nginx:1.27"
    When I patch statefulset "web" with:
      """
      spec:
        updateStrategy:
          rollingUpdate:
            partition: 3
      """
    And I set the image of statefulset "web" to "nginx:1.28"
    And 10 seconds pass
    Then pod "web-2" runs image "nginx:1.27"
    And the rollout status of statefulset "web" is "partitioned roll out complete: 0 new pods have been updated..."
    # The canary: lower the partition to 2.
    When I patch statefulset "web" with:
      """
      spec:
        updateStrategy:
          rollingUpdate:
            partition: 2
      """
    Then the rollout of statefulset "web" completes within 10 seconds
    And pod "web-2" runs image "nginx:1.28"
    And pod "web-1" runs image "nginx:1.27"
    # The phased roll out: partition 0 updates the rest, highest ordinal first.
    When I patch statefulset "web" with:
      """
      spec:
        updateStrategy:
          rollingUpdate:
            partition: 0
      """
    Then the rollout of statefulset "web" completes within 10 seconds
    And pod "web-0" runs image "nginx:1.28"
    And the pods of statefulset "web" were deleted in order "web-2, web-1, web-0"
    And statefulset "web" has 3 current replicas
    And the rollout history of statefulset "web" is:
      """
      REVISION  CHANGE-CAUSE
      1         <none>
      2         <none>
      """
