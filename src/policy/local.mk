# Policy engine (src/policy): filled in by the policy work.
