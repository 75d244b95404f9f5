Feature: How the HPA computes a replica count (spec §5.3, H1–H5, H8)
  utilization = int(Σusage × 100 / Σrequest) over the pods with samples, truncated to a whole
  percent; ratio = utilization / target; the new count is ceil(ratio × ready pods), unless the
  ratio is within the tolerance of 0.1 (inclusive). With several metrics the largest count wins.

  Scenario: H1 4 ready pods at 80% of a 50% target go to 7
    Given a deployment "web" with 4 replicas of image "php-apache:v1" requesting 500m CPU
    And deployment "web" is autoscaled from 1 to 10 replicas at 50% CPU
    When deployment "web" receives a total CPU load of 1600m
    Then within 1 minute deployment "web" has 7 replicas
    And the horizontalpodautoscaler "web" matches:
      """
      status:
        currentReplicas: 4
        desiredReplicas: 7
        currentMetrics:
        - type: Resource
          resource:
            name: cpu
            current:
              averageUtilization: 80
              averageValue: 400m
      """

  Scenario: H2 a ratio of 1.08 is within the tolerance
    Given a deployment "web" with 2 replicas of image "php-apache:v1" requesting 100m CPU
    And deployment "web" is autoscaled from 1 to 10 replicas at 50% CPU
    When deployment "web" receives a total CPU load of 108m
    Then deployment "web" keeps 2 replicas for 3 minutes
    And the horizontalpodautoscaler "web" matches:
      """
      status:
        currentMetrics:
        - resource:
            current:
              averageUtilization: 54
      """

  Scenario: H3 10 pods at 56% of a 50% target go to 12
    Given a deployment "web" with 10 replicas of image "php-apache:v1" requesting 100m CPU
    And deployment "web" is autoscaled from 1 to 20 replicas at 50% CPU
    When deployment "web" receives a total CPU load of 560m
    Then within 1 minute deployment "web" has 12 replicas

  Scenario: H4 a ratio of exactly 1.1 is within the tolerance (inclusive)
    Given a deployment "web" with 2 replicas of image "php-apache:v1" requesting 100m CPU
    And deployment "web" is autoscaled from 1 to 10 replicas at 50% CPU
    When deployment "web" receives a total CPU load of 110m
    Then deployment "web" keeps 2 replicas for 3 minutes

  Scenario: H5 utilization is truncated to a whole percent before the ratio
    Given a deployment "web" with 4 replicas of image "php-apache:v1" requesting 100m CPU
    And deployment "web" is autoscaled from 1 to 10 replicas at 40% CPU
    # 201m of 400m is 50.25%, read as 50: ratio 1.25, ceil(5.0) = 5 (exact arithmetic gives 6).
    When deployment "web" receives a total CPU load of 201m
    Then within 1 minute deployment "web" has 5 replicas
    And deployment "web" keeps 5 replicas for 3 minutes

  Scenario: H8 the largest proposal across metrics wins
    Given the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: 4
        selector:
          matchLabels: {app: web}
        template:
          metadata:
            labels: {app: web}
          spec:
            containers:
            - name: web
              image: php-apache:v1
              resources:
                requests: {cpu: 500m, memory: 100Mi}
      ---
      apiVersion: autoscaling/v2
      kind: HorizontalPodAutoscaler
      metadata:
        name: web
      spec:
        scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
        minReplicas: 1
        maxReplicas: 10
        metrics:
        - type: Resource
          resource:
            name: cpu
            target: {type: Utilization, averageUtilization: 50}
        - type: Resource
          resource:
            name: memory
            target: {type: AverageValue, averageValue: 100Mi}
      """
    # CPU: 80% of a 50% target proposes 7. Memory: 125Mi a pod against 100Mi proposes 5.
    When deployment "web" receives a total CPU load of 1600m
    And deployment "web" receives a total memory load of 500Mi
    Then within 1 minute deployment "web" has 7 replicas
    And the horizontalpodautoscaler "web" matches:
      """
      status:
        currentMetrics:
        - type: Resource
          resource:
            name: cpu
            current:
              averageUtilization: 80
        - type: Resource
          resource:
            name: memory
            current:
              averageValue: 131072k
      """
