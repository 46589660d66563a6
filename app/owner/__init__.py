"""The owner's private link: no account, their unit only."""
