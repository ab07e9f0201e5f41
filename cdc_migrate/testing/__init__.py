"""Test and demo helpers: a throwaway MySQL-protocol server."""
