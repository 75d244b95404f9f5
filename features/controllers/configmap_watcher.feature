Feature: A third-party controller against the engine
  The ConfigMap watcher of Kubernetes Patterns (examples/configmap-watcher, a kube-runtime
  controller) watches ConfigMaps through the Kubernetes API. When one annotated with
  k8spatterns.io/podDeleteSelector changes, it deletes the pods the selector matches, so that
  their Deployment recreates them and the new pods start with the new configuration.

  Background:
    Given the manifest:
      """
      apiVersion: v1
      kind: ConfigMap
      metadata:
        name: webapp-config
        annotations:
          k8spatterns.io/podDeleteSelector: "app=webapp"
      data:
        message: "Welcome to Kubernetes Patterns!"
      ---
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: webapp
      spec:
        replicas: 2
        selector:
          matchLabels:
            app: webapp
        template:
          metadata:
            labels:
              app: webapp
          spec:
            containers:
            - name: app
              image: k8spatterns/mini-http-server
              env:
              - name: MESSAGE
                valueFrom:
                  configMapKeyRef:
                    name: webapp-config
                    key: message
      """
    And the controller "configmap-watcher" is running

  Scenario: changing the ConfigMap replaces the pods, which start with the new message
    Then every pod of deployment "webapp" has environment variable "MESSAGE" set to "Welcome to Kubernetes Patterns!"
    When I apply the manifest:
      """
      apiVersion: v1
      kind: ConfigMap
      metadata:
        name: webapp-config
        annotations:
          k8spatterns.io/podDeleteSelector: "app=webapp"
      data:
        message: "Hello again from the controller"
      """
    Then within 30 seconds every pod of deployment "webapp" has environment variable "MESSAGE" set to "Hello again from the controller"
    When 10 seconds pass
    Then deployment "webapp" has 2 ready replicas
    And deployment "webapp" has 2 pods

  Scenario: without the annotation nobody restarts the pods, so they keep the old message
    When I apply the manifest:
      """
      apiVersion: v1
      kind: ConfigMap
      metadata:
        name: webapp-config
      data:
        message: "Nobody restarts the pods"
      """
    And 1 minute passes
    Then every pod of deployment "webapp" has environment variable "MESSAGE" set to "Welcome to Kubernetes Patterns!"

  Scenario: a change to another ConfigMap leaves the web app alone
    Given the manifest:
      """
      apiVersion: v1
      kind: ConfigMap
      metadata:
        name: unrelated
        annotations:
          k8spatterns.io/podDeleteSelector: "app=other"
      data:
        x: "1"
      """
    When I apply the manifest:
      """
      apiVersion: v1
      kind: ConfigMap
      metadata:
        name: unrelated
        annotations:
          k8spatterns.io/podDeleteSelector: "app=other"
      data:
        x: "2"
      """
    And 1 minute passes
    Then every pod of deployment "webapp" has environment variable "MESSAGE" set to "Welcome to Kubernetes Patterns!"
