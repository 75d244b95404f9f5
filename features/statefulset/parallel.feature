Feature: StatefulSet Parallel pod management
  podManagementPolicy Parallel creates and deletes pods without waiting for their
  predecessors; rolling updates still replace one pod at a time.

  @S4
  Scenario: all pods are created and deleted at once
    Given the manifest:
      """
      apiVersion: apps/v1
      kind: StatefulSet
      metadata:
        name: web
      spec:
        replicas: 0
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
      """
    When I scale statefulset "web" to 3 replicas
    Then pod "web-0" exists
    And pod "web-1" exists
    And pod "web-2" exists
    And the rollout of statefulset "web" completes within 2 seconds
    When I scale statefulset "web" to 0 replicas
    # all three go at the same instant, the highest ordinal first
    Then the pods of statefulset "web" were deleted in order "web-2, web-1, web-0"
