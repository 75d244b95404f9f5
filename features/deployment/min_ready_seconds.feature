Feature: minReadySeconds and availability
  A pod is available once it is Ready and readyCondition.lastTransitionTime + minReadySeconds
  < now, strictly, with the transition time truncated to whole seconds (IsPodAvailable).
  Rolling updates only remove old pods against *available* new pods, so minReadySeconds
  slows a rollout down and holds back a version whose pods never become ready.

  Scenario: a pod counts as available only strictly after minReadySeconds
    # Pods are created at t0 and ready at t0+1s; available when (t0+1) + 5 < now,
    # i.e. not at t0+6s, but from t0+6.001s on.
    When I apply the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: 3
        minReadySeconds: 5
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
    And 6 seconds pass
    Then deployment "web" has 3 ready replicas
    And deployment "web" has 0 available replicas
    And the rollout status of deployment "web" is 'Waiting for deployment "web" rollout to finish: 0 of 3 updated replicas are available...'
    And the deployment "web" matches:
      """
      status:
        conditions:
          - type: Available
            status: "False"
            reason: MinimumReplicasUnavailable
      """
    When 1 second passes
    Then deployment "web" has 3 available replicas
    And the rollout status of deployment "web" is 'deployment "web" successfully rolled out'

  Scenario: minReadySeconds 10 makes each step of a rolling update wait for availability
    # 3 replicas, surge 1, unavailable 0. Each new pod is ready 1 s after creation and
    # available about 10 s later, so each step takes about 11 s:
    # t0     : 3/1   (pod A)
    # t0+11s : A available -> 2/1, 2/2 (pod B)
    # t0+22s : B available -> 1/2, 1/3 (pod C)
    # t0+33s : C available -> 0/3, complete.
    # The checks below sit at t0+5s, t0+15s, t0+25s, well away from those instants.
    Given the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: 3
        minReadySeconds: 10
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
    And 5 seconds pass
    # A is ready but not yet available: 3 old + A ready, 3 old available.
    Then deployment "web" has 4 ready replicas
    And deployment "web" has 3 available replicas
    And deployment "web" has 1 updated replicas
    When 10 seconds pass
    # 2/2: B is ready but not available.
    Then deployment "web" has 2 updated replicas
    And deployment "web" has 4 ready replicas
    And deployment "web" has 3 available replicas
    When 10 seconds pass
    # 1/3: C is ready but not available; one old pod remains.
    Then deployment "web" has 3 updated replicas
    And deployment "web" has 3 available replicas
    And the rollout status of deployment "web" is 'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...'
    # Without minReadySeconds this rollout would have finished at t0+3s.
    And the rollout of deployment "web" does not complete within 5 seconds
    And the rollout of deployment "web" completes within 10 seconds
    And the replica sets of deployment "web" went through:
      | old | new |
      | 3   | 0   |
      | 3   | 1   |
      | 2   | 1   |
      | 2   | 2   |
      | 1   | 2   |
      | 1   | 3   |
      | 0   | 3   |
    And during the rollout deployment "web" never had fewer than 3 available pods

  Scenario: a version whose pods never become ready is held back and the old pods keep serving
    Given image "web:crash" crashes on start
    And the manifest:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: 3
        minReadySeconds: 10
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
    When I set the image of deployment "web" to "web:crash"
    # new RS gets the surge pod (3/1); maxScaledDown = 4 - 3 - 1 = 0 for ever.
    Then the rollout of deployment "web" does not complete within 5 minutes
    And the replica sets of deployment "web" went through:
      | old | new |
      | 3   | 0   |
      | 3   | 1   |
    And during the rollout deployment "web" never had fewer than 3 available pods
    And deployment "web" has 4 pods
    And deployment "web" has 1 updated replicas
    And deployment "web" has 3 available replicas
    And the rollout status of deployment "web" is 'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...'

  Scenario: changing minReadySeconds does not create a revision
    Given a deployment "web" with 3 replicas of image "web:v1"
    When I patch deployment "web" with:
      """
      spec:
        minReadySeconds: 5
      """
    Then the rollout of deployment "web" completes within 1 minute
    And the rollout history of deployment "web" shows revisions "1"
    And deployment "web" has 1 replica sets
    And deployment "web" has 3 available replicas
    And the deployment "web" matches:
      """
      metadata:
        generation: 2
      spec:
        minReadySeconds: 5
      status:
        observedGeneration: 2
      """
