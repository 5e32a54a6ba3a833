"""Leadcycle: the whole lead lifecycle of a B2B marketing and sales team."""
