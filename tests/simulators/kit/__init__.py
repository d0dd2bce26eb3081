"""Tests of the shared simulator kit: clock, calendar, faults, fixtures."""
