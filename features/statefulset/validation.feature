Feature: StatefulSet manifests the API server refuses
  Defaults and validation of apps/v1 StatefulSets (pkg/apis/apps/v1/defaults.go,
  pkg/apis/apps/validation/validation.go), with the API server's words.

  Scenario: an unknown pod management policy and a selector that misses the template
    When I try to apply the manifest:
      """
      apiVersion: apps/v1
      kind: StatefulSet
      metadata:
        name: web
      spec:
        replicas: 1
        podManagementPolicy: Sometimes
        selector:
          matchLabels: {app: web}
        template:
          metadata:
            labels: {app: other}
          spec:
            containers:
            - name: web
              image: nginx
      """
    Then the request is rejected with:
      """
      StatefulSet.apps "web" is invalid: [spec.podManagementPolicy: Invalid value: "Sometimes": must be 'OrderedReady' or 'Parallel', spec.template.metadata.labels: Invalid value: {"app":"other"}: `selector` does not match template `labels`]
      """

  Scenario: only some fields of a StatefulSet's spec may change
    Given a statefulset "web" with 1 replicas of image "nginx:1.27"
    When I try to apply the manifest:
      """
      apiVersion: apps/v1
      kind: StatefulSet
      metadata:
        name: web
      spec:
        replicas: 1
        serviceName: other
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
    Then the request is rejected with an error containing "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"

  Scenario: a StatefulSet with a manifest typo is refused with its place
    When I try to apply the manifest:
      """
      apiVersion: apps/v1
      kind: StatefulSet
      metadata:
        name: web
      spec:
        replcas: 1
        selector:
          matchLabels: {app: web}
        template:
          metadata:
            labels: {app: web}
          spec:
            containers:
            - name: web
              image: nginx
      """
    Then the request is rejected with an error containing "unknown field \"replcas\" in StatefulSet \"web\" (at spec.replcas)"
