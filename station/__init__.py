"""The county capture station for Inner Mongolia's high-school exam registration (考籍注册)."""

__version__ = "0.1.0"
