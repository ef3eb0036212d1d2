"""The frames layer of extend_frames (see docs/ARCHITECTURE.md)."""
