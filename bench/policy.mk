# policy decision benchmark: added by the policy work
