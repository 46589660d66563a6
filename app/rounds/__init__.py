"""Today, walking a round, finishing it."""
