@pods @states
Feature: The STATUS column of kubectl get pods
  What `kubectl get pods` shows for a pod at each stage (printPod), with the phase the kubelet
  reports (getPhase). Pods are applied without waiting, at 0 s; images start 1 second after the
  kubelet starts their container.

  Scenario: a container that fails under restartPolicy Never shows Error, and the pod fails
    Given image "job:1" exits with code 3 2 seconds after start
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: job
      spec:
        restartPolicy: Never
        containers:
        - name: job
          image: job:1
      """
    When 2 seconds pass
    Then pod "job" is in state "Running"
    When 1 second passes
    Then pod "job" is in state "Error"
    And the pod "job" matches:
      """
      status:
        phase: Failed
        conditions:
        - type: Ready
          status: "False"
          reason: PodFailed
        containerStatuses:
        - name: job
          restartCount: 0
          state:
            terminated:
              exitCode: 3
              reason: Error
      """

  Scenario: under restartPolicy OnFailure a success completes and a failure is restarted
    Given image "ok:1" exits with code 0 2 seconds after start
    And image "bad:1" exits with code 1 2 seconds after start
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: ok
      spec:
        restartPolicy: OnFailure
        containers:
        - name: ok
          image: ok:1
      ---
      apiVersion: v1
      kind: Pod
      metadata:
        name: bad
      spec:
        restartPolicy: OnFailure
        containers:
        - name: bad
          image: bad:1
      """
    # Both exit at 3 s; bad is restarted at once, runs 4–6 s and then waits 10 s.
    When 3 seconds pass
    Then pod "ok" is in state "Completed"
    And the pod "ok" matches:
      """
      status:
        phase: Succeeded
      """
    And pod "bad" has restarted 1 times
    When 3 seconds pass
    Then pod "bad" is in state "CrashLoopBackOff"
    And the pod "bad" matches:
      """
      status:
        phase: Running
      """

  Scenario: an image that cannot be pulled shows ErrImagePull, then ImagePullBackOff
    Given image "web:typo" cannot be pulled
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: web
      spec:
        containers:
        - name: web
          image: web:typo
      """
    Then pod "web" is in state "ErrImagePull"
    And the events of pod "web" include "Failed: Error: ErrImagePull"
    When 1 second passes
    Then pod "web" is in state "ImagePullBackOff"
    And the events of pod "web" include "BackOff: Back-off pulling image \"web:typo\""
    # Pulls are retried on the back-off: at 10 s, then at 30 s.
    When 9 seconds pass
    Then pod "web" is in state "ErrImagePull"
    When 1 second passes
    Then pod "web" is in state "ImagePullBackOff"
    When 19 seconds pass
    Then pod "web" is in state "ErrImagePull"
    And the pod "web" matches:
      """
      status:
        phase: Pending
      """

  Scenario: a pod is Pending until every container has been started
    Given image "slow:1" starts in 5 seconds
    When I apply the manifest:
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: duo
      spec:
        containers:
        - name: fast
          image: fast:1
        - name: slow
          image: slow:1
      """
    # fast runs from 1 s, slow from 5 s: the phase is Pending while one container still waits.
    When 1 second passes
    Then pod "duo" is in state "ContainerCreating"
    And the pod "duo" matches:
      """
      status:
        phase: Pending
        conditions:
        - type: ContainersReady
          status: "False"
          message: "containers with unready status: [slow]"
      """
    When 4 seconds pass
    Then pod "duo" is in state "Running"
    And pod "duo" is ready
