"""Importers: parse the exports users already have, map them to the canonical tables, load atomically."""
