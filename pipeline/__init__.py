"""The self-mutating delivery pipeline of the IoT sensor platform."""
