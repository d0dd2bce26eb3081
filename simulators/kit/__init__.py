"""Shared toolkit of the simulators: state identifiers (IIN/BIN) and other cross-system helpers."""
