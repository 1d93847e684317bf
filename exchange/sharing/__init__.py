"""Sharing applications, grants, deliveries and objections."""
