"""Tests of middlewares: the mechanism and normalize_path_middleware."""
