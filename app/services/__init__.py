"""Domain rules as plain functions: they take a session and models, never a request.

They read their words from app.labels (below them), never from app.template_helpers (above them)."""
