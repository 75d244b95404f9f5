Feature: The HPA scales a Deployment in the middle of a rollout (proportional scaling)
  The HPA writes spec.replicas through the scale subresource; the Deployment controller spreads
  the change over the old and new ReplicaSets in proportion to their sizes (spec §1.12).

  Scenario: a scale-up during a slow rollout is shared between the replica sets
    Given image "web:v2" starts in 3 minutes
    And a deployment "web" with 4 replicas of image "web:v1" requesting 100m CPU
    And deployment "web" is autoscaled from 1 to 10 replicas at 50% CPU
    When deployment "web" receives a total CPU load of 360m
    And I set the image of deployment "web" to "web:v2"
    # The rollout starts with 25% surge and unavailability: old 3, new 2. The 3 ready v1 pods
    # carry 360m: 120%, ratio 2.4, raw ceil(2.4 × 3) = 8, which the legacy limit allows
    # (max(2 × 4, 4) = 8). The Deployment goes from 4 to 8; its controller scales each set by
    # 8/4 of its size (old 3 → 6, new 2 → 4), 10 pods with the new surge of 2.
    Then within 1 minute deployment "web" has 8 replicas
    And the replica sets of deployment "web" went through:
      | old | new |
      | 4   | 0   |
      | 4   | 1   |
      | 3   | 1   |
      | 3   | 2   |
      | 6   | 2   |
      | 6   | 4   |
    And the rollout of deployment "web" completes within 10 minutes
    And revision 2 of deployment "web" has 8 replicas
    And all pods of deployment "web" run image "web:v2"
