"""The deterministic demo-data generator: synthetic customers and a year of the firm's life."""
