Feature: Scaling behavior: stabilization windows and rate policies (spec §5.5, §5.6, H9–H12, H15, H18)
  Without `behavior` the HPA at most doubles the count per sync (or goes to 4) and waits five
  minutes before scaling down. With `behavior`, each direction has a stabilization window and
  policies limiting the change per period; selectPolicy picks the largest change (Max), the
  smallest (Min), or none (Disabled).

  Background:
    Given a deployment "web" with 2 replicas of image "php-apache:v1" requesting 100m CPU

  Scenario: H9 without behavior, scale-up is limited to max(2 × current, 4) per sync
    Given deployment "web" is autoscaled from 1 to 20 replicas at 50% CPU
    # 500m over 2 pods is 250%: ratio 5, raw 10; the limit is max(4, 4) = 4.
    When deployment "web" receives a total CPU load of 500m
    Then within 1 minute deployment "web" has 4 replicas
    And the horizontalpodautoscaler "web" has an event with reason "SuccessfulRescale" and message "New size: 4; reason: cpu resource utilization (percentage of request) above target"
    And within 15 seconds the horizontalpodautoscaler "web" matches:
      """
      status:
        conditions:
        - type: AbleToScale
          reason: SucceededRescale
          message: the HPA controller was able to update the target scale to 4
        - type: ScalingActive
          reason: ValidMetricFound
        - type: ScalingLimited
          status: "True"
          reason: ScaleUpLimit
          message: the desired replica count is increasing faster than the maximum scale rate
      """
    # From 4 the limit is 8, then 16: the count settles at 10 (500m over 10 pods is 50%).
    And within 3 minutes deployment "web" has 10 replicas
    And the replicas of deployment "web" went through "2, 4, 8, 10"

  Scenario: H10 an empty behavior gets the defaults: +100% or +4 pods per 15 s, whichever is more
    Given the manifest:
      """
      apiVersion: autoscaling/v2
      kind: HorizontalPodAutoscaler
      metadata:
        name: web
      spec:
        scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
        minReplicas: 1
        maxReplicas: 100
        metrics:
        - type: Resource
          resource:
            name: cpu
            target: {type: Utilization, averageUtilization: 10}
        behavior: {}
      """
    When deployment "web" receives a total CPU load of 100m
    # 50m a pod is 50% of a 10% target: raw 10. From 2, the policies allow 4 (Percent) or 6 (Pods).
    Then within 1 minute deployment "web" has 6 replicas
    And the horizontalpodautoscaler "web" matches:
      """
      spec:
        behavior:
          scaleUp:
            stabilizationWindowSeconds: 0
            selectPolicy: Max
            policies:
            - {type: Pods, value: 4, periodSeconds: 15}
            - {type: Percent, value: 100, periodSeconds: 15}
          scaleDown:
            selectPolicy: Max
            policies:
            - {type: Percent, value: 100, periodSeconds: 15}
      """

  Scenario: H11 a Percent policy on scale-down: 10% per minute, compounded
    Given the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: big
      spec:
        replicas: 100
        selector:
          matchLabels: {app: big}
        template:
          metadata:
            labels: {app: big}
          spec:
            containers:
            - name: big
              image: php-apache:v1
              resources:
                requests: {cpu: 100m}
      ---
      apiVersion: autoscaling/v2
      kind: HorizontalPodAutoscaler
      metadata:
        name: big
      spec:
        scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: big}
        minReplicas: 1
        maxReplicas: 100
        metrics:
        - type: Resource
          resource:
            name: cpu
            target: {type: Utilization, averageUtilization: 50}
        behavior:
          scaleDown:
            stabilizationWindowSeconds: 0
            policies:
            - {type: Percent, value: 10, periodSeconds: 60}
      """
    # 2500m over 100 pods is 25%: raw 50. Each minute the count may drop 10% from where the
    # minute started: 90, 81, 72, 64, 57, 51; at 51 pods the load is 49% and within tolerance.
    When deployment "big" receives a total CPU load of 2500m
    Then within 1 minute deployment "big" has 90 replicas
    And deployment "big" keeps 90 replicas for 59 seconds
    And within 6 minutes deployment "big" has 51 replicas
    And the replicas of deployment "big" went through "100, 90, 81, 72, 64, 57, 51"
    # The last step was limited (the raw count was 50): the sync that made it says so.
    And the horizontalpodautoscaler "big" matches:
      """
      status:
        conditions:
        - type: AbleToScale
        - type: ScalingActive
        - type: ScalingLimited
          status: "True"
          reason: ScaleDownLimit
          message: the desired replica count is decreasing faster than the maximum scale rate
      """
    # At 51 pods the load is 49%, within the tolerance: the next sync is no longer limited.
    And within 15 seconds the horizontalpodautoscaler "big" matches:
      """
      status:
        conditions:
        - type: AbleToScale
        - type: ScalingActive
        - type: ScalingLimited
          status: "False"
          reason: DesiredWithinRange
      """

  Scenario: H12 a scale-down stabilization window keeps the highest recent recommendation
    Given the manifest:
      """
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
            stabilizationWindowSeconds: 120
      """
    When deployment "web" receives a total CPU load of 10m
    Then deployment "web" keeps 2 replicas for 1 minute
    And the horizontalpodautoscaler "web" matches:
      """
      status:
        conditions:
        - type: AbleToScale
          status: "True"
          reason: ScaleDownStabilized
          message: recent recommendations were higher than current one, applying the highest recent recommendation
      """
    And within 2 minutes deployment "web" has 1 replicas

  Scenario: a short scale-down stabilization (upstream e2e)
    Given the manifest:
      """
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
            stabilizationWindowSeconds: 30
      """
    When deployment "web" receives a total CPU load of 20m
    Then within 90 seconds deployment "web" has 1 replicas

  Scenario: H15 a 10% scale-up policy on 100 pods allows 111 (floating point)
    Given the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: big
      spec:
        replicas: 100
        selector:
          matchLabels: {app: big}
        template:
          metadata:
            labels: {app: big}
          spec:
            containers:
            - name: big
              image: php-apache:v1
              resources:
                requests: {cpu: 100m}
      ---
      apiVersion: autoscaling/v2
      kind: HorizontalPodAutoscaler
      metadata:
        name: big
      spec:
        scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: big}
        minReplicas: 1
        maxReplicas: 1000
        metrics:
        - type: Resource
          resource:
            name: cpu
            target: {type: Utilization, averageUtilization: 50}
        behavior:
          scaleUp:
            policies:
            - {type: Percent, value: 10, periodSeconds: 60}
      """
    # ceil(100 × 1.1) is ceil(110.00000000000001) = 111 in float64.
    When deployment "big" receives a total CPU load of 10000m
    Then within 1 minute deployment "big" has 111 replicas
    And the horizontalpodautoscaler "big" has an event with reason "SuccessfulRescale" and message "New size: 111; reason: cpu resource utilization (percentage of request) above target"

  Scenario: H18 selectPolicy Disabled on scale-down never scales down
    Given the manifest:
      """
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
            selectPolicy: Disabled
      """
    When deployment "web" receives a total CPU load of 0m
    Then deployment "web" keeps 2 replicas for 10 minutes
    # Scale-up keeps its defaults (+100% or +4 pods per 15 s): 400m is 200%, raw 8, via 6.
    When deployment "web" receives a total CPU load of 400m
    Then within 1 minute deployment "web" has 8 replicas
    And the replicas of deployment "web" went through "2, 6, 8"

  Scenario: pod and percent rate limits on scale-up (upstream e2e: 1 pod a minute)
    Given the manifest:
      """
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
          scaleUp:
            selectPolicy: Min
            policies:
            - {type: Pods, value: 1, periodSeconds: 60}
            - {type: Percent, value: 100, periodSeconds: 60}
      """
    When deployment "web" receives a total CPU load of 500m
    Then within 1 minute deployment "web" has 3 replicas
    And deployment "web" keeps 3 replicas for 59 seconds
    And within 2 seconds deployment "web" has 4 replicas
    And within 3 minutes deployment "web" has 7 replicas
    And the replicas of deployment "web" went through "2, 3, 4, 5, 6, 7"

  Scenario: both directions configured together (upstream e2e)
    Given the manifest:
      """
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
          scaleUp:
            stabilizationWindowSeconds: 0
            policies:
            - {type: Pods, value: 2, periodSeconds: 30}
          scaleDown:
            stabilizationWindowSeconds: 0
            policies:
            - {type: Pods, value: 1, periodSeconds: 30}
      """
    When deployment "web" receives a total CPU load of 600m
    Then within 2 minutes deployment "web" has 6 replicas
    When deployment "web" receives a total CPU load of 150m
    Then within 3 minutes deployment "web" has 3 replicas
    And the replicas of deployment "web" went through "2, 4, 6, 5, 4, 3"
