"""A local Extend-compatible emulator (see docs/ARCHITECTURE.md). Imports nothing from the client."""
