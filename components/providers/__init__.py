"""Kept only so stacks made before components/migrations/ existed can still refresh: their state
pickled the migrations' dynamic provider by its old module path (see migrations.py here)."""
