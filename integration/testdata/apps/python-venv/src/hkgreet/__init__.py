"""A tiny HTTP service installed into a virtual environment."""
