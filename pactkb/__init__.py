"""pactkb: knowledge base and semantic search over law-enforcement guidelines."""
__version__ = "0.1.0"
