"""The IoT sensor platform: TapStack and one construct per concern."""
