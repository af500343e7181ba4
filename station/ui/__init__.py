"""Widgets of the desk GUI. They show and drive ``station.services``; they never touch devices or the store."""
