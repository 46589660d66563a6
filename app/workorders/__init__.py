"""Work orders: team queues and order pages."""
