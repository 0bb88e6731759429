"""Flower federation for the engine's MLP expert (see README.md)."""
