"""Qt bridges: the only place where Qt meets threads, devices and the store (widgets never do)."""
