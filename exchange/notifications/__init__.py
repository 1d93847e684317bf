"""Notifications: the in-app inbox, and email and webhook copies sent with retries."""
