Feature: kubectl rollout status for a Deployment
  The message kubectl prints is chosen from the Deployment alone (upstream kubectl
  polymorphichelpers/rollout_status.go), first match wins:
    1. generation > observedGeneration        -> Waiting for deployment spec update to be observed...
    2. Progressing reason ProgressDeadlineExceeded -> error: deployment "<name>" exceeded its progress deadline
    3. updatedReplicas < spec.replicas        -> <updated> out of <replicas> new replicas have been updated...
    4. status.replicas > updatedReplicas      -> <replicas - updated> old replicas are pending termination...
    5. availableReplicas < updatedReplicas    -> <available> of <updated> updated replicas are available...
    6. otherwise                              -> deployment "<name>" successfully rolled out

  @K1 @K2 @K4
  Scenario: the message follows a rolling update step by step
    # 3 replicas, surge 1, unavailable 0; web:v2 pods start 10 s after creation.
    # t0 3/1 | t0+10s 2/2 | t0+20s 1/3 | t0+30s 0/3
    Given image "web:v2" starts in 10 seconds
    And a deployment "web" with 3 replicas of image "web:v1"
    When I set the image of deployment "web" to "web:v2"
    # status: replicas 4, updated 1
    Then the rollout status of deployment "web" is 'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...'
    When 10 seconds pass
    # status: replicas 4, updated 2
    Then the rollout status of deployment "web" is 'Waiting for deployment "web" rollout to finish: 2 out of 3 new replicas have been updated...'
    When 10 seconds pass
    # status: replicas 4, updated 3 -> 4 - 3 = 1 old replica left
    Then the rollout status of deployment "web" is 'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...'
    When 10 seconds pass
    Then the rollout status of deployment "web" is 'deployment "web" successfully rolled out'

  @K3
  Scenario: with maxSurge 0 and maxUnavailable 1 the last step waits for the new pods to be available
    # surge 0, unavailable 1: maxTotal 3, minAvailable 2; web:v2 pods start 10 s after creation.
    # t0    : new RS created with 0; available 3 > 2, old -1      -> 2/0, then new +1 -> 2/1
    # t0+10s: A ready: available 3 > 2, old -1                    -> 1/1, then new +1 -> 1/2
    # t0+20s: B ready: available 1 + 2 = 3 > 2, old -1            -> 0/2, then new +1 -> 0/3
    #         status: replicas 3, updated 3, available 2 (C not ready until t0+30s)
    Given image "web:v2" starts in 10 seconds
    And the manifest:
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
            maxUnavailable: 1
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
    When I set the image of deployment "web" to "web:v2"
    Then the rollout status of deployment "web" is 'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...'
    When 20 seconds pass
    Then the rollout status of deployment "web" is 'Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are available...'
    And within 10 seconds the rollout status of deployment "web" is 'deployment "web" successfully rolled out'
    And the replica sets of deployment "web" went through:
      | old | new |
      | 3   | 0   |
      | 2   | 0   |
      | 2   | 1   |
      | 1   | 1   |
      | 1   | 2   |
      | 0   | 2   |
      | 0   | 3   |
    And during the rollout deployment "web" never had more than 3 pods
    And during the rollout deployment "web" never had fewer than 2 available pods

  @K5
  Scenario: controllers observe a spec change at once, so the spec-update message never shows
    # K5 needs generation > observedGeneration. Controllers here react at zero latency, so
    # after every step observedGeneration has caught up and rule 1 cannot match; the scale
    # is reported by the later rules instead (replicas 5, updated 5, available 3).
    Given a deployment "web" with 3 replicas of image "web:v1"
    When I scale deployment "web" to 5 replicas
    Then the deployment "web" matches:
      """
      metadata:
        generation: 2
      status:
        observedGeneration: 2
      """
    And the rollout status of deployment "web" is 'Waiting for deployment "web" rollout to finish: 3 of 5 updated replicas are available...'
    And within 1 second the rollout status of deployment "web" is 'deployment "web" successfully rolled out'

  @K6
  Scenario: a rollout past its progress deadline is reported as an error
    Given image "web:broken" cannot be pulled
    And the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: 3
        progressDeadlineSeconds: 30
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
    When I set the image of deployment "web" to "web:broken"
    # last progress at t0 (new RS created); timed out at the re-sync t0 + 30 s + 1 s.
    Then the rollout status of deployment "web" is 'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...'
    And within 1 minute the rollout status of deployment "web" is 'error: deployment "web" exceeded its progress deadline'
    And the rollout of deployment "web" does not complete within 5 minutes

  @K7
  Scenario: the running revision that rollout status --revision compares against
    # `kubectl rollout status --revision=3` compares 3 with the Deployment's revision
    # annotation and fails with "desired revision (3) is different from the running
    # revision (4)". The vocabulary has no --revision step yet; this checks the annotation.
    Given a deployment "web" with 3 replicas of image "web:v1"
    When I set the image of deployment "web" to "web:v2"
    Then the rollout of deployment "web" completes within 1 minute
    When I set the image of deployment "web" to "web:v3"
    Then the rollout of deployment "web" completes within 1 minute
    When I undo the rollout of deployment "web"
    Then the rollout of deployment "web" completes within 1 minute
    And the rollout history of deployment "web" shows revisions "1, 3, 4"
    And the deployment "web" matches:
      """
      metadata:
        annotations:
          deployment.kubernetes.io/revision: "4"
      """
