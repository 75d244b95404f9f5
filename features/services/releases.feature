@services
Feature: Canary and blue-green releases behind one Service
  A Service's EndpointSlices list the pods its selector matches, ready or not, as the
  EndpointSlice controller keeps them. Traffic goes to the ready ones.

  Background:
    Given the manifest:
      """
      apiVersion: v1
      kind: Service
      metadata:
        name: web
      spec:
        selector:
          app: web
        ports:
        - port: 80
          targetPort: http
      """

  Scenario: A canary takes one endpoint in four; a broken canary version does not take more
    Given image "web:v3" never becomes ready
    And the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web-stable
      spec:
        replicas: 3
        selector:
          matchLabels: {app: web, track: stable}
        template:
          metadata:
            labels: {app: web, track: stable}
          spec:
            containers:
            - name: web
              image: web:v1
              ports: [{name: http, containerPort: 8080}]
              readinessProbe:
                httpGet: {path: /ready, port: http}
                periodSeconds: 2
                failureThreshold: 1
      ---
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web-canary
      spec:
        replicas: 1
        selector:
          matchLabels: {app: web, track: canary}
        template:
          metadata:
            labels: {app: web, track: canary}
          spec:
            containers:
            - name: web
              image: web:v2
              ports: [{name: http, containerPort: 8080}]
              readinessProbe:
                httpGet: {path: /ready, port: http}
                periodSeconds: 2
                failureThreshold: 1
      """
    Then service "web" has 4 ready endpoints
    And service "web" has 1 ready endpoints from pods labelled "track=canary"
    And service "web" has 3 ready endpoints from pods labelled "track=stable"
    When I set the image of deployment "web-canary" to "web:v3"
    Then the rollout of deployment "web-canary" does not complete within 1 minute
    # maxUnavailable rounds down to 0 at one replica: the old canary pod keeps serving.
    And service "web" has 4 ready endpoints
    And service "web" has 1 ready endpoints from pods labelled "track=canary"

  Scenario: A pod that fails readiness drops out of the Service and comes back
    Given the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: canary
        labels: {app: web, track: canary}
      spec:
        containers:
        - name: web
          image: web:v2
          ports: [{name: http, containerPort: 8080}]
          readinessProbe:
            httpGet: {path: /ready, port: http}
            periodSeconds: 1
            failureThreshold: 1
      """
    Then service "web" has 1 ready endpoints
    When the readiness probe of pod "canary" starts failing
    And 1 second passes
    Then service "web" has 0 ready endpoints
    And pod "canary" is not ready
    When the readiness probe of pod "canary" starts passing
    And 1 second passes
    Then service "web" has 1 ready endpoints
    And the service "web" matches:
      """
      spec:
        type: ClusterIP
        sessionAffinity: None
        ports:
        - port: 80
          protocol: TCP
          targetPort: http
      """

  Scenario: Blue-green: switch the selector, then switch it back
    Given the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web-blue
      spec:
        replicas: 2
        selector:
          matchLabels: {app: web, version: blue}
        template:
          metadata:
            labels: {app: web, version: blue}
          spec:
            containers:
            - name: web
              image: web:v1
              ports: [{name: http, containerPort: 8080}]
      ---
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web-green
      spec:
        replicas: 2
        selector:
          matchLabels: {app: web, version: green}
        template:
          metadata:
            labels: {app: web, version: green}
          spec:
            containers:
            - name: web
              image: web:v2
              ports: [{name: http, containerPort: 8080}]
      ---
      apiVersion: v1
      kind: Service
      metadata:
        name: web
      spec:
        selector: {app: web, version: blue}
        ports:
        - port: 80
          targetPort: http
      """
    Then service "web" has 2 ready endpoints
    And service "web" has 2 ready endpoints from pods labelled "version=blue"
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Service
      metadata:
        name: web
      spec:
        selector: {app: web, version: green}
        ports:
        - port: 80
          targetPort: http
      """
    Then service "web" has 2 ready endpoints from pods labelled "version=green"
    And service "web" has 0 ready endpoints from pods labelled "version=blue"
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Service
      metadata:
        name: web
      spec:
        selector: {app: web, version: blue}
        ports:
        - port: 80
          targetPort: http
      """
    Then service "web" has 2 ready endpoints from pods labelled "version=blue"
