Feature: Validation of the Deployment spec
  Messages follow upstream ValidateDeploymentSpec and ValidatePodTemplateSpecForReplicaSet
  (pkg/apis/apps/validation/validation.go): "<field path>: <error type>: <value>: <detail>".

  Scenario: the selector must match the template labels
    When I try to apply the manifest:
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
              app: other
          spec:
            containers:
              - name: web
                image: web:v1
      """
    Then the request is rejected with an error containing '"web" is invalid'
    And the request is rejected with an error containing "spec.template.metadata.labels: Invalid value: "
    And the request is rejected with an error containing "`selector` does not match template `labels`"

  Scenario: the selector is required
    When I try to apply the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: 3
        template:
          metadata:
            labels:
              app: web
          spec:
            containers:
              - name: web
                image: web:v1
      """
    Then the request is rejected with an error containing "spec.selector: Required value"

  Scenario: the selector of an apps/v1 Deployment cannot be changed
    Given a deployment "web" with 3 replicas of image "web:v1"
    When I try to apply the manifest:
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
            tier: frontend
        template:
          metadata:
            labels:
              app: web
              tier: frontend
          spec:
            containers:
              - name: web
                image: web:v1
      """
    Then the request is rejected with an error containing "spec.selector: Invalid value: "
    And the request is rejected with an error containing "field is immutable"
    And deployment "web" has 1 replica sets

  Scenario: replicas may not be negative
    When I try to apply the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: -1
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
    Then the request is rejected with an error containing "spec.replicas: Invalid value: -1: must be greater than or equal to 0"

  Scenario: progressDeadlineSeconds must be greater than minReadySeconds
    When I try to apply the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: 3
        minReadySeconds: 10
        progressDeadlineSeconds: 10
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
    And the request is rejected with an error containing "spec.progressDeadlineSeconds: Invalid value: 10: must be greater than minReadySeconds"
