"""Today, walking a round, finishing it, its PDF report."""
