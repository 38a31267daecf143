"""Reading and checking data: CSV, profile, roles, validation, samples, split, encoding."""
