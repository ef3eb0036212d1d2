"""The store layer of extend_frames (see docs/ARCHITECTURE.md)."""
