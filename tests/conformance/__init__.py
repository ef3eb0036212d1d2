"""Strict conformance of the emulator's wire JSON to the official SDKs' types."""
