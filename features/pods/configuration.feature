@pods @configuration
Feature: Container configuration: env, envFrom, ConfigMaps, Secrets and the downward API
  The environment is resolved when the kubelet creates the container. A reference to a missing
  ConfigMap, Secret or key keeps the container in CreateContainerConfigError until it appears.

  Scenario: Every kind of environment source
    Given the manifest:
      """
      apiVersion: v1
      kind: ConfigMap
      metadata:
        name: app-config
      data:
        LOG_LEVEL: debug
        COLOR: blue
      ---
      apiVersion: v1
      kind: Secret
      metadata:
        name: app-secret
      data:
        password: aHVudGVyMg==
      stringData:
        user: admin
      ---
      apiVersion: v1
      kind: Pod
      metadata:
        name: app
        labels:
          tier: backend
      spec:
        containers:
        - name: web
          image: web:v1
          resources:
            limits:
              cpu: 500m
              memory: 64Mi
          envFrom:
          - configMapRef:
              name: app-config
            prefix: CFG_
          env:
          - name: GREETING
            value: hello
          - name: MESSAGE
            value: $(GREETING) world, $$(GREETING) stays
          - name: LOG_LEVEL
            valueFrom:
              configMapKeyRef:
                name: app-config
                key: LOG_LEVEL
          - name: DB_PASSWORD
            valueFrom:
              secretKeyRef:
                name: app-secret
                key: password
          - name: DB_USER
            valueFrom:
              secretKeyRef:
                name: app-secret
                key: user
          - name: FEATURE_X
            valueFrom:
              configMapKeyRef:
                name: app-config
                key: FEATURE_X
                optional: true
          - name: POD_NAME
            valueFrom:
              fieldRef:
                fieldPath: metadata.name
          - name: POD_NAMESPACE
            valueFrom:
              fieldRef:
                fieldPath: metadata.namespace
          - name: TIER
            valueFrom:
              fieldRef:
                fieldPath: metadata.labels['tier']
          - name: NODE
            valueFrom:
              fieldRef:
                fieldPath: spec.nodeName
          - name: CPU_MILLIS
            valueFrom:
              resourceFieldRef:
                resource: limits.cpu
                divisor: 1m
          - name: MEMORY_MI
            valueFrom:
              resourceFieldRef:
                resource: limits.memory
                divisor: 1Mi
      """
    Then pod "app" is in state "Running"
    And container "web" of pod "app" has environment variable "CFG_LOG_LEVEL" set to "debug"
    And container "web" of pod "app" has environment variable "CFG_COLOR" set to "blue"
    And container "web" of pod "app" has environment variable "MESSAGE" set to "hello world, $(GREETING) stays"
    And container "web" of pod "app" has environment variable "LOG_LEVEL" set to "debug"
    And container "web" of pod "app" has environment variable "DB_PASSWORD" set to "hunter2"
    And container "web" of pod "app" has environment variable "DB_USER" set to "admin"
    And container "web" of pod "app" has no environment variable "FEATURE_X"
    And container "web" of pod "app" has environment variable "POD_NAME" set to "app"
    And container "web" of pod "app" has environment variable "POD_NAMESPACE" set to "default"
    And container "web" of pod "app" has environment variable "TIER" set to "backend"
    And container "web" of pod "app" has environment variable "NODE" set to "node-1"
    And container "web" of pod "app" has environment variable "CPU_MILLIS" set to "500"
    And container "web" of pod "app" has environment variable "MEMORY_MI" set to "64"

  Scenario: A missing ConfigMap holds the container until it is created
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: app
      spec:
        containers:
        - name: web
          image: web:v1
          env:
          - name: LOG_LEVEL
            valueFrom:
              configMapKeyRef:
                name: app-config
                key: LOG_LEVEL
      """
    Then pod "app" is in state "CreateContainerConfigError"
    And the events of pod "app" include 'Failed: Error: configmap "app-config" not found'
    And the pod "app" matches:
      """
      status:
        phase: Pending
        containerStatuses:
        - name: web
          ready: false
          state:
            waiting:
              reason: CreateContainerConfigError
              message: configmap "app-config" not found
      """
    When I apply the manifest:
      """
      apiVersion: v1
      kind: ConfigMap
      metadata:
        name: app-config
      data:
        COLOR: blue
      """
    And 10 seconds pass
    Then pod "app" is in state "CreateContainerConfigError"
    And the events of pod "app" include "Failed: Error: couldn't find key LOG_LEVEL in ConfigMap default/app-config"
    When I apply the manifest:
      """
      apiVersion: v1
      kind: ConfigMap
      metadata:
        name: app-config
      data:
        LOG_LEVEL: info
      """
    And 11 seconds pass
    Then pod "app" is in state "Running"
    And container "web" of pod "app" has environment variable "LOG_LEVEL" set to "info"

  Scenario: command and args over the image's ENTRYPOINT and CMD (the documentation's table)
    Given image "ep:1" has entrypoint '["/ep-1"]'
    And image "ep:1" has cmd '["foo", "bar"]'
    And the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: table
      spec:
        containers:
        - name: neither
          image: ep:1
        - name: command-only
          image: ep:1
          command: ["/ep-2"]
        - name: args-only
          image: ep:1
          args: ["zoo", "boo"]
        - name: both
          image: ep:1
          command: ["/ep-2"]
          args: ["zoo", "boo"]
      """
    Then container "neither" of pod "table" runs '["/ep-1", "foo", "bar"]'
    And container "command-only" of pod "table" runs '["/ep-2"]'
    And container "args-only" of pod "table" runs '["/ep-1", "zoo", "boo"]'
    And container "both" of pod "table" runs "/ep-2 zoo boo"

  Scenario: environment variables expand in command and args
    Given the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: command-demo
      spec:
        containers:
        - name: command-demo-container
          image: debian
          env:
          - name: MESSAGE
            value: "hello world"
          command: ["/bin/echo"]
          args: ["$(MESSAGE)", "$$(MESSAGE)", "$(UNSET)"]
      """
    Then container "command-demo-container" of pod "command-demo" runs '["/bin/echo", "hello world", "$(MESSAGE)", "$(UNSET)"]'

  Scenario: Service environment variables, as enableServiceLinks gives them
    Given the manifest:
      """
      apiVersion: v1
      kind: Service
      metadata:
        name: redis-primary
      spec:
        selector:
          app: redis
        ports:
        - name: redis
          port: 6379
      ---
      apiVersion: v1
      kind: Pod
      metadata:
        name: linked
      spec:
        containers:
        - name: app
          image: app:v1
          env:
          - name: REDIS_URL
            value: redis://$(REDIS_PRIMARY_SERVICE_HOST):$(REDIS_PRIMARY_SERVICE_PORT)
      ---
      apiVersion: v1
      kind: Pod
      metadata:
        name: unlinked
      spec:
        enableServiceLinks: false
        containers:
        - name: app
          image: app:v1
      """
    Then container "app" of pod "linked" has environment variable "REDIS_PRIMARY_SERVICE_HOST" set to "10.96.0.2"
    And container "app" of pod "linked" has environment variable "REDIS_PRIMARY_SERVICE_PORT" set to "6379"
    And container "app" of pod "linked" has environment variable "REDIS_PRIMARY_SERVICE_PORT_REDIS" set to "6379"
    And container "app" of pod "linked" has environment variable "REDIS_PRIMARY_PORT" set to "tcp://10.96.0.2:6379"
    And container "app" of pod "linked" has environment variable "REDIS_PRIMARY_PORT_6379_TCP_ADDR" set to "10.96.0.2"
    And container "app" of pod "linked" has environment variable "REDIS_URL" set to "redis://10.96.0.2:6379"
    And container "app" of pod "linked" has environment variable "KUBERNETES_SERVICE_HOST" set to "10.96.0.1"
    And container "app" of pod "linked" has environment variable "KUBERNETES_SERVICE_PORT_HTTPS" set to "443"
    # The master service's variables are given even without service links.
    And container "app" of pod "unlinked" has no environment variable "REDIS_PRIMARY_SERVICE_HOST"
    And container "app" of pod "unlinked" has environment variable "KUBERNETES_PORT_443_TCP" set to "tcp://10.96.0.1:443"
