# shuttle-policy(5): added by the policy work
