Feature: HPA status, conditions, events and validation (spec §5.2, §5.7, H14)

  Scenario: H14 a target at zero replicas disables scaling
    Given a deployment "web" with 0 replicas of image "php-apache:v1" requesting 100m CPU
    And deployment "web" is autoscaled from 1 to 5 replicas at 50% CPU
    When deployment "web" receives a total CPU load of 900m
    Then deployment "web" keeps 0 replicas for 2 minutes
    And the horizontalpodautoscaler "web" matches:
      """
      status:
        currentReplicas: 0
        desiredReplicas: 0
        conditions:
        - type: AbleToScale
          status: "True"
          reason: SucceededGetScale
          message: the HPA controller was able to get the target's current scale
        - type: ScalingActive
          status: "False"
          reason: ScalingDisabled
          message: scaling is disabled since the replica count of the target is zero
      """

  Scenario: a target below minReplicas is raised to it without reading metrics
    Given a deployment "web" with 1 replicas of image "php-apache:v1" requesting 100m CPU
    And deployment "web" is autoscaled from 3 to 5 replicas at 50% CPU
    Then within 20 seconds deployment "web" has 3 replicas
    And the horizontalpodautoscaler "web" has an event with reason "SuccessfulRescale" and message "New size: 3; reason: Current number of replicas below Spec.MinReplicas"

  Scenario: a target above maxReplicas is lowered to it
    Given a deployment "web" with 8 replicas of image "php-apache:v1" requesting 100m CPU
    And deployment "web" is autoscaled from 1 to 5 replicas at 50% CPU
    Then within 20 seconds deployment "web" has 5 replicas
    And the horizontalpodautoscaler "web" has an event with reason "SuccessfulRescale" and message "New size: 5; reason: Current number of replicas above Spec.MaxReplicas"

  Scenario: a missing target is reported, and found once it exists
    Given the manifest:
      """
      apiVersion: autoscaling/v2
      kind: HorizontalPodAutoscaler
      metadata:
        name: web
      spec:
        scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
        maxReplicas: 5
      """
    When 20 seconds pass
    Then the horizontalpodautoscaler "web" has an event with reason "FailedGetScale" and message "deployments.apps \"web\" not found"
    And the horizontalpodautoscaler "web" matches:
      """
      spec:
        minReplicas: 1
        metrics:
        - type: Resource
          resource:
            name: cpu
            target: {type: Utilization, averageUtilization: 80}
      status:
        conditions:
        - type: AbleToScale
          status: "False"
          reason: FailedGetScale
          message: "the HPA controller was unable to get the target's current scale: deployments.apps \"web\" not found"
      """
    Given a deployment "web" with 1 replicas of image "php-apache:v1" requesting 100m CPU
    When deployment "web" receives a total CPU load of 200m
    Then within 1 minute deployment "web" has 3 replicas

  Scenario: a target kind without a scale subresource
    Given the manifest:
      """
      apiVersion: autoscaling/v2
      kind: HorizontalPodAutoscaler
      metadata:
        name: web
      spec:
        scaleTargetRef: {apiVersion: apps/v1, kind: DaemonSet, name: web}
        maxReplicas: 5
      """
    When 20 seconds pass
    Then the horizontalpodautoscaler "web" has an event with reason "FailedGetScale" and message "no matches for kind \"DaemonSet\" in group \"apps\""

  Scenario: pods without a CPU request cannot be measured as a utilization
    Given a deployment "web" with 2 replicas of image "php-apache:v1"
    And deployment "web" is autoscaled from 1 to 5 replicas at 50% CPU
    When deployment "web" receives a total CPU load of 500m
    And 45 seconds pass
    Then deployment "web" has 2 replicas
    And the horizontalpodautoscaler "web" has an event with reason "FailedGetResourceMetric"
    And the horizontalpodautoscaler "web" matches:
      """
      status:
        conditions:
        - type: AbleToScale
        - type: ScalingActive
          status: "False"
          reason: FailedGetResourceMetric
      """

  Scenario: an autoscaling/v1 HPA is stored as autoscaling/v2
    Given a deployment "web" with 1 replicas of image "php-apache:v1" requesting 100m CPU
    And the manifest:
      """
      apiVersion: autoscaling/v1
      kind: HorizontalPodAutoscaler
      metadata:
        name: web
      spec:
        scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
        minReplicas: 1
        maxReplicas: 4
        targetCPUUtilizationPercentage: 50
      """
    When deployment "web" receives a total CPU load of 150m
    Then within 1 minute deployment "web" has 3 replicas
    And the horizontalpodautoscaler "web" matches:
      """
      apiVersion: autoscaling/v2
      spec:
        metrics:
        - type: Resource
          resource:
            name: cpu
            target: {type: Utilization, averageUtilization: 50}
      """

  Scenario: maxReplicas below minReplicas is refused
    When I try to apply the manifest:
      """
      apiVersion: autoscaling/v2
      kind: HorizontalPodAutoscaler
      metadata:
        name: web
      spec:
        scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
        minReplicas: 5
        maxReplicas: 2
      """
    Then the request is rejected with an error containing "HorizontalPodAutoscaler.autoscaling \"web\" is invalid: spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`"

  Scenario: bad behavior policies are refused with every field named
    When I try to apply the manifest:
      """
      apiVersion: autoscaling/v2
      kind: HorizontalPodAutoscaler
      metadata:
        name: web
      spec:
        scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
        maxReplicas: 5
        behavior:
          scaleUp:
            stabilizationWindowSeconds: 7200
            policies:
            - {type: Pods, value: 0, periodSeconds: 2000}
      """
    Then the request is rejected with an error containing "spec.behavior.scaleUp.stabilizationWindowSeconds: Invalid value: 7200: must be less than or equal to 3600"
    And the request is rejected with an error containing "spec.behavior.scaleUp.policies[0].value: Invalid value: 0: must be greater than zero"
    And the request is rejected with an error containing "spec.behavior.scaleUp.policies[0].periodSeconds: Invalid value: 2000: must be less than or equal to 1800"

  Scenario: two HPAs over the same pods are both refused (AmbiguousSelector)
    Given a deployment "web" with 2 replicas of image "php-apache:v1" requesting 100m CPU
    And deployment "web" is autoscaled from 1 to 5 replicas at 50% CPU
    And the manifest:
      """
      apiVersion: autoscaling/v2
      kind: HorizontalPodAutoscaler
      metadata:
        name: web-memory
      spec:
        scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
        maxReplicas: 5
        metrics:
        - type: Resource
          resource:
            name: memory
            target: {type: AverageValue, averageValue: 100Mi}
      """
    When deployment "web" receives a total CPU load of 900m
    Then deployment "web" keeps 2 replicas for 1 minute
    And the horizontalpodautoscaler "web" has an event with reason "AmbiguousSelector" and message "pods by selector app=web are controlled by multiple HPAs: [default/web default/web-memory]"
    And the horizontalpodautoscaler "web-memory" matches:
      """
      status:
        conditions:
        - type: AbleToScale
        - type: ScalingActive
          status: "False"
          reason: AmbiguousSelector
          message: "pods by selector app=web are controlled by multiple HPAs: [default/web default/web-memory]"
      """
    When I delete horizontalpodautoscaler "web-memory"
    Then within 1 minute deployment "web" has 5 replicas
