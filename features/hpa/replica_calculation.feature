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

  Scenario: H6 a pod without a sample counts as using its full request on a scale-down
    Given a deployment "web" with 9 replicas of image "php-apache:v1" requesting 100m CPU
    And image "php-apache:late" starts in 20 seconds
    When each pod of deployment "web" uses 10m CPU
    And I apply the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web-late
      spec:
        replicas: 1
        selector:
          matchLabels: {app: web, track: late}
        template:
          metadata:
            labels: {app: web, track: late}
          spec:
            containers:
            - name: web
              image: php-apache:late
              resources:
                requests: {cpu: 100m}
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
        behavior:
          scaleDown:
            stabilizationWindowSeconds: 0
      """
    # At the sync of t=31s the late pod has run for 10 s: no sample yet, so it is missing.
    # 9 × 10m of 900m is 10%: ratio 0.2, a scale-down, so the missing pod counts at its full
    # 100m: 190m of 1000m is 19%, ratio 0.38, ceil(0.38 × 10) = 4 (without it: ceil(1.8) = 2).
    Then within 1 minute deployment "web" has 4 replicas
    And the replicas of deployment "web" went through "9, 4"

  Scenario: H7 pending pods count as using nothing on a scale-up
    Given a deployment "web" with 2 replicas of image "php-apache:v1" requesting 100m CPU
    And image "php-apache:typo" cannot be pulled
    When each pod of deployment "web" uses 100m CPU
    And I apply the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web-canary
      spec:
        replicas: 2
        selector:
          matchLabels: {app: web, track: canary}
        template:
          metadata:
            labels: {app: web, track: canary}
          spec:
            containers:
            - name: web
              image: php-apache:typo
              resources:
                requests: {cpu: 100m}
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
      """
    # The selector app=web also finds the two canary pods, Pending on their image pull. The two
    # ready pods are at 100%: ratio 2.0, a scale-up, so the Pending pods count as using 0:
    # 200m of 400m is 50%, ratio 1.0, and nothing changes (without them: ceil(2.0 × 2) = 4).
    Then deployment "web" keeps 2 replicas for 3 minutes
    And the horizontalpodautoscaler "web" shows targets "cpu: 100%/50%"
