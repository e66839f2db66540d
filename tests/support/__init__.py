"""What the test areas share, written once: the dbt harness, the event factory, the independent
reference implementation of SPEC section 5, the mart comparison, the random streams, the hand-worked
fixture, and a search for rows that mention a user."""
