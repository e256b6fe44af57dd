"""The Stage that deploys one environment of the platform."""
