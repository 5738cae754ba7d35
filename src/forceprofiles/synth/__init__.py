"""The synthetic multi-force world: the embedded default data and the yardstick."""
