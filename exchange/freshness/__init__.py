"""Freshness: the scheduled scan that flags stale and unmounted entries and chases their owners."""
