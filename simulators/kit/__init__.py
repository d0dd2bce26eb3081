"""Shared toolkit of the simulators: the SOAP endpoints (provider, participant, inbox), state
identifiers (IIN/BIN), business time (clock, working calendar), fault injection and fixtures."""
