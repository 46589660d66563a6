"""Domain rules as plain functions: they take a session and models, never a request."""
