"""Home, language switch, photos and error pages."""
