"""The simulated ELICENSE as a process of its own, on its roster port (``kzgate up`` runs it)."""

from simulators.elicensing.assembly import SYSTEM, create_app
from simulators.kit.launch import serve

serve(SYSTEM, create_app)
