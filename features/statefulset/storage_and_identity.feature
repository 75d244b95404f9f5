Feature: StatefulSet storage, ordinals and DNS
  Each pod gets the claims of the volumeClaimTemplates, named <template>-<set>-<ordinal>, bound
  by the default StorageClass; persistentVolumeClaimRetentionPolicy decides whether they go
  with a scale-down. The governing headless Service gives each ready pod a DNS name.

  Background:
    Given the manifest:
      """
      apiVersion: v1
      kind: Service
      metadata:
        name: web
      spec:
        clusterIP: None
        selector: {app: web}
        ports:
        - {name: web, port: 80}
      """

  @S8
  Scenario: claims are kept on scale-down and reattached on scale-up
    Given the manifest:
      """
      apiVersion: apps/v1
      kind: StatefulSet
      metadata:
        name: web
      spec:
        replicas: 2
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
              volumeMounts:
              - {name: www, mountPath: /usr/share/nginx/html}
        volumeClaimTemplates:
        - metadata:
            name: www
          spec:
            accessModes: [ReadWriteOnce]
            resources:
              requests:
                storage: 1Gi
      """
    Then the rollout of statefulset "web" completes within 10 seconds
    Then persistent volume claims "www-web-0, www-web-1" exist
    And the persistentvolumeclaim "www-web-1" matches:
      """
      metadata:
        labels: {app: web}
      spec:
        storageClassName: standard
      status:
        phase: Bound
      """
    When I scale statefulset "web" to 1 replicas
    And 10 seconds pass
    Then pod "web-1" does not exist
    And persistent volume claims "www-web-0, www-web-1" exist
    When I scale statefulset "web" to 2 replicas
    Then the rollout of statefulset "web" completes within 10 seconds
    And the pod "web-1" matches:
      """
      spec:
        volumes:
        - name: www
          persistentVolumeClaim:
            claimName: www-web-1
      """

  @S9
  Scenario: whenScaled Delete removes the claim once its pod is gone
    Given the manifest:
      """
      apiVersion: apps/v1
      kind: StatefulSet
      metadata:
        name: web
      spec:
        replicas: 2
        serviceName: web
        persistentVolumeClaimRetentionPolicy:
          whenScaled: Delete
        selector:
          matchLabels: {app: web}
        template:
          metadata:
            labels: {app: web}
          spec:
            containers:
            - name: web
              image: nginx:1.27
        volumeClaimTemplates:
        - metadata:
            name: www
          spec:
            accessModes: [ReadWriteOnce]
      """
    Then the rollout of statefulset "web" completes within 10 seconds
    When I scale statefulset "web" to 1 replicas
    And 10 seconds pass
    Then persistent volume claim "www-web-1" does not exist
    And persistent volume claims "www-web-0" exist

  @S10
  Scenario: ordinals.start names the pods and moving it moves the range
    Given the manifest:
      """
      apiVersion: apps/v1
      kind: StatefulSet
      metadata:
        name: web
      spec:
        replicas: 3
        ordinals:
          start: 5
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
    Then the rollout of statefulset "web" completes within 10 seconds
    Then the pods of statefulset "web" were created in order "web-5, web-6, web-7"
    When I apply the manifest:
      """
      apiVersion: apps/v1
      kind: StatefulSet
      metadata:
        name: web
      spec:
        replicas: 3
        ordinals:
          start: 3
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
    And 10 seconds pass
    Then the pods of statefulset "web" were created in order "web-5, web-6, web-7, web-3, web-4"
    And the pods of statefulset "web" were deleted in order "web-7, web-6"

  Scenario: each ready pod has a DNS name under the headless Service
    Given image "db:1" starts in 10 seconds
    And the manifest:
      """
      apiVersion: apps/v1
      kind: StatefulSet
      metadata:
        name: web
      spec:
        replicas: 2
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
    Then the rollout of statefulset "web" completes within 10 seconds
    Then the DNS name "web-0.web.default.svc.cluster.local" resolves to pod "web-0"
    And an SRV lookup of "web.default.svc.cluster.local" returns "web-0.web.default.svc.cluster.local, web-1.web.default.svc.cluster.local"
    When I set the image of statefulset "web" to "db:1"
    Then an SRV lookup of "web.default.svc.cluster.local" returns "web-0.web.default.svc.cluster.local"
