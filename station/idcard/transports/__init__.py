"""Transports: each way a certified reader reaches the station, behind the one ``Reader`` interface."""
