"""Built-in plugins, registered through the same entry points third-party plugins use."""
