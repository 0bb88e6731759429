"""Flower App (ServerApp + ClientApp) for the MLP expert with SecAgg+. Started by ../../run.py."""
