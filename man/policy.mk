# shuttle-policy(5): the policy language.
dist_man_MANS += man/shuttle-policy.5
