Feature: Deployments in API versions that are no longer served
  apps/v1beta1, apps/v1beta2 and extensions/v1beta1 Deployments were removed in
  Kubernetes 1.16. kubectl cannot map them to a resource ("no matches for kind ...");
  kubespec adds that Deployments must use apps/v1.

  Scenario: an apps/v1beta1 Deployment is refused with a pointer to apps/v1
    When I try to apply the manifest:
      """
      apiVersion: apps/v1beta1
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
    Then the request is rejected with an error containing 'no matches for kind "Deployment" in version "apps/v1beta1"'
    And the request is rejected with an error containing "use apiVersion: apps/v1"

  Scenario: an extensions/v1beta1 Deployment is refused with a pointer to apps/v1
    When I try to apply the manifest:
      """
      apiVersion: extensions/v1beta1
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
    Then the request is rejected with an error containing 'no matches for kind "Deployment" in version "extensions/v1beta1"'
    And the request is rejected with an error containing "use apiVersion: apps/v1"
