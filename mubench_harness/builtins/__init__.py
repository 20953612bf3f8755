"""The core's own components, registered as ordinary plugins."""
