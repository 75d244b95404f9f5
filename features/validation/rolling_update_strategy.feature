Feature: Validation of the Deployment strategy
  The API server rejects a Deployment whose strategy is invalid, naming the object and the
  field (upstream pkg/apis/apps/validation/validation.go, ValidateRollingUpdateDeployment
  and ValidateDeploymentStrategy). Assertions use the field path and the detail; the
  prefix ("The Deployment \"web\" is invalid: ...") may be formatted differently.

  Scenario: maxSurge and maxUnavailable may not both be 0
    When I try to apply the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: 3
        strategy:
          type: RollingUpdate
          rollingUpdate:
            maxSurge: 0
            maxUnavailable: 0
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
    Then the request is rejected with an error containing '"web" is invalid'
    And the request is rejected with an error containing "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "
    And the request is rejected with an error containing "may not be 0 when `maxSurge` is 0"

  Scenario: 0% and 0% are rejected like 0 and 0
    When I try to apply the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: 3
        strategy:
          rollingUpdate:
            maxSurge: 0%
            maxUnavailable: 0%
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
    Then the request is rejected with an error containing "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "
    And the request is rejected with an error containing "may not be 0 when `maxSurge` is 0"

  Scenario: a change of an existing deployment to maxSurge 0 and maxUnavailable 0 is rejected and changes nothing
    Given a deployment "web" with 3 replicas of image "web:v1"
    When I try to apply the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: 3
        strategy:
          rollingUpdate:
            maxSurge: 0
            maxUnavailable: 0
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
    Then the request is rejected with an error containing "may not be 0 when `maxSurge` is 0"
    And the rollout history of deployment "web" shows revisions "1"
    And all pods of deployment "web" run image "web:v1"
    And the deployment "web" matches:
      """
      metadata:
        generation: 1
      """

  Scenario: maxUnavailable may not exceed 100%
    When I try to apply the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: 3
        strategy:
          rollingUpdate:
            maxSurge: 1
            maxUnavailable: 101%
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
    Then the request is rejected with an error containing "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "
    And the request is rejected with an error containing "must not be greater than 100%"

  Scenario: a Recreate strategy may not carry rollingUpdate parameters
    When I try to apply the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: 3
        strategy:
          type: Recreate
          rollingUpdate:
            maxSurge: 1
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
    Then the request is rejected with an error containing "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"
