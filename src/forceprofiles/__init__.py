"""Force Profiles: monthly force threat profiles from several police forces' records."""

__version__ = "0.1.0"
