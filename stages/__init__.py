"""Stages of the platform and the typed, validated configuration that chooses each environment."""
