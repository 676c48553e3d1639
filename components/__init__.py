"""Mentora infrastructure components: one ComponentResource per file (mentora:infra:<Class>)."""
