"""embodied: train, evaluate and replay embodied agents; plan with an experience memory."""
__version__ = "0.1.0"
