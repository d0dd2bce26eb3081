"""The simulated PEP as a process of its own, on its roster port (``kzgate up`` runs it)."""

from simulators.kit.launch import serve
from simulators.payments.service import SYSTEM, create_app

serve(SYSTEM, create_app)
