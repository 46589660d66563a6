"""Pre-handover mock inspection with owners (模拟验收)."""
