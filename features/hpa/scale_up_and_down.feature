Feature: The HPA follows the load up and down (spec H16, H17 and the upstream e2e resource tests)
  The HPA reads CPU usage as a percentage of the pods' requests, every 15 seconds, and sets
  spec.replicas of its target through the scale subresource. The load is a total spread over the
  ready pods, so adding pods lowers each pod's share and the count settles.

  Scenario: H16 scale up from 1 to 3, then to the maximum of 5
    Given a deployment "web" with 1 replicas of image "php-apache:v1" requesting 500m CPU
    And deployment "web" is autoscaled from 1 to 5 replicas at 20% CPU
    Then the horizontalpodautoscaler "web" shows targets "cpu: <unknown>/20%"
    When deployment "web" receives a total CPU load of 250m
    # 250m of 500m is 50%: ratio 2.5, so ceil(2.5 × 1) = 3.
    Then within 1 minute deployment "web" has 3 replicas
    # At 3 pods each uses 83m: 16%, ratio 0.8, ceil(0.8 × 3) = 3 again.
    And within 1 minute the horizontalpodautoscaler "web" shows targets "cpu: 16%/20%"
    And deployment "web" keeps 3 replicas for 5 minutes
    When deployment "web" receives a total CPU load of 700m
    # 700m over 3 pods is 46%: ratio 2.3, ceil(6.9) = 7, limited to maxReplicas 5.
    Then within 1 minute deployment "web" has 5 replicas
    And the horizontalpodautoscaler "web" has an event with reason "SuccessfulRescale" and message "New size: 3; reason: cpu resource utilization (percentage of request) above target"
    And the horizontalpodautoscaler "web" has an event with reason "SuccessfulRescale" and message "New size: 5; reason: cpu resource utilization (percentage of request) above target"
    # status.currentReplicas is the count the HPA read at its sync: 5 from the next sync on.
    And within 15 seconds the horizontalpodautoscaler "web" matches:
      """
      status:
        currentReplicas: 5
        desiredReplicas: 5
        conditions:
        - type: AbleToScale
          status: "True"
        - type: ScalingActive
          status: "True"
          reason: ValidMetricFound
          message: the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)
        - type: ScalingLimited
          status: "True"
          reason: TooManyReplicas
          message: the desired replica count is more than the maximum replica count
      """
    And the replicas of deployment "web" went through "1, 3, 5"

  Scenario: H17 scale down from 5 to 3 after the stabilization window, then to the minimum
    Given a deployment "web" with 5 replicas of image "php-apache:v1" requesting 500m CPU
    And deployment "web" is autoscaled from 1 to 5 replicas at 30% CPU
    When deployment "web" receives a total CPU load of 325m
    # 65m of 500m is 13%: ratio 0.433, ceil(0.433 × 5) = 3; the 5-minute window holds 5 first.
    Then deployment "web" keeps 5 replicas for 4 minutes
    And within 2 minutes deployment "web" has 3 replicas
    When deployment "web" receives a total CPU load of 10m
    # 3m a pod is 0%: the proposal 0 is raised to minReplicas 1, after the window again.
    Then within 7 minutes deployment "web" has 1 replicas
    And the replicas of deployment "web" went through "5, 3, 1"
    And the horizontalpodautoscaler "web" has an event with reason "SuccessfulRescale" and message "New size: 3; reason: All metrics below target"

  Scenario: scale up and back down when the load goes away (1 → 3 → 5 → 3 → 1)
    Given a deployment "web" with 1 replicas of image "php-apache:v1" requesting 200m CPU
    And deployment "web" is autoscaled from 1 to 5 replicas at 50% CPU
    When deployment "web" receives a total CPU load of 250m
    Then within 1 minute deployment "web" has 3 replicas
    When deployment "web" receives a total CPU load of 450m
    Then within 2 minutes deployment "web" has 5 replicas
    When deployment "web" receives a total CPU load of 250m
    Then within 7 minutes deployment "web" has 3 replicas
    When deployment "web" receives a total CPU load of 20m
    Then within 7 minutes deployment "web" has 1 replicas
    And the replicas of deployment "web" went through "1, 3, 5, 3, 1"

  Scenario: H13 a new HPA does not scale down for five minutes
    Given a deployment "web" with 10 replicas of image "php-apache:v1" requesting 100m CPU
    When deployment "web" receives a total CPU load of 0m
    And I autoscale deployment "web" from 2 to 10 replicas at 50% CPU
    # The first sync records the current 10 as a recommendation: scale-down waits for it to age.
    Then deployment "web" keeps 10 replicas for 4 minutes
    And within 2 minutes deployment "web" has 2 replicas
    And the horizontalpodautoscaler "web" has an event with reason "SuccessfulRescale" and message "New size: 2; reason: All metrics below target"
