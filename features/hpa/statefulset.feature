Feature: The HPA scales a StatefulSet
  A StatefulSet has a scale subresource too. Scaling up adds pods one at a time in ordinal
  order (OrderedReady), so the HPA sees new pods become ready one by one.

  Scenario: a CPU load on a StatefulSet scales it up in order, and back down
    Given the manifest:
      """
      apiVersion: v1
      kind: Service
      metadata:
        name: db
      spec:
        clusterIP: None
        selector: {app: db}
        ports: [{port: 5432}]
      ---
      apiVersion: apps/v1
      kind: StatefulSet
      metadata:
        name: db
      spec:
        serviceName: db
        replicas: 2
        selector:
          matchLabels: {app: db}
        template:
          metadata:
            labels: {app: db}
          spec:
            containers:
            - name: db
              image: postgres:17
              resources:
                requests: {cpu: 200m}
      ---
      apiVersion: autoscaling/v2
      kind: HorizontalPodAutoscaler
      metadata:
        name: db
      spec:
        scaleTargetRef: {apiVersion: apps/v1, kind: StatefulSet, name: db}
        minReplicas: 1
        maxReplicas: 6
        metrics:
        - type: Resource
          resource:
            name: cpu
            target: {type: Utilization, averageUtilization: 50}
        behavior:
          scaleDown:
            stabilizationWindowSeconds: 0
      """
    # 800m over 2 pods is 200% of 200m: ratio 4, raw 8, limited to maxReplicas 6.
    When statefulset "db" receives a total CPU load of 800m
    Then within 1 minute the horizontalpodautoscaler "db" matches:
      """
      status:
        desiredReplicas: 6
      """
    And the rollout of statefulset "db" completes within 2 minutes
    And the pods of statefulset "db" were created in order "db-0, db-1, db-2, db-3, db-4, db-5"
    And the horizontalpodautoscaler "db" has an event with reason "SuccessfulRescale" and message "New size: 6; reason: cpu resource utilization (percentage of request) above target"
    # 100m over 6 pods is 8%: the proposal is 1; scale-down removes the highest ordinals first.
    When statefulset "db" receives a total CPU load of 100m
    Then within 2 minutes the horizontalpodautoscaler "db" matches:
      """
      status:
        desiredReplicas: 1
      """
    And within 1 minute the statefulset "db" matches:
      """
      status:
        replicas: 1
      """
    And the pods of statefulset "db" were deleted in order "db-5, db-4, db-3, db-2, db-1"
    And pod "db-0" exists
