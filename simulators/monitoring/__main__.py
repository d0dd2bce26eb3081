"""The simulated MONITORING as a process of its own, on its roster port (``kzgate up`` runs it)."""

from simulators.kit.launch import serve
from simulators.monitoring.service import SYSTEM, create_app

serve(SYSTEM, create_app)
