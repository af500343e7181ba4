"""Command-line subcommands of ``station`` that belong to no single device or layer."""
