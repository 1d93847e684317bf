"""Users bound to departments with a role, and their API tokens."""
