"""Policy Q&A: residents' free-text questions answered from the keyword knowledge base."""
from handlers.policy_qa.router import build_router

__all__ = ["build_router"]
