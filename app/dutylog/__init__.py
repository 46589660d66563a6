"""The duty log (工作日志) and the morning briefing, with the appearance checks made there."""
