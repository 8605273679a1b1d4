"""campaign-sim: learn, train and vet CRM campaign policies before launch."""

__version__ = "0.1.0"
