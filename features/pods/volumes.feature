@pods @configuration @volumes
Feature: ConfigMap and Secret volumes
  Every key of a ConfigMap or Secret volume becomes a file under the mount path; with `items`,
  only the keys listed, at their paths. A missing ConfigMap, Secret or listed key fails the mount
  (`FailedMount`) and no container starts until the kubelet retries with success (back-off from
  500 ms, doubling). Mounted content follows the object at the kubelet's resync, every 60
  seconds; a `subPath` mount and the environment keep what the container started with.

  Scenario: the documentation's ConfigMap volume, whole and with items
    Given the manifest:
      """
      apiVersion: v1
      kind: ConfigMap
      metadata:
        name: special-config
      data:
        SPECIAL_LEVEL: very
        SPECIAL_TYPE: charm
      ---
      apiVersion: v1
      kind: Pod
      metadata:
        name: dapi-test-pod
      spec:
        containers:
        - name: test-container
          image: registry.k8s.io/busybox
          command: ["/bin/sh", "-c", "ls /etc/config/"]
          volumeMounts:
          - name: config-volume
            mountPath: /etc/config
          - name: level-only
            mountPath: /etc/level
        volumes:
        - name: config-volume
          configMap:
            name: special-config
        - name: level-only
          configMap:
            name: special-config
            items:
            - key: SPECIAL_LEVEL
              path: keys
      """
    Then file "/etc/config/SPECIAL_LEVEL" in container "test-container" of pod "dapi-test-pod" has content "very"
    And file "/etc/config/SPECIAL_TYPE" in container "test-container" of pod "dapi-test-pod" has content "charm"
    And file "/etc/level/keys" in container "test-container" of pod "dapi-test-pod" has content "very"
    And container "test-container" of pod "dapi-test-pod" has no file "/etc/level/SPECIAL_TYPE"

  Scenario: a Secret volume holds the decoded values, and stringData as written
    Given the manifest:
      """
      apiVersion: v1
      kind: Secret
      metadata:
        name: test-secret
      data:
        username: bXktYXBw
        password: Mzk1MjgkdmRnN0pi
      stringData:
        config.yaml: |
          apiUrl: https://my.api.com/api/v1
      ---
      apiVersion: v1
      kind: Pod
      metadata:
        name: secret-test-pod
      spec:
        containers:
        - name: test-container
          image: nginx
          volumeMounts:
          - name: secret-volume
            mountPath: /etc/secret-volume
            readOnly: true
        volumes:
        - name: secret-volume
          secret:
            secretName: test-secret
      """
    Then file "/etc/secret-volume/username" in container "test-container" of pod "secret-test-pod" has content "my-app"
    And file "/etc/secret-volume/password" in container "test-container" of pod "secret-test-pod" has content "39528$vdg7Jb"
    And file "/etc/secret-volume/config.yaml" in container "test-container" of pod "secret-test-pod" has content:
      """
      apiUrl: https://my.api.com/api/v1
      """

  Scenario: a missing ConfigMap holds the pod in ContainerCreating until it appears
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: web
      spec:
        containers:
        - name: web
          image: nginx
          volumeMounts:
          - name: config
            mountPath: /etc/nginx/conf.d
        volumes:
        - name: config
          configMap:
            name: nginx-conf
      """
    When 5 seconds pass
    Then pod "web" is in state "ContainerCreating"
    And the events of pod "web" include "FailedMount: MountVolume.SetUp failed for volume \"config\" : configmap \"nginx-conf\" not found"
    When I apply the manifest:
      """
      apiVersion: v1
      kind: ConfigMap
      metadata:
        name: nginx-conf
      data:
        default.conf: "server { listen 80; }"
      """
    # Mount attempts at 0, 0.5, 1.5 and 3.5 s failed; the one at 7.5 s succeeds, and the
    # container runs 1 second later.
    When 2 seconds pass
    Then pod "web" is in state "ContainerCreating"
    When 1 second passes
    Then pod "web" is in state "ContainerCreating"
    When 500ms pass
    Then pod "web" is in state "Running"
    And file "/etc/nginx/conf.d/default.conf" in container "web" of pod "web" contains "listen 80"

  Scenario: a listed key that does not exist fails the mount
    When I apply the manifest:
      """
      apiVersion: v1
      kind: ConfigMap
      metadata:
        name: app
      data:
        color: blue
      ---
      apiVersion: v1
      kind: Pod
      metadata:
        name: app
      spec:
        containers:
        - name: app
          image: app:1
          volumeMounts:
          - name: config
            mountPath: /config
        volumes:
        - name: config
          configMap:
            name: app
            items:
            - key: colour
              path: colour
      """
    When 10 seconds pass
    Then pod "app" is in state "ContainerCreating"
    And the events of pod "app" include "FailedMount: configmap references non-existent config key: colour"

  Scenario: an optional volume whose ConfigMap is missing mounts empty
    Given the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: app
      spec:
        containers:
        - name: app
          image: app:1
          volumeMounts:
          - name: extra
            mountPath: /extra
        volumes:
        - name: extra
          configMap:
            name: not-there
            optional: true
      """
    Then pod "app" is in state "Running"
    And container "app" of pod "app" has no file "/extra/anything"

  Scenario: mounted files follow a ConfigMap update at the resync, subPath files and env do not
    Given the manifest:
      """
      apiVersion: v1
      kind: ConfigMap
      metadata:
        name: app-config
      data:
        log_level: info
      ---
      apiVersion: v1
      kind: Pod
      metadata:
        name: app
      spec:
        containers:
        - name: app
          image: app:1
          env:
          - name: LOG_LEVEL
            valueFrom:
              configMapKeyRef:
                name: app-config
                key: log_level
          volumeMounts:
          - name: config
            mountPath: /etc/app
          - name: config
            mountPath: /etc/log_level
            subPath: log_level
        volumes:
        - name: config
          configMap:
            name: app-config
      """
    When I apply the manifest:
      """
      apiVersion: v1
      kind: ConfigMap
      metadata:
        name: app-config
      data:
        log_level: debug
      """
    Then file "/etc/app/log_level" in container "app" of pod "app" has content "info"
    When 1 minute passes
    Then file "/etc/app/log_level" in container "app" of pod "app" has content "debug"
    And file "/etc/log_level" in container "app" of pod "app" has content "info"
    And container "app" of pod "app" has environment variable "LOG_LEVEL" set to "info"
